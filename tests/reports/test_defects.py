"""Known defects of published rows: one table of data, marked in every report that shows those rows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from geneb_bench.cli import main
from geneb_bench.reports.compare import combined_leaderboard, compare_to_published
from geneb_bench.reports.html import build_html
from geneb_bench.reports.published import defect_notes, published_defects, published_table, results_table
from geneb_bench.results.aggregate import tidy
from geneb_bench.results.record import iter_results
from tests.reports.conftest import page_rows

RunWriter = Callable[..., Path]
DEFECTIVE = {"DNABERT-S", "hyenadna-medium-160k-seqlen-hf", "hyenadna-large-1m-seqlen-hf", "BioFM-265M"}


def test_the_four_known_defects_with_their_evidence() -> None:
    defects = published_defects()
    assert set(defects) == DEFECTIVE
    assert "78,342,144 of 89,187,072" in defects["DNABERT-S"][1]
    for key, figure in [
        ("hyenadna-medium-160k-seqlen-hf", "0.554"),
        ("hyenadna-large-1m-seqlen-hf", "0.222"),
        ("BioFM-265M", "5.31"),
    ]:
        assert "left padding without an attention mask" in defects[key][1]
        assert figure in defects[key][1]
    table = published_table()
    marked = set(table.loc[table["defect"] != "", "model"])
    assert marked == DEFECTIVE
    assert (table.groupby("model")["defect"].nunique() == 1).all(), "same mark in every regime"


def test_placement_of_a_defective_published_model_says_why(
    tmp_path: Path, run_writer: RunWriter, tf_tasks: list[str]
) -> None:
    run_writer(tmp_path, "DNABERT-S", tasks=tf_tasks, regimes=("full",), score=lambda t, r: 0.6)
    run_writer(tmp_path, "mine", tasks=tf_tasks, regimes=("full",), score=lambda t, r: 0.6)
    placement = compare_to_published(tidy(iter_results(tmp_path)))
    assert set(placement.loc[placement["model"] == "DNABERT-S", "published_defect"]) == {"random weights"}
    assert set(placement.loc[placement["model"] == "mine", "published_defect"]) == {""}
    board = combined_leaderboard(results_table(tmp_path), "full")
    official = board[board["provenance"] == "official"]
    assert set(official.loc[official["defect"] != "", "model"]) == DEFECTIVE
    assert (board.loc[board["provenance"] == "local", "defect"] == "").all(), (
        "the user's own row is not marked"
    )


def test_reports_show_the_defects(
    tmp_path: Path, run_writer: RunWriter, tf_tasks: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    run_writer(tmp_path, "mine", tasks=tf_tasks, regimes=("full",))
    assert main(["report", str(tmp_path), "--compare-published"]) == 0
    out = capsys.readouterr().out
    assert "Known defects of published rows" in out
    assert "published DNABERT-S row: random weights" in out
    page = build_html(tmp_path)
    rows = page_rows(page)
    flagged = [r for r in rows if "defect" in r["_class"].split()]
    assert {(r["basis"], r["regime"]) for r in flagged} >= {("published: 100 tasks", "full")}
    full = [r for r in flagged if (r["basis"], r["regime"]) == ("published: 100 tasks", "full")]
    assert len(full) == len(DEFECTIVE)
    assert "78,342,144 of 89,187,072" in page
    assert main(["analyze", "winners"]) == 0
    assert "Known defects of published rows analysed here" in capsys.readouterr().out


def test_defect_notes_only_for_listed_models() -> None:
    assert defect_notes(["mine", "DNABERT-S", "DNABERT-S"]) == [
        f"published DNABERT-S row: random weights: {published_defects()['DNABERT-S'][1]}"
    ]
