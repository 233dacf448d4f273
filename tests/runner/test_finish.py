"""``write_run_outputs``: two runs sharing a results folder read the result files and write the tables in turn."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# Imported before any pytester fixture snapshots sys.modules (see tests/runner/test_api.py)
import geneb_bench.probe.evaluate
import geneb_bench.results.aggregate
import geneb_bench.runner.session  # noqa: F401
from geneb_bench import locks
from geneb_bench.protocol import REGIMES
from geneb_bench.results.resultset import ResultSet
from geneb_bench.runner import finish
from geneb_bench.runner.settings import Settings

if TYPE_CHECKING:
    from tests.conftest import Sweep


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    """A kmer-2 run of the lite suite into ``tmp_path / "out"``."""
    fields: dict[str, Any] = {
        "suite": "lite",
        "models": ("kmer-2",),
        "regimes": REGIMES,
        "seeds": (13,),
        "data_dir": None,
        "cache_dir": tmp_path / "cache",
        "results_dir": tmp_path / "out",
        "device": "cpu",
    }
    return Settings(**(fields | overrides))


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
    settings = _settings(tmp_path)

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


@contextlib.contextmanager
def _held_by_another_run(results_dir: Path) -> Iterator[None]:
    """Another run writing its tables (a thread holding the folder's tables lock) for as long as the block runs."""
    inside, done = threading.Event(), threading.Event()

    def hold() -> None:
        with finish._tables_lock(results_dir, 60.0):
            inside.set()
            done.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(10)
    try:
        yield
    finally:
        done.set()
        holder.join(30)


def test_a_held_tables_lock_is_said_and_its_timeout_fails_the_table_write_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Was: the wait was silent (38 s, default 1800 s), and at the timeout filelock's Timeout (an OSError)
    was caught and the tables were written without the lock."""
    monkeypatch.setattr(locks, "LOCK_NOTICE_S", 0.2)
    settings = _settings(tmp_path, lock_timeout_s=1.0)
    told: list[str] = []
    with _held_by_another_run(settings.results_dir), pytest.raises(finish.TablesLockTimeout) as info:
        finish.write_run_outputs(settings, ResultSet([]), [], 0.0, audits={}, notify=told.append)
    assert not isinstance(info.value, OSError)
    lock = settings.results_dir / ".geneb-tables.lock"
    holder = f"held by PID {os.getpid()} on host {socket.gethostname()}"
    assert len(told) == 1
    assert told[0].startswith(f"waiting for the results folder's tables lock {lock}, {holder}")
    assert "giving up after 1 s (--geneb-lock-timeout)" in told[0]
    assert str(info.value).startswith(
        f"gave up after 1 s waiting for the results folder's tables lock {lock}"
    )
    assert "\n" not in str(info.value)
    assert sorted(p.name for p in settings.results_dir.iterdir()) == [".geneb-tables.lock"], "nothing written"


def test_the_pytest_run_keeps_its_results_and_fails_with_one_line(
    sweep: Sweep, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(locks, "LOCK_NOTICE_S", 0.2)
    sweep.good_task("t1")
    with _held_by_another_run(sweep.root / "out"):
        result = sweep.run("--geneb-lock-timeout=1", models=("kmer-2",))
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=2)
    (line,) = [line for line in result.outlines if "could not write the tables" in line]
    assert "gave up after 1 s waiting for the results folder's tables lock" in line
    assert "Every item's result file is intact" in line
    assert f"geneb report {sweep.root / 'out'}" in line
    assert sorted(sweep.results()) == ["kmer-2/t1/1shot", "kmer-2/t1/full"]
    assert not (sweep.root / "out" / "leaderboard.md").exists()
