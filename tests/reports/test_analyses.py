"""The paper's numbers, reproduced exactly from the packaged table, and the analyses on results dirs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import SupportsFloat, cast

import numpy as np
import pandas as pd
import pytest

from geneb_bench.cli import main
from geneb_bench.reports import analyses
from geneb_bench.reports.published import published_table
from geneb_bench.results.aggregate import tidy
from geneb_bench.results.record import iter_results


def _num(value: object) -> float:
    """A numeric ``DataFrame.loc`` cell as a float (pandas-stubs type a cell as a union of every scalar)."""
    return float(cast(SupportsFloat, value))


RunWriter = Callable[..., Path]


@pytest.fixture(scope="module")
def official() -> pd.DataFrame:
    return analyses.official(published_table())


def test_official_rows_are_the_40(official: pd.DataFrame) -> None:
    assert len(official[official["regime"] == "full"]) == 40
    assert "splicebert-1024nt" not in set(official["model"])


def test_scaling_reproduces_the_paper(official: pd.DataFrame) -> None:
    all40 = analyses.scaling(official)
    without_evo = analyses.scaling(official, exclude=["evo-1-131k-base"])
    assert (round(all40.rho, 3), all40.n) == (0.573, 40)
    assert (round(without_evo.rho, 3), without_evo.n) == (0.694, 39)
    assert all40.p < 1e-3
    assert without_evo.p < 1e-5


def test_category_scaling_has_every_category(official: pd.DataFrame) -> None:
    frame = analyses.category_scaling(official)
    assert len(frame) == 15
    assert round(_num(frame.set_index("category").loc["macro", "rho"]), 3) == 0.573


def test_winner_changes_between_regimes(official: pd.DataFrame) -> None:
    assert analyses.winner_changes(official, "full", "10shot") == (8, 13)
    frame = analyses.winners(official).set_index("category")
    assert frame.loc["Promoters", "full_winner"] == "GENERator-eukaryote-3b-base"
    assert frame.loc["Histone Mod.", "10shot_winner"] == "MutBERT"


def test_smaller_beats_larger_finds_mutbert(official: pd.DataFrame) -> None:
    pairs = analyses.smaller_beats_larger(official, ratio=6)
    row = pairs[(pairs["smaller"] == "MutBERT") & (pairs["larger"] == "eccdnamamba_weights")]
    assert len(row) == 1
    assert round(float(row["smaller_score"].iloc[0]), 3) == 0.529
    assert round(float(row["larger_score"].iloc[0]), 3) == 0.419
    assert round(float(row["gap"].iloc[0]), 2) == 0.11
    assert (pairs["size_ratio"] >= 6).all()
    assert (pairs["gap"] > 0).all()
    stricter = analyses.smaller_beats_larger(official, ratio=7)  # 537M / 86M = 6.24
    assert not ((stricter["smaller"] == "MutBERT") & (stricter["larger"] == "eccdnamamba_weights")).any()


def test_category_correlations(official: pd.DataFrame) -> None:
    corr = analyses.category_correlations(official)
    assert corr.shape == (13, 13)
    assert np.allclose(np.diag(corr), 1.0)
    assert np.allclose(corr, corr.T)


@pytest.mark.parametrize("by", ["architecture", "tokenization", "pretraining_data"])
def test_group_comparison(official: pd.DataFrame, by: str) -> None:
    groups, test = analyses.group_comparison(official, by)
    assert groups["n"].sum() == 40
    assert test is not None
    assert 0 <= test.p <= 1


def test_bootstrap_over_categories_is_seeded(official: pd.DataFrame) -> None:
    a = analyses.bootstrap_categories(official, n_boot=200, seed=1)
    b = analyses.bootstrap_categories(official, n_boot=200, seed=1)
    c = analyses.bootstrap_categories(official, n_boot=200, seed=2)
    pd.testing.assert_frame_equal(a, b)
    assert not a["macro_lo"].equals(c["macro_lo"])
    assert ((a["macro_lo"] <= a["macro"]) & (a["macro"] <= a["macro_hi"])).all()
    assert a["model"].iloc[0] == "GENERator-eukaryote-3b-base"
    assert a["rank_lo"].min() == 1


def test_bootstrap_over_tasks(tmp_path: Path, run_writer: RunWriter) -> None:
    run_writer(tmp_path, "good", regimes=("full",), score=lambda t, r: 0.6 + (len(t) % 7) / 100)
    run_writer(tmp_path, "bad", regimes=("full",), score=lambda t, r: 0.1 + (len(t) % 5) / 100)
    frame = tidy(iter_results(tmp_path))
    boot = analyses.bootstrap_tasks(frame, n_boot=100, seed=0).set_index("model")
    assert boot.loc["good", "rank_hi"] == 1
    assert boot.loc["bad", "rank_lo"] == 2
    assert (
        _num(boot.loc["good", "macro_lo"])
        < _num(boot.loc["good", "macro"])
        < _num(boot.loc["good", "macro_hi"])
    )
    again = analyses.bootstrap_tasks(frame, n_boot=100, seed=0).set_index("model")
    pd.testing.assert_frame_equal(boot, again)


def test_rankable_drops_partial_and_self_reported() -> None:
    local = pd.DataFrame(
        [
            {
                "regime": "full",
                "model": "mine",
                "provenance": "local",
                "status": "partial: 5/100 tasks",
                "suite": "geneb",
                "Promoters": 0.99,
                "macro": 0.99,
            }
        ]
    )
    table = pd.concat([published_table(), local], ignore_index=True)
    kept = analyses.rankable(table)
    assert "mine" not in set(kept["model"])
    assert "splicebert-1024nt" not in set(kept["model"])
    assert analyses.winners(kept).set_index("category").loc["Promoters", "full_winner"] != "mine"


def test_cli_prints_the_paper_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "scaling"]) == 0
    out = capsys.readouterr().out
    assert "rho = 0.573" in out
    assert "without evo-1-131k-base: rho = 0.694" in out
    assert main(["analyze", "winners"]) == 0
    assert "full vs 10shot: the winner differs in 8 of 13 categories" in capsys.readouterr().out
    assert main(["analyze", "smaller-beats-larger", "--ratio", "6", "--top", "100"]) == 0
    assert "eccdnamamba_weights" in capsys.readouterr().out
    for name in ("category-corr", "groups"):
        assert main(["analyze", name]) == 0
    assert main(["analyze", "bootstrap", "--n-boot", "50"]) == 0
    assert "over the 13 categories" in capsys.readouterr().out


def test_cli_bootstrap_on_results_dir(
    tmp_path: Path, run_writer: RunWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    run_writer(tmp_path, "m1", regimes=("full",))
    assert main(["analyze", "bootstrap", str(tmp_path), "--n-boot", "20"]) == 0
    assert "Bootstrap over tasks" in capsys.readouterr().out
