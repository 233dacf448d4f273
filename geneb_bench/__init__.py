"""geneb-bench: the GENEB protocol as a pytest benchmark, and as a Python API (``geneb_bench.run``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["ResultSet", "__version__", "run"]

if TYPE_CHECKING:
    from geneb_bench.results.resultset import ResultSet
    from geneb_bench.runner.api import run


def __getattr__(name: str) -> Any:
    """``run`` and ``ResultSet`` on first use: ``import geneb_bench`` (the plugin, the CLI) stays cheap."""
    if name == "run":
        from geneb_bench.runner.api import run

        return run
    if name == "ResultSet":
        from geneb_bench.results.resultset import ResultSet

        return ResultSet
    raise AttributeError(f"module 'geneb_bench' has no attribute {name!r}")
