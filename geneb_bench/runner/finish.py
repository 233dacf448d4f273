"""The end of a run: the tables and ``run.json``, rebuilt from every result file of the run's suite.

Each suite (and protocol variant) has its own tables folder, ``DIR/<suite>[+variant]/`` (``tables_dir``), and
``DIR/index.md`` lists them: a quick variant run (``--geneb-seeds 13``, one task) into the same results
directory writes its own folder and never replaces another run's tables. A ``report.html`` in a folder whose
results changed is marked stale, with the command that rebuilds it.

Shared by the pytest plugin (``plugin.reporting``, on the controller) and the Python API (``runner.api``),
so both produce byte-identical tables from the same results. The tables cover every result of the run's
suite (and protocol variant) in the results directory, not only this run's items: a ``-k promoters`` rerun
never shrinks ``leaderboard.md`` to one category.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from geneb_bench import locks
from geneb_bench.environment import accelerator, git_commit, machine
from geneb_bench.io import atomic_write_text, safe_key
from geneb_bench.locks import LockTimeout, holding, tell
from geneb_bench.results.notes import FAILED_KEY
from geneb_bench.results.provenance import IncompatibleResults
from geneb_bench.results.record import ItemResult, package_versions, scope_name
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
    stale: Path | None = None  # a report.html whose results changed under it (marked, not rebuilt)


STALE_MARK = "<!-- geneb: stale -->"


def table_scope(results: ResultSet | Sequence[ItemResult], fallback: str) -> str:
    """The folder name of ``results``' tables: their suite plus protocol variant (``lite``,
    ``lite+seeds__13``); for an empty set, ``fallback`` (the settings' suite name or file stem); "" for
    results that record no suite (written before suites were recorded: their tables stay at the top)."""
    if not len(results):
        return safe_key(Path(fallback).stem)
    scopes = sorted({scope_name(r.suite, r.protocol) for r in results})
    return scopes[0]


def tables_dir(results_dir: Path, scope: str) -> Path:
    """``DIR/<suite>[+variant]``: where one suite's (or variant's) tables, run.json and report.html go."""
    return Path(results_dir) / scope if scope else Path(results_dir)


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
        folder = tables_dir(results_dir, table_scope(table, settings.suite))
        before = _read_bytes(folder / "results.csv")
        outputs = RunOutputs(table, write_reports(table.frame, folder, audits), note)
        if before != _read_bytes(folder / "results.csv"):
            outputs.stale = mark_stale(folder / "report.html", results_dir)
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
    run = atomic_write_text(folder / "run.json", json.dumps(summary, indent=2) + "\n")
    outputs.written.append(run)
    with _tables_lock(results_dir, settings.lock_timeout_s, notify):
        outputs.written.append(write_index(results_dir))
    return outputs


class TablesLockTimeout(LockTimeout):
    """Waited ``--geneb-lock-timeout`` for another run's table write: the tables are not written (the result
    files are), rather than written without the lock."""


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def rebuild_command(results_dir: Path | str, scope: str) -> str:
    """The command that rebuilds ``scope``'s report.html, as the user types it."""
    return f"geneb report {results_dir} --suite {scope} --html"


def mark_stale(page: Path, results_dir: Path) -> Path | None:
    """Put a banner at the top of ``page`` (a report.html whose results just changed): it shows what it was
    built from, no longer what the tables hold. Rebuilt by ``geneb report ... --html``."""
    try:
        html = page.read_text(encoding="utf-8")
    except OSError:
        return None
    if STALE_MARK not in html:
        banner = (
            f'{STALE_MARK}<p style="background:#fdd;border:2px solid #a00;padding:8px;font-weight:bold">'
            "Stale: the results of this folder changed after this page was built. Rebuild it with "
            f"<code>{rebuild_command(results_dir, page.parent.name)}</code></p>"
        )
        at = html.lower().find("<body")
        at = html.find(">", at) + 1 if at >= 0 else 0
        atomic_write_text(page, html[:at] + banner + html[at:])
    return page


def write_index(results_dir: Path) -> Path:
    """``DIR/index.md``: one row per tables folder (suite or variant) with what its ``run.json`` says."""
    rows = []
    for run_file in sorted(Path(results_dir).glob("*/run.json")):
        folder = run_file.parent
        try:
            run = json.loads(run_file.read_text())
        except (OSError, ValueError):
            run = {}
        page = folder / "report.html"
        html = "none"
        if page.is_file():
            html = (
                "stale"
                if STALE_MARK in page.read_text(encoding="utf-8")
                else f"[report.html]({folder.name}/report.html)"
            )
        models = ", ".join(run.get("models", [])) or "?"
        rows.append(
            f"| [{folder.name}]({folder.name}/leaderboard.md) | {run.get('protocol') or '?'} | {models} | "
            f"{run.get('table_items', '?')} | {', '.join(run.get('regimes', []))} | {html} |"
        )
    text = "\n".join(
        [
            "# GENEB results index (geneb-bench)\n",
            "One folder per suite and protocol variant; each holds leaderboard.md/.csv/.tex, results.csv and "
            "run.json of its own results. A stale report.html is rebuilt with "
            f"`geneb report {results_dir} --suite FOLDER --html`.\n",
            "| tables | protocol | models of the last run | items in the table | regimes | report |",
            "| --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
        ]
    )
    return atomic_write_text(Path(results_dir) / "index.md", text)


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
