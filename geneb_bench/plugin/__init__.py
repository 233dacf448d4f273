"""The geneb pytest plugin (entry point ``pytest11: geneb``).

Hooks only; the work is in ``session`` (planning and running items) and ``reporting`` (the table at the
end). Importing this module is cheap: torch, sklearn and pandas load only when a benchmark item exists,
so the plugin costs nothing in unrelated pytest runs.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from geneb_bench.categories import CATEGORIES
from geneb_bench.plugin.options import Settings, add_options

if TYPE_CHECKING:
    from geneb_bench.plugin.baseline import Baseline
    from geneb_bench.plugin.session import BenchItem, GenebSession

ITEM_FIXTURE = "geneb_item"
_SESSION = pytest.StashKey["GenebSession"]()
_SETTINGS = pytest.StashKey[Settings]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    for category in CATEGORIES:
        config.addinivalue_line("markers", f"{category.slug}: GENEB category {category.name}")
    config.addinivalue_line("markers", "geneb: a GENEB benchmark item (model x task x regime)")
    settings = Settings.from_config(config)
    config.stash[_SETTINGS] = settings
    if hasattr(config, "workerinput"):
        _pin_worker_gpu()
    if config.pluginmanager.hasplugin("xdist") and config.getoption("dist", "no") == "load" and not _dist_given(config):
        # A plain ``-n N``: keep each model's items on one worker (loaded once); ungrouped tests behave as under load.
        config.option.dist = "loadgroup"
    if not hasattr(config, "workerinput"):  # the controller (or a serial run) builds the table
        from geneb_bench.plugin.reporting import RunReport

        config.pluginmanager.register(RunReport(settings), "geneb-run-report")


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
    """``loadgroup`` with xdist's handling of a crashed worker fixed (see ``scheduling``); other modes as is."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from geneb_bench.plugin.scheduling import CrashSafeLoadGroupScheduling

    return CrashSafeLoadGroupScheduling(config, log)


def _dist_given(config: pytest.Config) -> bool:
    args = [str(a) for a in config.invocation_params.args]
    return any(a == "--dist" or a.startswith("--dist=") or a.startswith("-d") or a == "--distload" for a in args)


def get_session(config: pytest.Config) -> GenebSession:
    """The process's benchmark session, created on first use (collection of a benchmark module)."""
    if _SESSION not in config.stash:
        from geneb_bench.plugin.session import GenebSession

        try:
            config.stash[_SESSION] = GenebSession(config.stash[_SETTINGS])
        except ValueError as exc:
            raise pytest.UsageError(f"geneb: {exc}") from None
    return config.stash[_SESSION]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if ITEM_FIXTURE not in metafunc.fixturenames:
        return
    session = get_session(metafunc.config)
    params = [
        pytest.param(
            item,
            id=item.id,
            marks=[pytest.mark.geneb, getattr(pytest.mark, item.task.slug), pytest.mark.xdist_group(item.model.key)],
        )
        for item in session.plan()
    ]
    metafunc.parametrize(ITEM_FIXTURE, params)


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    """The extraction recipe of every model named with ``--geneb-model``, before anything runs."""
    if not config.getoption("geneb_model") or hasattr(config, "workerinput"):
        return None
    from geneb_bench.models.recipe import describe_recipe

    return [f"geneb model {describe_recipe(spec)}" for spec in config.stash[_SETTINGS].specs]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--geneb-shard i/n``: keep this shard's (model, task) groups, deselect the rest."""
    shard = config.stash[_SETTINGS].shard
    if shard is None:
        return
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
    settings = request.config.stash[_SETTINGS]
    if settings.baseline is None:
        return None
    from geneb_bench.plugin.baseline import Baseline

    return Baseline(settings.baseline, settings.baseline_tolerance)


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
