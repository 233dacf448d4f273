"""What a benchmark run is asked to do, independent of how it was asked (pytest options, the Python API).

``Settings`` is plain data: the plugin builds it from pytest's options, ``geneb_bench.run()`` from keyword
arguments, and the runner reads nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from geneb_bench.protocol import Regime

if TYPE_CHECKING:
    from geneb_bench.models.base import ModelSpec


def default_cache_dir() -> Path:
    """``$GENEB_CACHE_DIR``, else the user cache directory (``~/.cache/geneb-bench`` on Linux)."""
    import os

    from platformdirs import user_cache_dir

    return Path(os.environ.get("GENEB_CACHE_DIR") or user_cache_dir("geneb-bench"))


@dataclass(frozen=True)
class Settings:
    """One run: which models, tasks, regimes and seeds; where data, cache and results live; how to probe."""

    suite: str
    models: tuple[str, ...]
    regimes: tuple[Regime, ...]
    seeds: tuple[int, ...]
    data_dir: Path | None
    cache_dir: Path
    results_dir: Path
    device: str
    shard: tuple[int, int] | None = None
    rerun: bool = False
    baseline: Path | None = None
    baseline_tolerance: float = 0.02
    probe_backend: str = "sklearn"
    long_input: str = "truncate"
    progress: bool = False  # force the progress bar (otherwise: auto)
    memory_gb: float = 4.0  # EmbeddingStore bound
    allow_skips: bool = False  # a run where a model cannot load or nothing was measured still passes
    # The resolved models, once per process (a local checkpoint is fingerprinted by listing its files);
    # derived from ``models`` when not given.
    specs: tuple[ModelSpec, ...] = ()

    def __post_init__(self) -> None:
        if not self.specs:
            from geneb_bench.models.registry import resolve_models

            object.__setattr__(self, "specs", tuple(resolve_models(self.models)))
