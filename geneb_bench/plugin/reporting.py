"""End-of-run reporting on the controller: collect the items' result files, print and write the table.

Registered as a plugin object only on the controller (or a serial run). It reads result paths from each
report's ``user_properties``, the one channel that survives the trip from xdist workers, so ``-n N`` and
a serial run build the table from the same files.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from geneb_bench.plugin.options import Settings


class RunReport:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.paths: list[str] = []
        self.started = time.time()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" and report.passed:
            path = dict(report.user_properties).get("geneb_result")
            if path is not None:
                self.paths.append(str(path))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.paths:
            return
        from geneb_bench.results.aggregate import tidy
        from geneb_bench.results.record import package_versions, read_result
        from geneb_bench.results.render import render_text, write_reports

        frame = tidy(read_result(Path(p)) for p in sorted(set(self.paths)))
        results_dir = self.settings.results_dir
        written = write_reports(frame, results_dir)
        run = results_dir / "run.json"
        run.write_text(
            json.dumps(
                {
                    "suite": self.settings.suite,
                    "models": list(self.settings.models),
                    "regimes": [r.name for r in self.settings.regimes],
                    "seeds": list(self.settings.seeds),
                    "items": len(set(self.paths)),
                    "wall_s": round(time.time() - self.started, 2),
                    "versions": package_versions(),
                },
                indent=2,
            )
            + "\n"
        )
        terminalreporter.write_sep("=", "GENEB results (mean over seeds)")
        terminalreporter.write_line(render_text(frame, "mcc"))
        for path in [*written, run]:
            terminalreporter.write_line(f"geneb: wrote {path}")
