"""End-of-run reporting on the controller: progress, skips grouped by cause, the verdict and the table.

Registered as a plugin object only on the controller (or a serial run). It reads result paths and skip
causes from each report's ``user_properties``, the one channel that survives the trip from xdist workers,
so ``-n N`` and a serial run build the table from the same files. An item that failed after writing its
result (a baseline regression) still counts: its number is real.

A run that measured nothing is not a success: when a selected model cannot load, or no item produced a
result, the run fails with one summary line (``--geneb-allow-skips`` accepts it). Skips are printed once
per cause, before the table, so hundreds of skipped items never push the table off the screen.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from geneb_bench.locks import LockTimeout
from geneb_bench.plugin.progress import PROGRESS_KEY, Eta, fresh_line, heartbeat_line, parse_item_id

if TYPE_CHECKING:
    import pandas as pd

    from geneb_bench.data.audit import TaskAudit
    from geneb_bench.runner.finish import RunOutputs
    from geneb_bench.runner.settings import Settings

_REASON_CHARS = 300  # a skip reason is shown once per cause, cut to this


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}m{seconds:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


class RunReport:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.paths: list[str] = []
        self.started = time.time()
        self.frame: pd.DataFrame | None = None
        self.outputs: RunOutputs | None = None
        self.regressions: list[str] = []
        self.gate: list[str] = []  # the release gate's summary: what it compared with what (plugin.baseline)
        self.resumed: set[str] = set()
        self.audits: dict[str, TaskAudit] = {}
        self.failure: str | None = None  # why the tables could not be written (shown after the summary)
        self.notes: list[str] = []  # split provenance, embedding health, constant predictions (results.notes)
        self.skips: Counter[tuple[str, str, str]] = Counter()  # (cause, model or task, reason) -> items
        self.failures: list[tuple[str, str]] = []  # (one-line cause, "model / task / regime") of failed items
        self.verdict: str | None = None  # why the run fails although no test failed
        self.total = 0  # GENEB items this run will report (for "items left")
        self.done = 0
        self._groups: dict[tuple[str, str], list[str]] = {}  # (model, task) -> result paths so far
        self._terminal: Any = None
        self.eta = Eta(len(settings.regimes))

    # -- progress -------------------------------------------------------------------------------------
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        ids = [item.nodeid for item in session.items if item.get_closest_marker("geneb") is not None]
        self.total = len(ids)
        self._plan(ids)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if len(ids) > self.total:
            self.total = len(ids)
            self._plan(ids)

    def _plan(self, ids: list[str]) -> None:
        """Which (model, task) items the run holds, from the item ids (all an xdist controller gets)."""
        from geneb_bench.categories import CATEGORIES

        keys = [spec.slot for spec in self.settings.specs]  # item ids name the slot (a [name=...] or folder)
        slugs = [category.slug for category in CATEGORIES]
        self.eta.plan(pair for i in ids if (pair := parse_item_id(i, keys, slugs)) is not None)

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self._terminal = session.config.pluginmanager.get_plugin("terminalreporter")

    def _finished(self, props: dict[str, Any]) -> None:
        """One item is over (a result, a skip or a failure): counted, and out of its model's ETA."""
        self.done += 1
        self.eta.item_done(str(props.get("geneb_model")), str(props.get("geneb_task")))

    def _progress(self, model: str, task: str) -> None:
        """One line per finished (model, task) that took a while (every one with ``--geneb-progress``)."""
        paths = self._groups.pop((model, task), [])
        if self._terminal is None or not paths:
            return
        try:
            results = [json.loads(Path(p).read_text()) for p in paths]
        except (OSError, ValueError):
            return
        embed = max(float(r["timings"].get("embed_s", 0.0)) for r in results)
        probe = sum(float(r["timings"].get("probe_s", 0.0)) for r in results)
        first = results[0]
        self.eta.group_done(model, task, int(first["n_train"]) + int(first["n_test"]), embed + probe)
        if not self.settings.progress and embed + probe < 10.0:
            return
        left = max(0, self.total - self.done)
        eta = self.eta.text(model, _duration) if left else ""
        fresh_line(self._terminal)
        self._terminal.write_line(
            f"geneb: {model} x {task}: {first['n_train']}+{first['n_test']} sequences, dim {first['embedding_dim']}, "
            f"embed {embed:.1f}s, probe {probe:.1f}s; {left} items left{eta}"
        )

    # -- collecting -----------------------------------------------------------------------------------
    def _heartbeat(self, payload: dict[str, Any]) -> None:
        """A worker's report of a running extraction (``plugin.progress``): one line now."""
        if self._terminal is not None:
            fresh_line(self._terminal)
            self._terminal.write_line(heartbeat_line(payload))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = dict(report.user_properties)
        if PROGRESS_KEY in props:
            payload = props[PROGRESS_KEY]
            if isinstance(payload, dict):
                self._heartbeat(payload)
            return
        if report.when == "call" and report.skipped and "geneb_skip" in props:
            cause = str(props["geneb_skip"])
            subject = str(props["geneb_model"] if cause == "model" else props["geneb_task"])
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            text = str(reason).removeprefix("Skipped: ")
            if cause == "task":  # its id out of the reason: tasks missing from a data dir are one cause
                text = text.replace(subject, "<task>")
            self.skips[(cause, subject, text)] += 1
            self._finished(props)
            return
        if report.when == "call" and report.failed and "geneb_failed" in props:
            item = f"{props.get('geneb_model')} / {props.get('geneb_task')} / {props.get('geneb_regime')}"
            self.failures.append((str(props["geneb_failed"]), item))
            self._finished(props)
            return
        if report.when == "call":
            path = props.get("geneb_result")
            if path is not None:
                self._finished(props)
                self.paths.append(str(path))
                if props.get("geneb_resumed"):
                    self.resumed.add(str(path))
                    return
                key = (str(props.get("geneb_model")), str(props.get("geneb_task")))
                self._groups.setdefault(key, []).append(str(path))
                if len(self._groups[key]) >= len(self.settings.regimes):
                    self._progress(*key)

    # -- the end --------------------------------------------------------------------------------------
    def _judge(self) -> str | None:
        """Why this run measured too little to pass, or None."""
        from geneb_bench.runner.finish import run_verdict

        broken = [subject for cause, subject, _ in self.skips if cause == "model"]
        return run_verdict(broken, sum(self.skips.values()), len(set(self.paths)))

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Write the tables; a failure (full disk, a bad result file) is one line at the end and exit 1,
        never a traceback through pluggy that hides the failure summary. Result files are untouched."""
        self.verdict = self._judge()
        if self.verdict is not None and not self.settings.allow_skips:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if self.settings.baseline is not None:
            self._gate(session)
        if not self.paths:
            return
        try:
            self._write_tables(session)
        except (OSError, ValueError, LockTimeout) as exc:
            self.frame = None
            self.failure = (
                f"geneb: could not write the tables in {self.settings.results_dir}: {exc}. Every item's result "
                f"file is intact; once fixed, rebuild the tables with: geneb report {self.settings.results_dir}"
            )
            if session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _write_tables(self, session: pytest.Session) -> None:
        from geneb_bench.plugin import _live_notice
        from geneb_bench.results.notes import group_failures, run_notes
        from geneb_bench.results.resultset import ResultSet
        from geneb_bench.runner.finish import write_run_outputs

        results = ResultSet.from_paths(self.paths)
        from geneb_bench.runner.audits import run_audits

        self.audits = run_audits(self.settings, results.results)
        self.notes = run_notes(results.results)
        self.outputs = write_run_outputs(
            self.settings,
            results,
            self.resumed,
            time.time() - self.started,
            self.audits,
            failures=group_failures(self.failures),
            notify=_live_notice(session.config),  # a wait for another run's tables is said live
        )
        self.frame = self.outputs.table.frame

    def _gate(self, session: pytest.Session) -> None:
        """The release gate's verdict on the whole run: per-slot summary, macro-MCC, nothing compared."""
        from geneb_bench.plugin.baseline import Baseline
        from geneb_bench.results.resultset import ResultSet

        assert self.settings.baseline is not None
        try:
            baseline = Baseline(
                self.settings.baseline, self.settings.baseline_tolerance, self.settings.baseline_allow_missing
            )
            results = ResultSet.from_paths(self.paths)
            summary = baseline.summary(results, [s.slot for s in self.settings.specs])
            self.gate = summary.lines
            self.regressions = baseline.check_macro(results.frame) if self.paths else []
        except ValueError as exc:
            self.gate, summary_failed = [f"FAILED: {exc}"], True
        else:
            summary_failed = summary.failed
        if summary_failed or self.regressions:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _skip_block(self, terminalreporter: Any) -> None:
        """One line per cause: (model or task, reason), subjects sharing a reason on one line."""
        if not self.skips:
            return
        grouped: dict[tuple[str, str], tuple[list[str], int]] = {}
        for (cause, subject, reason), count in self.skips.items():
            subjects, items = grouped.get((cause, reason), ([], 0))
            grouped[(cause, reason)] = ([*subjects, subject], items + count)
        terminalreporter.write_sep(
            "-", f"GENEB skips: {sum(self.skips.values())} items, {len(grouped)} causes"
        )
        for (cause, reason), (subjects, count) in sorted(grouped.items(), key=lambda kv: kv[0][0] != "model"):
            names = ", ".join(sorted(subjects)[:4]) + (
                f" and {len(subjects) - 4} more" if len(subjects) > 4 else ""
            )
            text = " ".join(reason.split())
            text = text if len(text) <= _REASON_CHARS else text[: _REASON_CHARS - 3] + "..."
            terminalreporter.write_line(f"{cause} {names} ({count} items): {text}", yellow=True)

    def _failure_block(self, terminalreporter: Any) -> None:
        """Failed items by cause, one line each (the cause's message, then the first items)."""
        if not self.failures:
            return
        from geneb_bench.results.notes import failure_lines, group_failures

        groups = group_failures(self.failures)
        terminalreporter.write_sep(
            "-", f"GENEB failed items: {len(self.failures)} items, {len(groups)} causes"
        )
        for line in failure_lines(groups):
            terminalreporter.write_line(line, red=True)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        self._skip_block(terminalreporter)
        if self.skips and len(terminalreporter.stats.get("skipped", ())) == sum(self.skips.values()):
            # every skip is a GENEB item, said above by cause: not once more per item in pytest's short
            # summary (``-ra``), where a 14-task data directory buried the tables under 86 lines
            terminalreporter.reportchars = terminalreporter.reportchars.replace("s", "")
        self._failure_block(terminalreporter)
        if self.failure is not None:
            terminalreporter.write_line(self.failure, red=True)
        if self.frame is not None and self.outputs is not None:
            from geneb_bench.results.render import render_text

            terminalreporter.write_sep("=", "GENEB results (mean over seeds)")
            terminalreporter.write_line(render_text(self.frame, "mcc", transpose=True))
            if self.audits:
                from geneb_bench.results.audited import audited_regimes, render_audit_text

                terminalreporter.write_line(
                    render_audit_text(self.frame, self.audits, regimes=audited_regimes(self.frame)[:1])
                )
            if self.notes:
                terminalreporter.write_sep(
                    "-", "GENEB notes (split provenance, embedding health, constant predictions)"
                )
                for line in self.notes:
                    terminalreporter.write_line(f"geneb: {line}")
            if self.outputs.note:
                terminalreporter.write_line(f"geneb: {self.outputs.note}", yellow=True)
            if self.outputs.plan_line:
                terminalreporter.write_line(self.outputs.plan_line)
            for path in self.outputs.written:
                terminalreporter.write_line(f"geneb: wrote {path}")
            if self.resumed:
                terminalreporter.write_line(
                    f"geneb: {len(self.resumed)} of {len(set(self.paths))} items loaded from earlier results "
                    "(same model, data, protocol and seeds); --geneb-rerun recomputes them"
                )
            self._teach(terminalreporter, self.frame)
        for line in self.gate:
            failed = line.startswith("FAILED")
            terminalreporter.write_line(f"geneb gate: {line}", red=failed, green=not failed)
        for message in self.regressions:
            terminalreporter.write_line(f"geneb: FAILED {message}", red=True)
        if self.verdict is not None:
            if self.settings.allow_skips:
                terminalreporter.write_line(
                    f"geneb: accepted (--geneb-allow-skips): {self.verdict}", yellow=True
                )
            else:
                terminalreporter.write_line(
                    f"geneb: FAILED: {self.verdict}; see 'GENEB skips' above (--geneb-allow-skips accepts this)",
                    red=True,
                )

    def _teach(self, terminalreporter: Any, frame: pd.DataFrame) -> None:
        """What the numbers mean and what to run next (the suite and the models decide which); every
        command shown runs as typed from where pytest was started."""
        from geneb_bench.models.registry import model_sets
        from geneb_bench.results.aggregate import frame_suite
        from geneb_bench.results.twins import pretraining_gains
        from geneb_bench.runner.finish import rebuild_command, table_scope

        suite, _protocol = frame_suite(frame)
        controls = sorted(set(frame["model"]) & set(model_sets()["controls"]))
        lines = ["geneb: MCC 0 = chance."]
        if controls:
            what = "a control" if len(controls) == 1 else "controls"
            lines[0] += (
                f" {', '.join(controls)}: {what} (no pretraining): a model is worth its compute only where it "
                f"beats {'it' if len(controls) == 1 else 'them'}."
            )
        for gain in pretraining_gains(frame):
            lines.append(
                f"geneb: what pretraining bought, {gain.model} ({gain.regime}, {gain.n_tasks} tasks): macro-MCC "
                f"{gain.macro:.3f} vs its untrained twin {gain.twin_macro:.3f}: {gain.gain:+.3f}"
            )
        lines += self._twin_hints(terminalreporter.config, set(frame["model"]))
        assert self.outputs is not None  # the tables were written: this follows them
        report = rebuild_command(
            _shown_path(self.settings.results_dir), table_scope(self.outputs.table, suite)
        )
        if self.outputs.stale is not None:
            lines.append(f"geneb: {self.outputs.stale} shows older results (marked stale); rebuild: {report}")
        if suite == "lite":
            lines.append(
                "geneb: the lite tasks are small synthetic stand-ins for GENEB's categories, not GENEB "
                "data: use them to check a set-up, never to compare with published numbers."
            )
            lines.append(
                "geneb: next: --geneb-model <hub id, folder or python:module:function> (your model), "
                f"--geneb-suite geneb (the 100 real tasks); the report: {report}"
            )
        else:
            lines.append(
                "geneb: only complete GENEB-suite runs under the protocol get a rank among the published "
                "models; others are labelled with their coverage."
            )
            lines.append(f"geneb: next: {report} --compare-published (tables, figures, published models)")
        for line in lines:
            terminalreporter.write_line(line)

    def _twin_hints(self, config: pytest.Config, shown: set[str]) -> list[str]:
        """For each Hugging Face model named on the command line whose untrained twin is not in the table:
        the command that adds it (this run's own, plus one --geneb-model; finished items are loaded)."""
        import shlex

        from geneb_bench.models.registry import TWIN_OVERRIDE, twin_of

        hints = []
        for name, spec in zip(self.settings.models, self.settings.specs, strict=False):
            if spec.family != "hf" or spec.group == "baseline" or twin_of(spec.slot) is not None:
                continue
            if any(twin_of(m) == spec.slot for m in shown):
                continue
            twin = f"{name[:-1]},{TWIN_OVERRIDE}]" if name.endswith("]") else f"{name}[{TWIN_OVERRIDE}]"
            command = shlex.join(["pytest", *config.invocation_params.args, "--geneb-model", twin])
            hints.append(
                f"geneb: what did pretraining buy {spec.slot}? Run its untrained twin (same architecture and "
                f"tokenizer, weights re-initialised) beside it: {command}"
            )
        return hints


def _shown_path(path: Path) -> str:
    """``path`` relative to the working directory when under it (what a user types), else absolute."""
    try:
        return str(path.relative_to(Path.cwd())) or "."
    except ValueError:
        return str(path)
