"""What a benchmark run is asked to do, independent of how it was asked (pytest options, the Python API).

``Settings`` is plain data: the plugin builds it from pytest's options, ``geneb_bench.run()`` from keyword
arguments, and the runner reads nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from geneb_bench.protocol import PROBE, Regime

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
    reembed: bool = (
        False  # vectors from the model, never from the cache or the sequence store (implies rerun)
    )
    baseline: Path | None = None
    baseline_tolerance: float = 0.02
    baseline_allow_missing: bool = (
        False  # an item without a baseline item passes (the empty gate still fails)
    )
    probe_backend: str = "sklearn"  # the probe's implementation (``probe.registry``)
    long_input: str = "truncate"
    progress: bool = False  # force the progress bar (otherwise: auto)
    memory_gb: float = 4.0  # EmbeddingStore bound
    audit: str = "cached"  # task audit: cached, on, off, fail-on=fail, fail-on=warn (plugin.audit)
    probe: str = PROBE  # which probe (``probe.registry``): the protocol's unless a user registered another
    lock_timeout_s: float = 1800.0  # waiting for a cache entry another process computes
    allow_skips: bool = False  # a run where a model cannot load or nothing was measured still passes
    # The resolved models, once per process (a local checkpoint is fingerprinted by listing its files);
    # derived from ``models`` when not given.
    specs: tuple[ModelSpec, ...] = ()

    def __post_init__(self) -> None:
        from geneb_bench.probe.registry import get_probe

        get_probe(self.probe, self.probe_backend)  # an unknown probe or implementation: ValueError, up front
        if not self.specs:
            from geneb_bench.models.registry import resolve_models

            object.__setattr__(self, "specs", tuple(resolve_models(self.models)))

    @property
    def audit_fail_on(self) -> str | None:
        """The verdict that refuses a task's items (FAIL or WARN), or None without the gate."""
        return self.audit.removeprefix("fail-on=").upper() if self.audit.startswith("fail-on=") else None
