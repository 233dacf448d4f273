"""Command-line options of the plugin and the settings object built from them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from geneb_bench.plugin.sharding import parse_shard
from geneb_bench.protocol import REGIMES, SEEDS, Regime, get_regime

if TYPE_CHECKING:
    from geneb_bench.models.base import ModelSpec


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("geneb", "GENEB benchmark (geneb-bench)")
    group.addoption("--geneb-suite", default="lite", help="task suite: lite (default, built-in), geneb (the 100 published tasks) or a path to a .toml suite file")
    group.addoption("--geneb-model", action="append", default=None, metavar="MODEL", help="model to run (repeatable): a registry key (see `geneb models`), a hub id org/name[@revision] or a local checkpoint path; 'baselines' stands for the built-in default set (used when the option is absent)")
    group.addoption("--geneb-regimes", default=",".join(r.name for r in REGIMES), help="comma-separated regimes (default: full,10shot,1shot)")
    group.addoption("--geneb-seeds", default=",".join(map(str, SEEDS)), help="comma-separated probe seeds (default: 13,17,42,123,997)")
    group.addoption("--geneb-data-dir", default=os.environ.get("GENEB_DATA_DIR"), help="local copy of the GENEB data, tasks/<task_id>/{train,test}.csv (env GENEB_DATA_DIR)")
    group.addoption("--geneb-cache-dir", default=os.environ.get("GENEB_CACHE_DIR"), help="embedding cache (env GENEB_CACHE_DIR; default: the user cache directory)")
    group.addoption("--geneb-results-dir", default=None, help="where result JSON files and tables go (default: reports/ under the rootdir)")
    group.addoption("--geneb-rerun", action="store_true", default=False, help="recompute items whose result file already exists for the same model, task data, protocol and seeds (default: load them)")
    group.addoption("--geneb-shard", default=None, metavar="I/N", help="run shard I of N (0-based): a deterministic, balanced share of the (model, task) groups")
    group.addoption("--geneb-baseline", default=None, metavar="RESULTS", help="results directory of a previous run: items whose MCC falls below it by more than the tolerance fail")
    group.addoption("--geneb-baseline-tolerance", default=0.02, type=float, help="allowed MCC drop for --geneb-baseline (default 0.02)")
    group.addoption("--geneb-probe-backend", default="sklearn", choices=("sklearn", "torch"), help="logistic probe: sklearn (default: the published protocol, exactly) or torch (opt-in: sklearn's L-BFGS-B and stopping rule, objective evaluated by torch on --geneb-device, fits batched; recorded in every result)")
    group.addoption("--geneb-long-input", default="truncate", choices=("truncate", "window"), help="inputs longer than the model's token limit: truncate (default, the GENEB protocol) or window (opt-in: consecutive windows at the limit, embeddings averaged; recorded in the cache key and results)")
    group.addoption("--geneb-progress", action="store_true", default=False, help="show the extraction progress bar even under xdist workers and CI (default: large tasks only, interactive runs only)")
    group.addoption("--geneb-memory-gb", default=4.0, type=float, help="bound on embeddings held in memory between a task's regimes, host and probe-device copies together; least recently used pairs go first (default 4)")
    group.addoption("--geneb-device", default="auto", choices=("auto", "cpu", "cuda"), help="where models run (auto: cuda when available)")


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@dataclass(frozen=True)
class Settings:
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
    # The resolved models, once per process (a local checkpoint is fingerprinted by listing its files);
    # derived from ``models`` when not given.
    specs: tuple[ModelSpec, ...] = ()

    def __post_init__(self) -> None:
        if not self.specs:
            from geneb_bench.models.registry import resolve_models

            object.__setattr__(self, "specs", tuple(resolve_models(self.models)))

    @classmethod
    def from_config(cls, config: pytest.Config) -> Settings:
        from platformdirs import user_cache_dir

        from geneb_bench.models.registry import DEFAULT_MODELS, resolve_models

        models: list[str] = []
        for name in config.getoption("geneb_model") or ["baselines"]:
            models.extend(DEFAULT_MODELS if name == "baselines" else [name])
        try:
            shard_text = config.getoption("geneb_shard")
            shard = parse_shard(shard_text) if shard_text else None
            seeds = tuple(int(s) for s in _csv(config.getoption("geneb_seeds")))
            regimes = tuple(get_regime(r) for r in _csv(config.getoption("geneb_regimes")))
            # resolved here, not at collection, where an error would become a collection error per module
            specs = tuple(resolve_models(dict.fromkeys(models)))
        except ValueError as exc:
            raise pytest.UsageError(f"geneb: {exc}") from None
        if not seeds or not regimes:
            raise pytest.UsageError("geneb: --geneb-seeds and --geneb-regimes must not be empty")
        data_dir = config.getoption("geneb_data_dir")
        cache_dir = config.getoption("geneb_cache_dir") or user_cache_dir("geneb-bench")
        results_dir = config.getoption("geneb_results_dir") or config.rootpath / "reports"
        return cls(
            suite=config.getoption("geneb_suite"),
            models=tuple(dict.fromkeys(models)),
            specs=specs,
            regimes=regimes,
            seeds=seeds,
            data_dir=Path(data_dir).expanduser() if data_dir else None,
            cache_dir=Path(cache_dir).expanduser().resolve(),
            results_dir=Path(results_dir).expanduser().resolve(),
            device=config.getoption("geneb_device"),
            shard=shard,
            rerun=config.getoption("geneb_rerun"),
            baseline=Path(baseline).expanduser().resolve() if (baseline := config.getoption("geneb_baseline")) else None,
            baseline_tolerance=config.getoption("geneb_baseline_tolerance"),
            probe_backend=config.getoption("geneb_probe_backend"),
            long_input=config.getoption("geneb_long_input"),
            progress=config.getoption("geneb_progress"),
            memory_gb=config.getoption("geneb_memory_gb"),
        )
