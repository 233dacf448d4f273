"""End-of-run reporting on the controller: collect the items' result files, print and write the table.

Registered as a plugin object only on the controller (or a serial run). It reads result paths from each
report's ``user_properties``, the one channel that survives the trip from xdist workers, so ``-n N`` and
a serial run build the table from the same files. An item that failed after writing its result (a
baseline regression) still counts: its number is real.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import pandas as pd

    from geneb_bench.data.audit import TaskAudit
    from geneb_bench.runner.settings import Settings


class RunReport:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.paths: list[str] = []
        self.started = time.time()
        self.frame: pd.DataFrame | None = None
        self.written: list[Path] = []
        self.regressions: list[str] = []
        self.resumed: set[str] = set()
        self.audits: dict[str, TaskAudit] = {}
        self.failure: str | None = None  # why the tables could not be written (shown after the summary)
        self.notes: list[str] = []  # split provenance, embedding health, constant predictions (results.notes)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call":
            props = dict(report.user_properties)
            path = props.get("geneb_result")
            if path is not None:
                self.paths.append(str(path))
                if props.get("geneb_resumed"):
                    self.resumed.add(str(path))

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Write the tables; a failure (full disk, a bad result file) is one line at the end and exit 1,
        never a traceback through pluggy that hides the failure summary. Result files are untouched."""
        if not self.paths:
            return
        try:
            self._write_tables(session)
        except (OSError, ValueError) as exc:
            self.frame = None
            self.failure = (
                f"geneb: could not write the tables in {self.settings.results_dir}: {exc}. Every item's result "
                f"file is intact; once fixed, rebuild the tables with: geneb report {self.settings.results_dir}"
            )
            if session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _write_tables(self, session: pytest.Session) -> None:
        from geneb_bench.results.notes import run_notes
        from geneb_bench.results.resultset import ResultSet
        from geneb_bench.runner.finish import write_run_outputs

        results = ResultSet.from_paths(self.paths)
        self.frame = results.frame
        from geneb_bench.runner.audits import run_audits

        self.audits = run_audits(self.settings, results.results)
        self.notes = run_notes(results.results)
        self.written = write_run_outputs(self.settings, results, self.resumed, time.time() - self.started,
                                         self.audits)
        if self.settings.baseline is not None:
            from geneb_bench.plugin.baseline import Baseline

            baseline = Baseline(self.settings.baseline, self.settings.baseline_tolerance)
            self.regressions = baseline.check_macro(self.frame)
            if self.regressions:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.failure is not None:
            terminalreporter.write_line(self.failure, red=True)
        if self.frame is None:
            return
        from geneb_bench.results.render import render_text

        terminalreporter.write_sep("=", "GENEB results (mean over seeds)")
        terminalreporter.write_line(render_text(self.frame, "mcc", transpose=True))
        if self.audits:
            from geneb_bench.results.audited import audited_regimes, render_audit_text

            terminalreporter.write_line(render_audit_text(self.frame, self.audits,
                                                          regimes=audited_regimes(self.frame)[:1]))
        if self.notes:
            terminalreporter.write_sep("-", "GENEB notes (split provenance, embedding health, constant predictions)")
            for line in self.notes:
                terminalreporter.write_line(f"geneb: {line}")
        for path in self.written:
            terminalreporter.write_line(f"geneb: wrote {path}")
        if self.resumed:
            terminalreporter.write_line(
                f"geneb: {len(self.resumed)} of {len(set(self.paths))} items loaded from earlier results "
                "(same model, data, protocol and seeds); --geneb-rerun recomputes them"
            )
        for message in self.regressions:
            terminalreporter.write_line(f"geneb: FAILED {message}", red=True)
