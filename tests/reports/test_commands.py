"""``--json`` of ``geneb analyze`` and ``geneb report``: one JSON document on stdout with what the text shows."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geneb_bench.categories import CATEGORY_NAMES
from geneb_bench.cli import main
from geneb_bench.reports.commands import ANALYSES, jsonable

from .conftest import RunWriter


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)  # all of stdout is the document


@pytest.mark.parametrize("analysis", ANALYSES)
def test_analyze_json_says_what_the_text_says(analysis: str, capsys: pytest.CaptureFixture[str]) -> None:
    extra = ["--n-boot", "50"] if analysis == "bootstrap" else []
    assert main(["analyze", analysis, *extra]) == 0
    text = capsys.readouterr().out
    doc = run_json(capsys, "analyze", analysis, *extra)
    assert (doc["analysis"], doc["source"], doc["regime"]) == (analysis, "published", "full")
    assert doc["defects"]  # the published rows with known defects, as the text lists them
    assert all(f"  {line}" in text for line in doc["defects"])
    if analysis == "scaling":
        rho = doc["spearman"]
        assert (round(rho["rho"], 3), rho["n"]) == (0.573, 40)
        assert round(doc["without"]["evo-1-131k-base"]["rho"], 3) == 0.694
        assert f"rho = {rho['rho']:.3f} (p = {rho['p']:.2g}, n = 40)" in text
        shown = [r["category"] for r in doc["per_category"]]
        assert shown == [*CATEGORY_NAMES, "macro", "micro"]
    elif analysis == "winners":
        changes = {c["regimes"][1]: (c["changed"], c["categories"]) for c in doc["winner_changes"]}
        assert changes["10shot"] == (8, 13)
        for other, (changed, total) in changes.items():
            assert f"full vs {other}: the winner differs in {changed} of {total} categories" in text
        assert all(row["full_winner"] in text for row in doc["winners"])
    elif analysis == "category-corr":
        rows = {r["category"]: r for r in doc["spearman"]}
        assert len(rows) == 13
        assert all(rows[c][c] == pytest.approx(1.0) for c in rows)
        assert all(rows[a][b] == pytest.approx(rows[b][a]) for a in rows for b in rows)
    elif analysis == "smaller-beats-larger":
        assert f"{doc['n_pairs']} pairs where a model >= 6x smaller" in text
        assert len(doc["pairs"]) == min(20, doc["n_pairs"])
        assert all(p["smaller_params"] * 6 <= p["larger_params"] for p in doc["pairs"])
    elif analysis == "groups":
        test = doc["kruskal_wallis"]
        assert f"Kruskal-Wallis H = {test['h']:.3f}" in text
        assert sum(g["n"] for g in doc["groups"]) == 40
    else:
        intervals = doc["intervals"]
        assert len(intervals) == 40
        assert all(r["macro_lo"] <= r["macro"] <= r["macro_hi"] for r in intervals)
        assert doc["n_boot"] == 50


def test_analyze_bootstrap_json_on_a_results_dir(
    tmp_path: Path, run_writer: RunWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    run_writer(tmp_path, "kmer-3", regimes=("full",), score=lambda task, regime: 0.3)
    run_writer(tmp_path, "kmer-6", regimes=("full",), score=lambda task, regime: 0.6)
    doc = run_json(capsys, "analyze", "bootstrap", str(tmp_path), "--n-boot", "20")
    assert doc["resampled"] == "tasks (stratified by category)"
    rows = {r["model"]: r for r in doc["intervals"]}
    assert rows["kmer-6"]["rank"] == 1
    assert rows["kmer-3"]["rank"] == 2
    for model, score in (("kmer-3", 0.3), ("kmer-6", 0.6)):  # every task scores the same: no spread
        assert rows[model]["macro"] == pytest.approx(score)
        assert rows[model]["macro_lo"] == pytest.approx(score)
        assert rows[model]["macro_hi"] == pytest.approx(score)


def test_report_json_of_a_complete_run_ranks_it(
    complete_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = run_json(capsys, "report", str(complete_run), "-o", str(tmp_path), "--compare-published")
    assert doc["suite_tasks"] == 100
    boards = {b["regime"]: b for b in doc["leaderboards"]}
    assert sorted(boards) == ["10shot", "1shot", "full"]
    (row,) = boards["full"]["rows"]
    assert (row["model"], row["rank"], row["n_tasks"], row["n_categories"]) == ("kmer-3", 1, 100, 13)
    assert row["macro"] == pytest.approx(0.123456789)
    assert boards["full"]["ranking"] == "ranked by macro"
    assert doc["not_ranked"] == []
    published = doc["published"]
    placement = [p for p in published["placement"] if p["regime"] == "full"]
    assert [p["category"] for p in placement] == [*CATEGORY_NAMES, "macro", "micro"]
    assert all(p["rank"] is not None and p["score"] == pytest.approx(0.123456789) for p in placement)
    board = {r["model"]: r for r in published["leaderboard"]}
    official = [r for r in board.values() if r["provenance"] == "official"]
    assert len(official) == 40
    assert board["kmer-3"]["macro"] == pytest.approx(0.1235, abs=1e-4)
    assert board["kmer-3"]["rank"] > max(r["rank"] for r in official)  # 0.12: below every published model


@given(
    st.recursive(
        st.floats() | st.integers() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    )
)
def test_jsonable_is_always_strict_json(value: Any) -> None:
    """NaN and infinities become null (JSON has neither); everything else survives a round trip."""
    strict = json.dumps(jsonable(value), allow_nan=False)  # raises on any NaN or infinity left
    if finite(value):
        assert json.loads(strict) == json.loads(json.dumps(value))


def finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(map(finite, value.values()))
    if isinstance(value, list):
        return all(map(finite, value))
    return True
