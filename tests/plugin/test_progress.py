"""The extraction bar in pytest runs: on the terminal past pytest's capture (serial), and as heartbeat lines on
the xdist controller (workers report through the report stream)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from geneb_bench.embeddings.engine import StderrProgress, set_progress_output
from geneb_bench.plugin import progress
from geneb_bench.plugin.progress import _Heartbeat, fresh_line, heartbeat_line
from tests.conftest import csv_text, planted_rows

if TYPE_CHECKING:
    from tests.conftest import Sweep

BIG = 400  # sequences: several of the engine's token-budget batches for random-bert-tiny (~130 rows each)


def big_task(sweep: Sweep) -> None:
    rng = np.random.default_rng(5)
    files = {
        "train.csv": csv_text(planted_rows(rng, BIG - 100, "TATAAAT")),
        "test.csv": csv_text(planted_rows(rng, 100, "TATAAAT")),
    }
    sweep.task("big_task", files, 'train = "{dir}/train.csv"\ntest = "{dir}/test.csv"')


def bar_frames(text: str) -> list[str]:
    """tqdm frames of the bar (each starts after a carriage return) for the big task."""
    return [
        frame
        for frame in re.split(r"[\r\n]", text)
        if frame.startswith("embedding random-bert-tiny x big_task:") and "%|" in frame
    ]


# -- serial: the bar on pytest's terminal ----------------------------------------------------------------


def test_serial_run_shows_the_bar_without_s(sweep: Sweep, transformers_imported: None) -> None:
    big_task(sweep)
    result = sweep.run("--geneb-progress", models=("random-bert-tiny",))
    result.assert_outcomes(passed=2)
    frames = bar_frames(result.stdout.str())
    assert frames, result.stdout.str()[:2000]
    assert f"0/{BIG}" in frames[0]
    # the run puts the engine's own output (stderr) back when it ends
    previous = set_progress_output(None)
    set_progress_output(previous)
    assert isinstance(previous, StderrProgress)


def test_auto_policy_shows_no_bar_for_a_small_task_off_a_terminal(
    sweep: Sweep, transformers_imported: None
) -> None:
    big_task(sweep)
    result = sweep.run(models=("random-bert-tiny",))
    result.assert_outcomes(passed=2)
    assert not bar_frames(result.stdout.str())


# -- xdist: heartbeats on the controller -----------------------------------------------------------------


@pytest.mark.slow
def test_xdist_controller_prints_worker_progress(sweep: Sweep) -> None:
    pytest.importorskip("xdist")
    big_task(sweep)
    result = sweep.pytester.runpytest_subprocess(
        "-n",
        "2",
        "--junitxml=junit.xml",
        *sweep.args("--geneb-progress", models=("random-bert-tiny",)),
        timeout=300,
    )
    result.assert_outcomes(passed=2)  # the progress report is counted nowhere
    result.stdout.re_match_lines([rf"geneb: \[gw\d\] embedding random-bert-tiny x big_task: .*\d+/{BIG} "])
    cases = ET.parse(sweep.root / "junit.xml").getroot().iter("testcase")
    assert len(list(cases)) == 2


# -- the pieces ----------------------------------------------------------------------------------------


def test_heartbeat_is_sent_every_interval_and_eagerly_when_forced() -> None:
    clock = [100.0]
    sent: list[dict[str, Any]] = []
    beat = _Heartbeat(100, "embedding m x t", sent.append, eager=False, clock=lambda: clock[0])
    beat.update(10)
    assert sent == []  # quiet before the interval
    clock[0] += progress.HEARTBEAT_S
    beat.update(10)
    assert [(s["done"], s["total"]) for s in sent] == [(20, 100)]
    assert sent[0]["text"].startswith("embedding m x t:")
    assert "20/100" in sent[0]["text"]
    clock[0] += progress.HEARTBEAT_S
    beat.update(80)
    assert len(sent) == 1  # finished: the finish line says the rest
    beat.close()

    eager: list[dict[str, Any]] = []
    forced = _Heartbeat(100, "embedding", eager.append, eager=True, clock=lambda: clock[0])
    forced.update(10)
    forced.update(10)
    assert [s["done"] for s in eager] == [10]  # after the first batch, then by the clock
    forced.close()


class _Terminal:
    def __init__(self, fspath: str | None, line: str) -> None:
        self.currentfspath, self._width_of_current_line, self.out = fspath, len(line), line

    def ensure_newline(self) -> None:
        if self.currentfspath:
            self.write("\n")
            self.currentfspath = None

    def write(self, text: str) -> None:
        self.out += text
        self._width_of_current_line = len(self.out.rsplit("\n", 1)[-1])


@pytest.mark.parametrize(
    ("fspath", "line", "expected"),
    [("test_bench.py", "test_bench.py ..", "test_bench.py ..\n"), (None, "...", "...\n"), (None, "", "")],
)
def test_fresh_line_ends_a_started_line_once(fspath: str | None, line: str, expected: str) -> None:
    terminal = _Terminal(fspath, line)
    fresh_line(terminal)
    fresh_line(terminal)
    assert terminal.out == expected


def test_heartbeat_line_names_the_worker() -> None:
    assert (
        heartbeat_line({"worker": "gw1", "text": "embedding m x t:  5%|"})
        == "geneb: [gw1] embedding m x t:  5%|"
    )


# -- the ETA: per model, from its own rate and the sequences left -----------------------------------------


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f}s"


def test_eta_is_per_model_and_never_averages_a_fast_model_with_a_slow_one() -> None:
    eta = progress.Eta(regimes=1)
    eta.plan([("kmer-3", "a"), ("kmer-3", "b"), ("big", "a"), ("big", "b"), ("big", "c")])
    eta.item_done("kmer-3", "a")
    eta.group_done("kmer-3", "a", sequences=1000, seconds=1.0)
    # big is not timed yet: no ETA is made up for it from kmer-3's speed
    assert eta.seconds_left("big") is None
    assert eta.text("kmer-3", _minutes) == ", ETA kmer-3 1s, big not timed yet"
    eta.item_done("big", "a")
    eta.group_done("big", "a", sequences=1000, seconds=100.0)  # 0.1 s a sequence
    eta.sizes["b"] = 3000  # a task finished by another model: its size is known
    assert eta.seconds_left("big") == pytest.approx(0.1 * 3000 + 0.1 * 2000)  # c: the mean known size
    assert eta.seconds_left("kmer-3") == pytest.approx(0.001 * 3000)
    assert eta.text("big", _minutes) == ", ETA big 500s, all 503s"
    for model, task in [("kmer-3", "b"), ("big", "b"), ("big", "c")]:
        eta.item_done(model, task)
    assert eta.text("big", _minutes) == ""


def test_eta_counts_a_group_once_per_regime() -> None:
    eta = progress.Eta(regimes=3)
    eta.plan([("m", "a")] * 3 + [("m", "b")] * 3)
    for _ in range(3):
        eta.item_done("m", "a")
    eta.group_done("m", "a", sequences=100, seconds=10.0)
    assert eta.seconds_left("m") == pytest.approx(10.0)  # b: three regimes of a 100-sequence task
    eta.item_done("m", "b")
    assert eta.seconds_left("m") == pytest.approx(10.0 * 2 / 3)


@pytest.mark.parametrize(
    ("nodeid", "expected"),
    [
        (
            "suites/test_geneb.py::test_geneb[kmer-3-promoters-lite_promoter_tata-full]",
            ("kmer-3", "lite_promoter_tata"),
        ),
        ("test_bench.py::test_geneb[random-bert-tiny-tf_binding-tf-a-10shot]", ("random-bert-tiny", "tf-a")),
        ("test_bench.py::test_geneb[kmer-3+k-4-promoters-p-1shot]", ("kmer-3+k-4", "p")),
        ("test_other.py::test_x", None),
    ],
)
def test_item_ids_give_model_and_task(nodeid: str, expected: tuple[str, str] | None) -> None:
    models = ["kmer-3", "kmer-3+k-4", "random-bert-tiny"]
    assert progress.parse_item_id(nodeid, models, ["promoters", "tf_binding"]) == expected


def test_the_eta_plans_a_named_model_by_its_slot_and_a_failed_item_leaves_it(tmp_path: Path) -> None:
    """Item ids name the slot (``[name=...]``, a local folder's name), not the registry key: planned by the
    key, a named model had nothing left and an "ETA 0s". Skipped, failed and finished items all count."""
    from geneb_bench.categories import CATEGORIES
    from geneb_bench.plugin.reporting import RunReport
    from geneb_bench.protocol import REGIMES
    from geneb_bench.runner.settings import Settings

    settings = Settings(
        suite="lite",
        models=("kmer-3[name=mine]",),
        regimes=REGIMES[:1],
        seeds=(13,),
        data_dir=None,
        cache_dir=tmp_path,
        results_dir=tmp_path,
        device="cpu",
    )
    report = RunReport(settings)
    slug = CATEGORIES[0].slug
    report._plan([f"suites/test_geneb.py::test_geneb[mine-{slug}-{task}-full]" for task in ("a", "b")])
    assert report.eta.left == {"mine": Counter({"a": 1, "b": 1})}
    report._finished({"geneb_model": "mine", "geneb_task": "a"})  # e.g. a failed item
    assert report.eta.left["mine"] == Counter({"a": 0, "b": 1})
    assert report.done == 1
