"""Command-line options of the plugin, and the runner's ``Settings`` built from them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from geneb_bench.plugin.sharding import parse_shard
from geneb_bench.protocol import PROBE, REGIMES, SEEDS, get_regime
from geneb_bench.runner.settings import Settings, default_cache_dir

if TYPE_CHECKING:
    from geneb_bench.models.base import ModelSpec

_DEFAULTS: dict[str, object] = {}  # dest -> default of every --geneb-* option (env defaults included)


class _Group:
    """pytest's option group, remembering each option's default (see ``explicit_options``)."""

    def __init__(self, group: pytest.OptionGroup) -> None:
        self.group = group

    def addoption(self, *names: str, **kwargs: object) -> None:
        self.group.addoption(*names, **kwargs)
        dest = str(kwargs.get("dest") or names[0].lstrip("-").replace("-", "_"))
        _DEFAULTS[dest] = kwargs.get("default")


def explicit_options(config: pytest.Config) -> list[str]:
    """The ``--geneb-*`` options this run sets to something other than their default (from any source)."""
    return [dest for dest, default in _DEFAULTS.items() if config.getoption(dest, default) != default]


AUDIT_MODES = ("cached", "on", "off", "fail-on=fail", "fail-on=warn")


def add_options(parser: pytest.Parser) -> None:
    group = _Group(parser.getgroup("geneb", "GENEB benchmark (geneb-bench)"))
    group.addoption(
        "--geneb-suite",
        default="lite",
        help="task suite: lite (default, built-in), geneb (the 100 published tasks) or a path to a .toml suite file",
    )
    group.addoption(
        "--geneb-model",
        action="append",
        default=None,
        metavar="MODEL",
        help="model to run (repeatable): a registry key (see `geneb models`), a hub id org/name[@revision], python:module:function or a local checkpoint path; 'baselines' stands for the built-in default set (used when the option is absent), 'controls' for every built-in control, 'zoo' for the 40 GENEB models; kmer-3 is added as a control unless --geneb-no-controls",
    )
    group.addoption(
        "--geneb-no-controls",
        action="store_true",
        default=False,
        help="run only the models named with --geneb-model (default: kmer-3 is added as a control when none of them is a built-in baseline)",
    )
    group.addoption(
        "--geneb-regimes",
        default=",".join(r.name for r in REGIMES),
        help="comma-separated regimes (default: full,10shot,1shot)",
    )
    group.addoption(
        "--geneb-seeds",
        default=",".join(map(str, SEEDS)),
        help="comma-separated probe seeds (default: 13,17,42,123,997)",
    )
    group.addoption(
        "--geneb-data-dir",
        default=os.environ.get("GENEB_DATA_DIR"),
        help="local copy of the GENEB data, tasks/<task_id>/{train,test}.csv (default: env GENEB_DATA_DIR, else the hub)",
    )
    group.addoption(
        "--geneb-cache-dir",
        default=os.environ.get("GENEB_CACHE_DIR"),
        help="embedding cache (env GENEB_CACHE_DIR; default: the user cache directory)",
    )
    group.addoption(
        "--geneb-results-dir",
        default=None,
        help="where result JSON files and tables go (default: reports/ under the rootdir)",
    )
    group.addoption(
        "--geneb-rerun",
        action="store_true",
        default=False,
        help="recompute items whose result file already exists for the same model, task data, protocol and seeds (default: load them); embeddings still come from the cache (--geneb-reembed recomputes them too)",
    )
    group.addoption(
        "--geneb-reembed",
        action="store_true",
        default=False,
        help="recompute every item and its embeddings from the model, reading no cached vectors (implies --geneb-rerun): fresh vectors whatever the cache holds",
    )
    group.addoption(
        "--geneb-shard",
        default=None,
        metavar="I/N",
        help="run shard I of N (0-based): a deterministic, balanced share of the (model, task) groups (default: all)",
    )
    group.addoption(
        "--geneb-baseline",
        default=None,
        metavar="RESULTS",
        help="results directory of a previous run: items whose MCC falls below it (same model name, task and regime; docs/identity.md) by more than the tolerance fail, so do items without a baseline item and a gate that compared nothing (default: no comparison)",
    )
    group.addoption(
        "--geneb-baseline-tolerance",
        default=0.02,
        type=float,
        help="allowed MCC drop for --geneb-baseline (default 0.02)",
    )
    group.addoption(
        "--geneb-baseline-allow-missing",
        action="store_true",
        default=False,
        help="with --geneb-baseline: an item without a baseline item (same model name, task, regime) passes with a note instead of failing; a gate that compared nothing still fails",
    )
    group.addoption(
        "--geneb-probe",
        default=PROBE,
        help=f"which probe: {PROBE} (default: the protocol's) or one registered with geneb_bench.probe.registry.register_probe (recorded in every result)",
    )
    group.addoption(
        "--geneb-probe-backend",
        default=None,
        metavar="IMPLEMENTATION",
        help="which implementation of the probe (default: the probe's own default); logistic-regression: sklearn (default: the published protocol, exactly) or torch (opt-in: sklearn's L-BFGS-B and stopping rule, objective evaluated by torch on --geneb-device, fits batched); recorded in every result",
    )
    group.addoption(
        "--geneb-long-input",
        default="truncate",
        choices=("truncate", "window"),
        help="inputs longer than the model's token limit: truncate (default, the GENEB protocol) or window (opt-in: consecutive windows at the limit, embeddings averaged; recorded in the cache key and results)",
    )
    group.addoption(
        "--geneb-progress",
        action="store_true",
        default=False,
        help="show the extraction progress bar for every task, also off a terminal and in CI (default: tasks of 2,000+ sequences on a terminal); under xdist, the controller also gets a line after an extraction's first batch; and one line per finished (model, task)",
    )
    group.addoption(
        "--geneb-memory-gb",
        default=4.0,
        type=float,
        help="bound on embeddings held in memory between a task's regimes, host and probe-device copies together; least recently used pairs go first (default 4)",
    )
    group.addoption(
        "--geneb-trust-remote-code",
        action="store_true",
        default=False,
        help="allow remote code of hub models at a branch (a hub id you pass, a zoo entry with [revision=main]): each branch is resolved to its commit once, printed and recorded in the lock file (pinned zoo entries need no flag); also runs a local folder's code files that are not the pinned bytes of model_files.csv (KEY[path=DIR])",
    )
    group.addoption(
        "--geneb-lock-file",
        default=None,
        metavar="PATH",
        help="where hub branches resolved to commits are recorded and reused (default: geneb.lock under the rootdir; commit it)",
    )
    group.addoption(
        "--geneb-audit",
        default="cached",
        choices=AUDIT_MODES,
        help="task audit (seqleak, geneb-bench[audit]) beside the results: cached (default: show audits already in the cache, compute none), on (audit every task of the run), off, fail-on=fail|fail-on=warn (release gate: items of tasks at that verdict fail with the audit's reason and write no result)",
    )
    group.addoption(
        "--geneb-allow-skips",
        action="store_true",
        default=False,
        help="exit 0 even when a selected model cannot load or no item produced a result (default: such a run fails, so a CI never passes a run that measured nothing)",
    )
    group.addoption(
        "--geneb-device",
        default="auto",
        choices=("auto", "cpu", "cuda"),
        help="where models run (default: auto, cuda when available)",
    )
    group.addoption(
        "--geneb-lock-timeout",
        default=1800.0,
        type=float,
        metavar="SECONDS",
        help="give up waiting for an embedding cache entry another process is computing after this long (default 1800); who holds it is shown after a few seconds",
    )


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def settings_from_config(config: pytest.Config) -> Settings:
    """The run's ``Settings`` from pytest's options; a bad value is a usage error naming the option."""
    from geneb_bench.data.suites import missing_suite_file
    from geneb_bench.models.registry import expand_model_names, resolve_models, with_controls
    from geneb_bench.probe.registry import get_probe

    if (missing := missing_suite_file(config.getoption("geneb_suite"))) is not None:
        raise pytest.UsageError(f"geneb: {missing}")
    models = expand_model_names(config.getoption("geneb_model") or ["baselines"])
    if config.getoption("geneb_model") and not config.getoption("geneb_no_controls"):
        models = with_controls(models)
    try:
        shard_text = config.getoption("geneb_shard")
        shard = parse_shard(shard_text) if shard_text else None
        seeds = tuple(int(s) for s in _csv(config.getoption("geneb_seeds")))
        regimes = tuple(get_regime(r) for r in _csv(config.getoption("geneb_regimes")))
        # resolved here, not at collection, where an error would become a collection error per module
        specs = _pin(config, tuple(resolve_models(models)))
        probe = get_probe(config.getoption("geneb_probe"), config.getoption("geneb_probe_backend"))
    except ValueError as exc:
        raise pytest.UsageError(f"geneb: {exc}") from None
    if not seeds or not regimes:
        raise pytest.UsageError("geneb: --geneb-seeds and --geneb-regimes must not be empty")
    for option, values in (("--geneb-seeds", seeds), ("--geneb-regimes", [r.name for r in regimes])):
        if repeated := sorted({str(v) for v in values if list(values).count(v) > 1}):
            # a repeated seed weighs its fit twice in every mean; a repeated regime runs its items twice
            raise pytest.UsageError(
                f"geneb: {option}: {', '.join(repeated)} given more than once; list each once"
            )
    data_dir = config.getoption("geneb_data_dir")
    cache_dir = config.getoption("geneb_cache_dir") or default_cache_dir()
    results_dir = config.getoption("geneb_results_dir") or config.rootpath / "reports"
    return Settings(
        suite=config.getoption("geneb_suite"),
        models=models,
        specs=specs,
        regimes=regimes,
        seeds=seeds,
        data_dir=Path(data_dir).expanduser() if data_dir else None,
        cache_dir=Path(cache_dir).expanduser().resolve(),
        results_dir=Path(results_dir).expanduser().resolve(),
        device=config.getoption("geneb_device"),
        shard=shard,
        rerun=config.getoption("geneb_rerun") or config.getoption("geneb_reembed"),
        reembed=config.getoption("geneb_reembed"),
        baseline=Path(baseline).expanduser().resolve()
        if (baseline := config.getoption("geneb_baseline"))
        else None,
        baseline_tolerance=config.getoption("geneb_baseline_tolerance"),
        baseline_allow_missing=config.getoption("geneb_baseline_allow_missing"),
        probe=probe.probe,
        probe_backend=probe.implementation,
        long_input=config.getoption("geneb_long_input"),
        progress=config.getoption("geneb_progress"),
        memory_gb=config.getoption("geneb_memory_gb"),
        audit=config.getoption("geneb_audit"),
        lock_timeout_s=config.getoption("geneb_lock_timeout"),
        allow_skips=config.getoption("geneb_allow_skips"),
    )


def _pin(config: pytest.Config, specs: tuple[ModelSpec, ...]) -> tuple[ModelSpec, ...]:
    """Hub branches -> commits through the lock file (``models.lockfile``), before anything keys on them."""
    import sys

    from geneb_bench.models.lockfile import LOCK_NAME, pin_specs

    lock = config.getoption("geneb_lock_file") or config.rootpath / LOCK_NAME
    return pin_specs(
        specs,
        Path(lock).expanduser(),
        trust_remote_code=config.getoption("geneb_trust_remote_code"),
        log=lambda line: print(line, file=sys.stderr),
    )
