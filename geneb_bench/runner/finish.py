"""The end of a run: the tables and ``run.json``, rebuilt from every result file of the run's suite.

Shared by the pytest plugin (``plugin.reporting``, on the controller) and the Python API (``runner.api``),
so both produce byte-identical tables from the same results. The tables cover every result of the run's
suite (and protocol variant) in the results directory, not only this run's items: a ``-k promoters`` rerun
never shrinks ``leaderboard.md`` to one category.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from geneb_bench import locks
from geneb_bench.environment import accelerator, git_commit, machine
from geneb_bench.io import atomic_write_text
from geneb_bench.locks import LockTimeout, holding, tell
from geneb_bench.results.notes import FAILED_KEY
from geneb_bench.results.provenance import IncompatibleResults
from geneb_bench.results.record import package_versions, scope_name
from geneb_bench.results.render import write_reports
from geneb_bench.results.resultset import ResultSet
from geneb_bench.runner.settings import Settings

if TYPE_CHECKING:
    from geneb_bench.data.audit import TaskAudit


@dataclass
class RunOutputs:
    table: ResultSet  # what the tables show: every result of the run's suite in the results directory
    written: list[Path] = field(default_factory=list)
    note: str | None = None  # why the tables show this run's results only, when they do
    plan_line: str | None = None  # the plan (``geneb plan --save``) next to what the run took


def suite_results(settings: Settings, run: ResultSet) -> tuple[ResultSet, str | None]:
    """Every result of the run's suite (and variant) under the results directory, or the run's own with
    the reason when the others cannot share its table (e.g. an earlier revision of one of its models)."""
    scopes = {scope_name(r.suite, r.protocol) for r in run}
    if len(scopes) != 1 or "" in scopes:
        return run, None
    try:
        return ResultSet.load(settings.results_dir, suite=scopes.pop()), None
    except (IncompatibleResults, ValueError) as exc:
        return run, f"the tables show this run's results only, not the earlier ones: {exc}"


def run_verdict(broken: Iterable[str], problems: int, measured: int) -> str | None:
    """Why a run measured too little to pass (None: it did): a selected model produced nothing, or no item
    did. The pytest run fails on it (``plugin.reporting``) and ``geneb_bench.run`` raises it, each unless
    skips are allowed."""
    models = sorted(set(broken))
    if models:
        return (
            f"{len(models)} selected model(s) could not be loaded ({', '.join(models)}); "
            f"{problems} item(s) skipped, {measured} measured"
        )
    if problems and not measured:
        return f"no item produced a result ({problems} skipped)"
    return None


def write_run_outputs(
    settings: Settings,
    results: ResultSet,
    resumed: Iterable[str],
    wall_s: float,
    audits: dict[str, TaskAudit] | None = None,
    failures: list[dict[str, object]] | None = None,
    notify: Callable[[str], None] = tell,
) -> RunOutputs:
    """Write ``leaderboard.md/.csv/.tex``, ``results.csv`` and ``run.json``.

    Task ``audits`` (default: as ``settings.audit`` asks, see ``runner.audits``) add the audit tables;
    ``failures`` (failed items by cause) go into ``run.json``.
    Reading the suite's result files and writing the tables is one step under a lock on the results folder:
    two runs sharing it could otherwise finish in one order and write their tables in the other, the last
    table missing the items the other run finished meanwhile. Waiting for it is said (``notify``) after a few
    seconds; at ``settings.lock_timeout_s`` it raises ``TablesLockTimeout`` and writes nothing (the result
    files are already written: ``geneb report`` rebuilds the tables)."""
    results_dir = settings.results_dir
    with _tables_lock(results_dir, settings.lock_timeout_s, notify):
        table, note = suite_results(settings, results)
        if audits is None:
            from geneb_bench.runner.audits import run_audits

            audits = run_audits(settings, table.results)
        outputs = RunOutputs(table, write_reports(table.frame, results_dir, audits), note)
    first = results.results[0] if len(results) else None
    summary: dict[str, object] = {
        "suite": first.suite if first else settings.suite,
        "protocol": first.protocol if first else None,
        "models": list(settings.models),
        # the commit each model ran at (hub branches resolved through geneb.lock)
        "model_revisions": {s.key: s.revision for s in settings.specs},
        "regimes": [r.name for r in settings.regimes],
        "seeds": list(settings.seeds),
        "probe_implementation": settings.probe_backend,
        "shard": list(settings.shard) if settings.shard else None,
        "items": len(results),
        "table_items": len(table),
        "resumed": len(set(resumed)),
        "wall_s": round(wall_s, 2),
        "git_commit": git_commit(),
        "machine": machine(),
        "accelerator": accelerator(),
        "versions": package_versions(),
    }
    from geneb_bench.plan import run_summary

    summary["resources"], outputs.plan_line = run_summary(results_dir, results.results, wall_s)
    if failures is not None:  # the plugin's run: its failed items by cause (results.notes.group_failures)
        summary[FAILED_KEY] = failures
    run = atomic_write_text(results_dir / "run.json", json.dumps(summary, indent=2) + "\n")
    outputs.written.append(run)
    return outputs


class TablesLockTimeout(LockTimeout):
    """Waited ``--geneb-lock-timeout`` for another run's table write: the tables are not written (the result
    files are), rather than written without the lock."""


@contextlib.contextmanager
def _tables_lock(results_dir: Path, timeout_s: float, notify: Callable[[str], None] = tell) -> Iterator[None]:
    """An exclusive lock on ``results_dir``'s tables, saying who holds it after a few seconds of waiting and
    raising ``TablesLockTimeout`` at the timeout; none where the folder cannot hold a lock file (the writes
    themselves then say what is wrong)."""
    with contextlib.ExitStack() as stack:
        try:
            results_dir.mkdir(parents=True, exist_ok=True)
            stack.enter_context(
                holding(
                    results_dir / ".geneb-tables.lock",
                    what="the results folder's tables lock",
                    timeout_s=timeout_s,
                    fix="Stop it, or raise --geneb-lock-timeout.",
                    notice_after=locks.LOCK_NOTICE_S,
                    notify=notify,
                    error=TablesLockTimeout,
                )
            )
        except OSError:  # no lock file possible here (read-only folder): the writes say what is wrong
            pass
        yield
