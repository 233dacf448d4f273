"""The matched comparison: published models recomputed on the run's tasks; lite, custom and variants unplaced."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from geneb_bench.cli import main
from geneb_bench.data.lite import LITE_TASKS
from geneb_bench.reports.compare import compare_to_published
from geneb_bench.reports.matched import (
    matched_comparison,
    not_placed_reason,
    published_board,
    published_task_mcc,
)
from geneb_bench.reports.published import published_table
from geneb_bench.results.record import write_result
from geneb_bench.results.resultset import ResultSet

from .conftest import RunWriter, make_result

MOUSE_2, MOUSE_3, TATA = (f"leannmlindsey_GUE_{t}" for t in ("mouse_2", "mouse_3", "prom_300_tata"))
THREE = (MOUSE_2, MOUSE_3, TATA)


@pytest.fixture
def three_tasks(tmp_path: Path, run_writer: RunWriter) -> Path:
    """Two user models on 3 real GENEB tasks (2 Mouse Enh., 1 Promoters), full data, outcomes recorded."""
    run_writer(tmp_path, "mine", THREE, regimes=("full",), score=lambda t, r: 0.5, outcomes=True)
    run_writer(tmp_path, "kmer-3", THREE, regimes=("full",), score=lambda t, r: 0.2, outcomes=True)
    return tmp_path


def test_hand_computed_matched_macro_for_three_tasks_and_two_published_models(three_tasks: Path) -> None:
    comparison = matched_comparison(ResultSet.load(three_tasks).results, "full")
    assert comparison is not None
    assert comparison.label == "matched on 3/100 tasks, 2/13 categories"
    assert comparison.tasks == tuple(sorted(THREE))
    assert comparison.categories == ("Promoters", "Mouse Enh.")
    rows = {r.key: r for r in comparison.rows}
    # published per-task MCC (reference/geneb_leaderboard_task_mcc.csv), by hand:
    # MutBERT:   Mouse Enh. (0.7145 + 0.4514) / 2 = 0.58295, Promoters 0.5610 -> macro 0.571975
    # DNABERT-S: Mouse Enh. (0.6708 + 0.3743) / 2 = 0.52255, Promoters 0.2924 -> macro 0.407475
    assert rows["MutBERT"].macro == pytest.approx(0.571975, abs=1e-9)
    assert rows["MutBERT"].micro == pytest.approx((0.7145 + 0.4514 + 0.5610) / 3, abs=1e-9)
    assert rows["DNABERT-S"].macro == pytest.approx(0.407475, abs=1e-9)
    assert rows["DNABERT-S"].micro == pytest.approx((0.6708 + 0.3743 + 0.2924) / 3, abs=1e-9)
    assert rows["MutBERT"].rank < rows["mine"].rank < rows["DNABERT-S"].rank
    assert rows["mine"].macro == pytest.approx(0.5)
    assert (rows["MutBERT"].model, rows["MutBERT"].n_params) == ("MutBERT", 86e6)


def test_ranks_count_the_published_models_above_on_the_same_tasks(three_tasks: Path) -> None:
    comparison = matched_comparison(ResultSet.load(three_tasks).results, "full")
    assert comparison is not None
    # independently of aggregate.leaderboard: category means, then their mean, with pandas
    published = published_task_mcc()
    ours = published[
        (published["regime"] == "full")
        & (published["provenance"] == "official")
        & published["task_id"].isin(THREE)
    ]
    macro = ours.groupby(["model", "category"])["mcc"].mean().groupby("model").mean()
    assert len(macro) == 40
    rows = {r.key: r for r in comparison.rows}
    assert len(rows) == 42
    for key in ("mine", "kmer-3"):
        above_user = sum(r.macro > rows[key].macro for r in comparison.yours)
        assert rows[key].rank == 1 + int((macro > rows[key].macro).sum()) + above_user
        low, high = rows[key].rank_low, rows[key].rank_high
        assert low is not None
        assert high is not None
        assert low <= rows[key].rank <= high
    for published_key, value in macro.items():
        assert rows[str(published_key)].macro == pytest.approx(value, abs=1e-12)
        assert rows[str(published_key)].rank_low is None
        assert rows[str(published_key)].rank_high is None
    macros = [r.macro for r in comparison.rows]
    assert macros == sorted(macros, reverse=True)
    assert "no per-row test data" in comparison.note


def test_rank_interval_follows_the_bootstrap_and_is_absent_without_outcomes(
    tmp_path: Path, run_writer: RunWriter
) -> None:
    run_writer(tmp_path, "mine", THREE, regimes=("full",), score=lambda t, r: 0.5)  # no outcomes
    comparison = matched_comparison(ResultSet.load(tmp_path).results, "full")
    assert comparison is not None
    (mine,) = comparison.yours
    assert (mine.rank_low, mine.rank_high) == (None, None)
    assert "no rank interval for mine" in comparison.note


def test_narrow_test_sets_widen_the_rank_interval(tmp_path: Path, run_writer: RunWriter) -> None:
    """200 test rows per task: the interval spans several published models around the point rank."""
    run_writer(tmp_path, "mine", THREE, regimes=("full",), score=lambda t, r: 0.5, outcomes=True)
    comparison = matched_comparison(ResultSet.load(tmp_path).results, "full", n_resamples=200)
    assert comparison is not None
    (mine,) = comparison.yours
    assert mine.rank_low is not None
    assert mine.rank_high is not None
    assert mine.rank_high - mine.rank_low >= 3


def test_tasks_not_every_model_ran_are_left_out(tmp_path: Path, run_writer: RunWriter) -> None:
    run_writer(tmp_path, "mine", THREE, regimes=("full",), score=lambda t, r: 0.5)
    run_writer(tmp_path, "kmer-3", THREE[:2], regimes=("full",), score=lambda t, r: 0.2)
    comparison = matched_comparison(ResultSet.load(tmp_path).results, "full")
    assert comparison is not None
    assert comparison.label == "matched on 2/100 tasks, 1/13 categories"
    assert "mine ran more" in comparison.note


def test_a_complete_run_is_placed_with_the_published_table_itself(complete_run: Path) -> None:
    results = ResultSet.load(complete_run)
    comparison = matched_comparison(results.results, "full")
    assert comparison is not None
    assert comparison.label == "matched on 100/100 tasks, 13/13 categories"
    official = published_table(official_only=True)
    official = official[official["regime"] == "full"].set_index("model")
    rows = {r.key: r for r in comparison.rows if r.published}
    assert {k: r.macro for k, r in rows.items()} == official["macro"].to_dict()
    placement = compare_to_published(results.frame).set_index(["regime", "category"])
    (mine,) = comparison.yours
    assert mine.rank == placement.loc[("full", "macro"), "rank"]  # the full-suite placement as before


def test_published_board_aggregates_as_the_leaderboard() -> None:
    board = published_board(THREE, "10shot")
    assert list(board.columns) == ["Promoters", "Mouse Enh.", "macro", "micro"]
    assert board.loc["MutBERT", "Mouse Enh."] == pytest.approx((0.4594 + 0.1405) / 2)
    assert board.loc["MutBERT", "macro"] == pytest.approx(((0.4594 + 0.1405) / 2 + 0.2146) / 2)


def test_per_task_wide_sets_published_values_beside_yours(three_tasks: Path) -> None:
    comparison = matched_comparison(ResultSet.load(three_tasks).results, "full")
    assert comparison is not None
    wide = comparison.per_task_wide(["MutBERT"]).set_index("task_id")
    assert wide.loc[MOUSE_3, "MutBERT (published)"] == pytest.approx(0.4514)
    assert wide.loc[TATA, "mine"] == pytest.approx(0.5)
    published = published_task_mcc()
    on_tata = published[
        (published["regime"] == "full")
        & (published["provenance"] == "official")
        & (published["task_id"] == TATA)
    ]
    assert wide.loc[TATA, "published median"] == pytest.approx(float(np.median(on_tata["mcc"])))
    assert wide.loc[TATA, "published best"] == pytest.approx(on_tata["mcc"].max())
    with pytest.raises(ValueError, match="unknown published model 'nope'"):
        comparison.per_task_wide(["nope"])


def write_lite(root: Path) -> Path:
    for spec in LITE_TASKS[:3]:
        result = make_result("kmer-3", spec.task_id, spec.category, "full", 0.5, outcomes=True)
        write_result(root, dataclasses.replace(result, suite="lite"))
    return root


def test_a_lite_run_has_no_placement_anywhere(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_lite(tmp_path)
    results = ResultSet.load(tmp_path)
    reason = not_placed_reason(results.results)
    assert reason is not None
    assert "lite tasks are synthetic" in reason
    assert matched_comparison(results.results, "full") is None
    assert compare_to_published(results.frame).empty
    with pytest.raises(ValueError, match="not placed among the published models"):
        results.compare_published()
    assert main(["report", str(tmp_path), "--compare-published", "--per-task"]) == 0
    out = capsys.readouterr().out
    assert f"Not placed among the published models: {reason}." in out
    for placed in ("rank 95% CI", "nearest", "would_rank", "Full-data leaderboard", "published median"):
        assert placed not in out
    assert main(["report", str(tmp_path), "--compare-published", "--per-task", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    published = doc["published"]
    assert (published["placed"], published["reason"]) == (False, reason)
    assert published["matched"] == published["placement"] == published["leaderboard"] == []
    assert doc["per_task"]["reason"] == reason
    assert [r["kmer-3"] for r in doc["per_task"]["regimes"][0]["rows"]] == [0.5, 0.5, 0.5]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"suite": "mysuite", "task_id": "my_task"}, "custom tasks, not GENEB tasks"),
        ({"protocol": "geneb-1.0+seeds=13"}, "protocol variant geneb-1.0+seeds=13"),
    ],
)
def test_custom_suites_and_variants_are_never_placed(change: dict[str, Any], reason: str) -> None:
    result = dataclasses.replace(make_result("kmer-3", MOUSE_2, "Mouse Enh.", "full", 0.5), **change)
    assert reason in (not_placed_reason([result]) or "")
    assert matched_comparison([result], "full") is None


def test_terminal_json_and_api_give_the_same_numbers(
    three_tasks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = ResultSet.load(three_tasks).compare_published("full")
    assert main(["report", str(three_tasks), "--compare-published", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (full,) = [m for m in doc["published"]["matched"] if m["regime"] == "full"]
    assert full["label"] == api.label
    assert full["rows"] == [dataclasses.asdict(r) for r in api.rows]
    assert main(["report", str(three_tasks), "--compare-published"]) == 0
    text = capsys.readouterr().out
    assert f"full: your models among the 40 published ones, {api.label}" in text
    for row in api.yours:
        line = next(line for line in text.splitlines() if f" {row.model} " in line and "yours" in line)
        assert line.split()[:2] == [str(row.rank), f"{row.rank_low}-{row.rank_high}"]
        assert f"{row.macro:.4f}" in line
        assert f"{row.micro:.4f}" in line
    placement = pd.DataFrame(doc["published"]["placement"]).set_index(["model", "category"])
    assert placement.loc[("mine", "macro"), "score"] == pytest.approx(0.5)
    assert placement.loc[("mine", "macro"), "tasks"] == "3/100"
    assert placement.loc[("mine", "macro"), "nearest"] in {r.key for r in api.rows if r.published}


def test_the_commands_in_docs_comparison_run(three_tasks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = Path(__file__).parents[2] / "docs" / "comparison.md"
    commands = [
        line.split("#")[0].split()
        for line in doc.read_text(encoding="utf-8").splitlines()
        if line.startswith("geneb report DIR")
    ]
    assert len(commands) == 4
    for argv in commands:
        assert main([str(three_tasks) if a == "DIR" else a for a in argv[1:]]) == 0
    assert "DNABERT-S (published)" in capsys.readouterr().out
