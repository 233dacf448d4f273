"""The pytest-free runner: settings, the session (plan, resume, embed, probe, write), the end-of-run outputs
and the Python API. The pytest plugin and the ``geneb`` CLI sit on top of it."""
