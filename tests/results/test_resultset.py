"""``ResultSet`` in a notebook: its repr is the leaderboard; tables, the matched comparison and the report."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from geneb_bench.data.lite import LITE_TASKS
from geneb_bench.results.aggregate import leaderboard
from geneb_bench.results.record import write_result
from geneb_bench.results.render import render_text
from geneb_bench.results.resultset import Problem, ResultSet
from tests.reports.conftest import make_result, write_run

THREE = tuple(f"leannmlindsey_GUE_{t}" for t in ("mouse_2", "mouse_3", "prom_300_tata"))


@pytest.fixture
def three(tmp_path: Path) -> ResultSet:
    write_run(tmp_path, "mine", THREE, regimes=("full", "1shot"), score=lambda t, r: 0.5, outcomes=True)
    return ResultSet.load(tmp_path)


def test_repr_is_the_leaderboard(three: ResultSet) -> None:
    text = repr(three)
    assert text.startswith("ResultSet: 6 results, 1 models, 3 tasks; suite geneb: the GENEB suite")
    assert render_text(three.frame, transpose=True) in text
    assert text.endswith("among the 40 published models on the same tasks: .compare_published(regime)")
    page = three._repr_html_()
    assert page.count("<table") == 2  # full and 1shot
    assert "0.5000" in page


def test_repr_says_what_did_not_run(tmp_path: Path) -> None:
    empty = ResultSet([], [Problem("kmer-3-x-full", "failed", "boom")])
    assert repr(empty) == "ResultSet: no results (1 problems)"
    assert "ResultSet: no results" in empty._repr_html_()


def test_leaderboard_per_regime(three: ResultSet) -> None:
    pd.testing.assert_frame_equal(three.leaderboard("1shot"), leaderboard(three.frame, "1shot"))
    with pytest.raises(ValueError, match="no results in the '10shot' regime; there: 1shot, full"):
        three.leaderboard("10shot")


def test_compare_published_and_per_task(three: ResultSet) -> None:
    comparison = three.compare_published("1shot")
    assert comparison.label == "matched on 3/100 tasks, 2/13 categories"
    assert comparison.regime == "1shot"
    assert "<table" in comparison._repr_html_()
    assert repr(comparison).startswith("1shot: your models among the 40 published ones, matched on 3/100")
    wide = three.per_task("full", ["MutBERT"]).set_index("task_id")
    assert wide.loc[THREE[1], "MutBERT (published)"] == pytest.approx(0.4514)
    assert (wide["mine"] == 0.5).all()


def test_lite_results_are_tabulated_but_never_placed(tmp_path: Path) -> None:
    for spec in LITE_TASKS[:2]:
        result = make_result("kmer-3", spec.task_id, spec.category, "full", 0.25)
        write_result(tmp_path, dataclasses.replace(result, suite="lite"))
    lite = ResultSet.load(tmp_path)
    assert "not placed among the published models: suite lite" in repr(lite)
    with pytest.raises(ValueError, match="lite tasks are synthetic"):
        lite.compare_published()
    wide = lite.per_task()
    assert list(wide.columns) == ["task_id", "category", "kmer-3"]
    assert "published median" not in wide.columns


@pytest.mark.slow  # report.html draws every figure (~20 s)
def test_directory_and_report(three: ResultSet, tmp_path: Path) -> None:
    assert three.directory == tmp_path
    path = three.report(tmp_path / "out" / "report.html")
    assert path == tmp_path / "out" / "report.html"
    assert "GENEB report" in path.read_text(encoding="utf-8")
