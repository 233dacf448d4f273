"""Category, macro and micro aggregation on a hand-made table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geneb_bench.results.aggregate import leaderboard, leaderboards
from geneb_bench.results.render import render_text, write_reports


def _frame() -> pd.DataFrame:
    rows = [
        # model, task, category, regime, mcc
        ("a", "p1", "Promoters", "full", 0.8),
        ("a", "p2", "Promoters", "full", 0.6),
        ("a", "p3", "Promoters", "full", 0.4),
        ("a", "t1", "TF Binding", "full", 0.2),
        ("b", "p1", "Promoters", "full", 0.5),
        ("b", "p2", "Promoters", "full", 0.5),
        ("b", "p3", "Promoters", "full", 0.5),
        ("b", "t1", "TF Binding", "full", 0.5),
        ("a", "p1", "Promoters", "1shot", 0.1),
        ("a", "t1", "TF Binding", "1shot", 0.3),
    ]
    frame = pd.DataFrame(rows, columns=["model", "task_id", "category", "regime", "mcc"])
    frame["accuracy"] = frame["mcc"]
    frame["f1"] = frame["mcc"]
    for m in ("mcc", "accuracy", "f1"):
        frame[f"{m}_std"] = 0.0
    return frame


def test_macro_weighs_categories_micro_weighs_tasks() -> None:
    table = leaderboard(_frame(), "full")
    # a: Promoters 0.6, TF 0.2 -> macro 0.4, micro (0.8+0.6+0.4+0.2)/4 = 0.5
    assert table.loc["a", "Promoters"] == pytest.approx(0.6)
    assert table.loc["a", "macro"] == pytest.approx(0.4)
    assert table.loc["a", "micro"] == pytest.approx(0.5)
    # b: macro 0.5 = micro 0.5; b ranks first on macro although micro ties
    assert list(table.index) == ["b", "a"]
    assert table.loc["a", "n_tasks"] == 4
    assert table.loc["a", "n_categories"] == 2
    assert list(table.columns[:2]) == ["Promoters", "TF Binding"]  # GENEB category order


def test_regimes_in_protocol_order_and_rendering(tmp_path) -> None:  # type: ignore[no-untyped-def]
    frame = _frame()
    assert list(leaderboards(frame)) == ["full", "1shot"]
    assert leaderboards(frame)["1shot"].loc["a", "macro"] == pytest.approx(np.mean([0.1, 0.3]))
    text = render_text(frame)
    assert "MCC - full" in text
    assert "0.4000" in text
    paths = write_reports(frame, tmp_path)
    assert {p.name for p in paths} == {"leaderboard.md", "leaderboard.csv", "leaderboard.tex", "results.csv"}
    csv = pd.read_csv(tmp_path / "leaderboard.csv")
    row = csv[(csv.regime == "full") & (csv.metric == "mcc") & (csv.model == "a")]
    assert row["macro"].item() == pytest.approx(0.4)
