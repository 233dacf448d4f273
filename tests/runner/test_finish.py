"""``write_run_outputs``: two runs sharing a results folder read the result files and write the tables in turn."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from geneb_bench.protocol import REGIMES
from geneb_bench.results.resultset import ResultSet
from geneb_bench.runner import finish
from geneb_bench.runner.settings import Settings


def test_reading_the_results_and_writing_the_tables_is_one_step_per_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the lock, the second run reads the folder while the first is between its read and its write,
    and whichever writes last may hold the older read (a table missing the other run's items)."""
    events: list[str] = []
    first_inside = threading.Event()

    def suite_results(settings: Settings, run: ResultSet) -> tuple[ResultSet, None]:
        name = threading.current_thread().name
        events.append(f"{name} reads")
        if name == "first":
            first_inside.set()
            time.sleep(0.5)  # the window in which another run could read and write
        return run, None

    def write_reports(frame: Any, results_dir: Path, audits: Any) -> list[Path]:
        events.append(f"{threading.current_thread().name} writes")
        return []

    monkeypatch.setattr(finish, "suite_results", suite_results)
    monkeypatch.setattr(finish, "write_reports", write_reports)
    settings = Settings(
        suite="lite",
        models=("kmer-2",),
        regimes=REGIMES,
        seeds=(13,),
        data_dir=None,
        cache_dir=tmp_path / "cache",
        results_dir=tmp_path / "out",
        device="cpu",
    )

    def run() -> None:
        finish.write_run_outputs(settings, ResultSet([]), [], 0.0, audits={})

    first = threading.Thread(target=run, name="first")
    first.start()
    assert first_inside.wait(10)
    second = threading.Thread(target=run, name="second")
    second.start()
    first.join(30)
    second.join(30)
    assert events == ["first reads", "first writes", "second reads", "second writes"]
    assert (tmp_path / "out" / "lite" / "run.json").is_file()
