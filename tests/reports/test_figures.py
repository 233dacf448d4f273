"""Figures render headless as PNG and SVG and mark local/partial rows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure

from geneb_bench.reports import figures
from geneb_bench.reports.published import published_table, results_table

RunWriter = Callable[..., Path]


@pytest.fixture(scope="module")
def small_table(
    tmp_path_factory: pytest.TempPathFactory, session_writer: RunWriter, tf_tasks: list[str]
) -> pd.DataFrame:
    write_run = session_writer
    root = tmp_path_factory.mktemp("fig")
    write_run(root, "kmer-3", tasks=tf_tasks, score=lambda t, r: 0.4)
    reference = published_table()
    keep = reference["model"].isin(["MutBERT", "eccdnamamba_weights", "GenomeOcean-4B", "splicebert-1024nt"])
    return pd.concat([reference[keep], results_table(root)], ignore_index=True)


def test_write_figures_png_and_svg(small_table: pd.DataFrame, tmp_path: Path) -> None:
    written = figures.write_figures(small_table, tmp_path)
    assert set(written) == {"heatmap", "scaling", "regimes", "winners"}
    for png, svg in written.values():
        assert png.read_bytes().startswith(b"\x89PNG")
        assert "<svg" in svg.read_text()


def test_heatmap_puts_partial_rows_in_their_own_panel(small_table: pd.DataFrame) -> None:
    fig = figures.heatmap(small_table)
    ranked = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    apart = [t.get_text() for t in fig.axes[1].get_yticklabels()]
    assert any("[local]" in label and "partial: 5/100 tasks" in label for label in apart)
    assert not any("[local]" in label for label in ranked)  # never sorted in among the published rows
    assert "Not ranked" in fig.axes[1].get_title()
    assert any("[self-rep.]" in label for label in ranked)
    assert isinstance(fig, Figure)


def test_scaling_title_carries_rho() -> None:
    fig = figures.scaling_scatter(published_table())
    assert "rho = 0.573" in fig.axes[0].get_title()


def test_registering_another_figure_under_a_taken_name_is_refused() -> None:
    with pytest.raises(
        ValueError, match=r"figure 'heatmap' is already registered \(by geneb_bench\.reports\.figures"
    ):
        figures.register_figure("heatmap", "mine")(lambda table, regime: figures.heatmap(table, regime))
    assert list(figures.FIGURES.names())[:4] == ["heatmap", "scaling", "regimes", "winners"]
