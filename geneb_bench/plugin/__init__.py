"""The geneb pytest plugin (entry point ``pytest11: geneb``).

Hooks only; the engine is the pytest-free runner (``geneb_bench.runner``), the table at the end is
``reporting``. The plugin is inert unless the run is a GENEB run: GENEB items are collected (a module uses
the ``geneb_item`` fixture), a ``--geneb-*`` option is given, or a conftest declares ``GENEB_BENCHMARK =
True`` (the repository's ``suites/conftest.py``). Otherwise it builds no settings and no session, installs no
scheduler, rewrites no option and imports nothing heavy: installing a benchmark must never change a lab's
other test suites.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import pytest

from geneb_bench.categories import CATEGORIES
from geneb_bench.plugin.options import add_options, explicit_options, settings_from_config

if TYPE_CHECKING:
    from geneb_bench.plugin.baseline import Baseline
    from geneb_bench.plugin.reporting import RunReport
    from geneb_bench.results.record import ItemResult
    from geneb_bench.runner.session import BenchItem, ExtraFields, GenebSession
    from geneb_bench.runner.settings import Settings

ITEM_FIXTURE = "geneb_item"
_SESSION = pytest.StashKey["GenebSession"]()
_SETTINGS = pytest.StashKey["Settings"]()
_REPORT = pytest.StashKey["RunReport"]()
_REPORT_NAME = "geneb-run-report"


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """The ``pytest_geneb_*`` hooks a conftest.py implements (``hookspec``); registering them is all."""
    from geneb_bench.plugin import hookspec

    pluginmanager.add_hookspecs(hookspec)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def is_geneb_run(config: pytest.Config) -> bool:
    """Whether this pytest run is a benchmark run (decided without collecting: see the module doc)."""
    if explicit_options(config):
        return True
    return any(
        getattr(plugin, "GENEB_BENCHMARK", False) is True for plugin in config.pluginmanager.get_plugins()
    )


def settings(config: pytest.Config) -> Settings:
    """The run's settings, built on first use (never in a run that does not use them), after the models
    and suites that conftest.py files register through the hooks."""
    if _SETTINGS not in config.stash:
        _register_extensions(config)
        config.stash[_SETTINGS] = settings_from_config(config)
    return config.stash[_SETTINGS]


def _register_extensions(config: pytest.Config) -> None:
    """Models and suites from ``pytest_geneb_register_models`` / ``_tasks``; a bad one is a usage error."""
    from pathlib import Path

    from geneb_bench.data.suites import Suite, register_suite
    from geneb_bench.models.base import ModelSpec
    from geneb_bench.models.registry import register_model

    try:
        for specs in config.hook.pytest_geneb_register_models(config=config):
            for spec in specs or ():
                if not isinstance(spec, ModelSpec):
                    raise ValueError(f"pytest_geneb_register_models returned {spec!r}, not a ModelSpec")
                register_model(spec)
        for suites in config.hook.pytest_geneb_register_tasks(config=config):
            for suite in [suites] if isinstance(suites, Suite | str | Path) else suites or ():
                register_suite(suite)
    except ValueError as exc:
        raise pytest.UsageError(f"geneb: {exc}") from None


def result_fields(item: pytest.Item) -> ExtraFields:
    """``item``'s ``pytest_geneb_result_fields``, merged (the plugin registered last wins), checked to be JSON."""
    import json

    def fields(result: ItemResult) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for extra in reversed(item.config.hook.pytest_geneb_result_fields(result=result, item=item)):
            merged.update(extra or {})
        try:
            json.dumps(merged)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"pytest_geneb_result_fields: the fields must be JSON values: {exc}") from None
        return merged

    return fields


def pytest_configure(config: pytest.Config) -> None:
    for category in CATEGORIES:
        config.addinivalue_line("markers", f"{category.slug}: GENEB category {category.name}")
    config.addinivalue_line("markers", "geneb: a GENEB benchmark item (model x task x regime)")
    if not is_geneb_run(config):
        if not hasattr(config, "workerinput"):
            config.pluginmanager.register(_GenebItemWatcher(config), "geneb-item-watcher")
        return
    run = settings(config)  # option errors are usage errors now, before any collection
    if run.audit not in ("cached", "off"):
        from geneb_bench.plugin.audit import AuditGate, require_seqleak

        require_seqleak(run)
        if run.audit_fail_on:
            config.pluginmanager.register(AuditGate(run), "geneb-audit-gate")
    if hasattr(config, "workerinput"):
        _pin_worker_gpu()
    else:  # the controller (or a serial run) checks the options, then builds the table
        from geneb_bench.preflight import check_settings

        try:  # before any work: bad locations, seeds, device, result names (exit 4)
            check_settings(settings(config))
        except ValueError as exc:
            raise pytest.UsageError(f"geneb: {exc}") from None
        _run_report(config)


def _run_report(config: pytest.Config) -> RunReport:
    if _REPORT not in config.stash:
        from geneb_bench.plugin.reporting import RunReport

        config.stash[_REPORT] = RunReport(settings(config))
        config.pluginmanager.register(config.stash[_REPORT], _REPORT_NAME)
    return config.stash[_REPORT]


class _GenebItemWatcher:
    """In a run not known as a GENEB run up front (``pytest some/dir`` holding a benchmark module under
    xdist, whose controller collects nothing), starts the run report on the first GENEB item's report.
    Passive: it looks at report keywords only."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if "geneb" in report.keywords and _REPORT not in self.config.stash:
            _run_report(self.config).pytest_runtest_logreport(report)


def _pin_worker_gpu() -> None:
    """One GPU per xdist worker: ``gw<i>`` sees GPU ``i mod n`` (before anything initialises CUDA).

    Counted with ``nvidia-smi -L`` so that torch is not imported here; a user's own
    ``CUDA_VISIBLE_DEVICES`` always wins.
    """
    import os
    import re
    import shutil
    import subprocess

    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    match = re.fullmatch(r"gw(\d+)", worker)
    if match is None or "CUDA_VISIBLE_DEVICES" in os.environ or shutil.which("nvidia-smi") is None:
        return
    listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, check=False).stdout
    gpus = [line for line in listing.splitlines() if line.startswith("GPU ")]
    if gpus:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(int(match[1]) % len(gpus))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """In a GENEB run: a plain ``-n N`` (``load``, not chosen by the user) or ``loadgroup`` gets the crash-safe,
    model-grouping scheduler (see ``scheduling``). Anything else, and every non-GENEB run: xdist's own."""
    dist = config.getvalue("dist")
    if (
        not is_geneb_run(config)
        or dist not in {"load", "loadgroup"}
        or (dist == "load" and _dist_given(config))
    ):
        return None
    from geneb_bench.plugin.scheduling import CrashSafeLoadGroupScheduling

    return CrashSafeLoadGroupScheduling(config, log)


def _dist_given(config: pytest.Config) -> bool:
    """Whether ``--dist``/``-d`` was given anywhere: command line, ``PYTEST_ADDOPTS`` or the ini ``addopts``."""
    import os
    import shlex

    sources = [str(a) for a in config.invocation_params.args]
    sources += shlex.split(os.environ.get("PYTEST_ADDOPTS", ""))
    sources += [str(a) for a in config.getini("addopts")]
    return any(a == "--dist" or a.startswith("--dist=") or a == "-d" or a == "--distload" for a in sources)


def get_session(config: pytest.Config) -> GenebSession:
    """The process's benchmark session, created on first use (collection of a benchmark module)."""
    if _SESSION not in config.stash:
        from geneb_bench.runner.session import GenebSession

        try:
            config.stash[_SESSION] = GenebSession(config.stash[_SETTINGS])
        except ValueError as exc:
            raise pytest.UsageError(f"geneb: {exc}") from None
        config.stash[_SESSION].cache.notify = _live_notice(config)
        from geneb_bench.plugin.progress import ExtractionProgress

        # the extraction bar past pytest's capture; under xdist, heartbeats to the controller
        config.pluginmanager.register(ExtractionProgress(config), "geneb-extraction-progress")
    return config.stash[_SESSION]


def _live_notice(config: pytest.Config) -> Callable[[str], None]:
    """A line on the terminal now, past pytest's output capture (a lock wait must not be silent)."""
    import sys

    capture = config.pluginmanager.getplugin("capturemanager")

    def notify(message: str) -> None:
        with capture.global_and_fixture_disabled() if capture is not None else nullcontext():
            print(f"geneb: {message}", file=sys.stderr, flush=True)

    return notify


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if ITEM_FIXTURE not in metafunc.fixturenames:
        return
    session = get_session(metafunc.config)
    params = [
        pytest.param(
            item,
            id=item.id,
            marks=[
                pytest.mark.geneb,
                getattr(pytest.mark, item.task.slug),
                pytest.mark.xdist_group(item.model.key),
            ],
        )
        for item in session.plan()
    ]
    metafunc.parametrize(ITEM_FIXTURE, params)


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    """The extraction recipe of every model named with ``--geneb-model``, before anything runs."""
    if not config.getoption("geneb_model") or hasattr(config, "workerinput"):
        return None
    from geneb_bench.models.recipe import describe_recipe

    return [f"geneb model {describe_recipe(spec)}" for spec in settings(config).specs]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--geneb-shard i/n``: keep this shard's (model, task) groups, deselect the rest."""
    if not config.getoption("geneb_shard"):
        return
    shard = settings(config).shard
    assert shard is not None
    from geneb_bench.plugin.sharding import assign_shards

    groups: dict[str, float] = {}
    for item in items:
        bench = _bench_item(item)
        if bench is not None:
            groups[bench.group] = groups.get(bench.group, 0.0) + 1.0
    assignment = assign_shards(groups, shard[1])
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        bench = _bench_item(item)
        (drop if bench is not None and assignment[bench.group] != shard[0] else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def geneb_baseline(request: pytest.FixtureRequest) -> Baseline | None:
    """The ``--geneb-baseline`` results, or None."""
    run = settings(request.config)
    if run.baseline is None:
        return None
    from geneb_bench.plugin.baseline import Baseline

    return Baseline(run.baseline, run.baseline_tolerance, run.baseline_allow_missing)


@pytest.fixture(scope="session")
def geneb_session(request: pytest.FixtureRequest) -> GenebSession:
    return get_session(request.config)


def _bench_item(item: pytest.Item | None) -> BenchItem | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get(ITEM_FIXTURE) if callspec is not None else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, Any, Any]:
    try:
        return (yield)
    finally:
        current = _bench_item(item)
        if current is not None and _SESSION in item.config.stash:
            item.config.stash[_SESSION].after_item(current, _bench_item(nextitem))


def pytest_unconfigure(config: pytest.Config) -> None:
    if _SESSION in config.stash:
        config.stash[_SESSION].close()
