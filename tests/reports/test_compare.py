"""Placing user models among the published ones: partial runs are never ranked as complete."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from geneb_bench.cli import main
from geneb_bench.reports.compare import combined_leaderboard, compare_to_published
from geneb_bench.reports.published import published_table, results_table
from geneb_bench.results.aggregate import tidy
from geneb_bench.results.record import iter_results

RunWriter = Callable[..., Path]


def test_complete_category_gets_a_would_rank_partial_run_no_rank(
    tmp_path: Path, run_writer: RunWriter, tf_tasks: list[str]
) -> None:
    run_writer(tmp_path, "mine", tasks=tf_tasks, regimes=("full",), score=lambda t, r: 0.6)
    placement = compare_to_published(tidy(iter_results(tmp_path))).set_index("category")
    tf = placement.loc["TF Binding"]
    official = published_table(official_only=True)
    higher = int((official.loc[official["regime"] == "full", "TF Binding"] > 0.6).sum())
    assert tf["status"] == "complete"
    assert tf["would_rank"] == higher + 1
    assert pd.isna(tf["rank"])  # the run as a whole is partial: no rank, even for a complete category
    assert tf["of"] == 40
    assert tf["best"] == "enformer-official-rough"
    # the best on the same 5 tasks, from the per-task file (the category table rounds it to 0.698)
    assert tf["diff_to_best"] == pytest.approx(0.6 - 0.69828)
    assert tf["tasks"] == "5/5"
    macro = placement.loc["macro"]
    assert macro["status"] == "partial: 5/100 tasks"
    assert pd.isna(macro["rank"])
    assert pd.isna(macro["would_rank"])  # 5 of 100 tasks: no placement, not even a hint
    assert set(placement.index) == {"TF Binding", "macro", "micro"}


def test_partial_row_is_listed_after_ranked_rows(
    tmp_path: Path, run_writer: RunWriter, tf_tasks: list[str]
) -> None:
    run_writer(tmp_path, "mine", tasks=tf_tasks, regimes=("full",), score=lambda t, r: 0.99)
    board = combined_leaderboard(results_table(tmp_path), "full")
    mine = board[board["model"] == "mine"].iloc[0]
    assert mine["rank"] == ""
    assert mine["status"] == "partial: 5/100 tasks"
    assert board.index[board["model"] == "mine"][0] == len(board) - 1  # below all 41 ranked rows
    assert board["rank"].iloc[0] == 1


def test_complete_run_is_ranked(tmp_path: Path, run_writer: RunWriter) -> None:
    run_writer(tmp_path, "mine", regimes=("full",), score=lambda t, r: 0.99)
    board = combined_leaderboard(results_table(tmp_path), "full")
    assert board.iloc[0]["model"] == "mine"
    assert board.iloc[0]["rank"] == 1


def test_cli_report_compare_published(
    tmp_path: Path, run_writer: RunWriter, tf_tasks: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    run_writer(tmp_path, "mine", tasks=tf_tasks, regimes=("full",))
    assert main(["report", str(tmp_path), "--compare-published"]) == 0
    out = capsys.readouterr().out
    assert (
        "mine (full): not on the full leaderboard: partial (5/100 tasks, 1/13 categories); placed among the "
        "published models on its tasks below"
    ) in out
    assert "full: your models among the 40 published ones, matched on 5/100 tasks, 1/13 categories" in out
