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
        if not self.paths:
            return
        from geneb_bench.results.notes import run_notes
        from geneb_bench.results.resultset import ResultSet
        from geneb_bench.runner.finish import write_run_outputs

        results = ResultSet.from_paths(self.paths)
        self.frame = results.frame
        self.notes = run_notes(results.results)
        self.written = write_run_outputs(self.settings, results, self.resumed, time.time() - self.started)
        if self.settings.baseline is not None:
            from geneb_bench.plugin.baseline import Baseline

            baseline = Baseline(self.settings.baseline, self.settings.baseline_tolerance)
            self.regressions = baseline.check_macro(self.frame)
            if self.regressions:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.frame is None:
            return
        from geneb_bench.results.render import render_text

        terminalreporter.write_sep("=", "GENEB results (mean over seeds)")
        terminalreporter.write_line(render_text(self.frame, "mcc", transpose=True))
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
