"""geneb-bench: the GENEB protocol as a pytest benchmark."""

from __future__ import annotations

__version__ = "0.1.0"
