"""The packaged published leaderboard and the wide tables built from results dirs."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from geneb_bench.categories import CATEGORY_NAMES
from geneb_bench.reports import published
from geneb_bench.reports.published import published_models, published_table, results_table

RunWriter = Callable[..., Path]


def test_reference_tables_ship_with_the_package() -> None:
    folder = resources.files("geneb_bench.reports").joinpath("reference")
    assert folder.joinpath("geneb_leaderboard_mcc.csv").is_file()
    assert folder.joinpath("geneb_models.csv").is_file()
    assert "Ledneva" in (published.__doc__ or "")
    assert "9642d481" in published.CITATION


def test_published_table_shape_and_macro() -> None:
    table = published_table()
    assert len(table) == 123
    assert table.groupby("regime").size().to_dict() == {"full": 41, "10shot": 41, "1shot": 41}
    assert (published_table(official_only=True).groupby("regime").size() == 40).all()
    macro = table[list(CATEGORY_NAMES)].mean(axis=1)
    assert np.allclose(macro, table["macro"], atol=6e-4)
    assert set(table["status"]) == {"complete"}
    assert len(published_models()) == 40
    assert (table.loc[table["provenance"] == "official", "architecture"] != "").all()


def test_partial_geneb_run_is_labelled(tmp_path: Path, run_writer: RunWriter, tf_tasks: list[str]) -> None:
    run_writer(tmp_path, "mine", tasks=tf_tasks, regimes=("full",))
    table = results_table(tmp_path)
    assert table["status"].tolist() == ["partial: 5/100 tasks"]
    assert table["suite"].tolist() == ["geneb"]


def test_complete_geneb_run_is_complete(tmp_path: Path, run_writer: RunWriter) -> None:
    run_writer(tmp_path, "mine", regimes=("full",))
    table = results_table(tmp_path)
    assert table["status"].tolist() == ["complete"]
    assert table["macro"].iloc[0] == pytest.approx(0.5)


def test_empty_dir_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no result files"):
        results_table(tmp_path)
