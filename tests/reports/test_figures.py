"""Figures render headless as PNG and SVG and mark local/partial rows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.container import ErrorbarContainer
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


# -- the user's model on the scaling plot, with its recorded parameter count and CI ---------------------------
OWN = "my-dna-model"  # neither a published nor a registry model: only its run knows its size


def _own_points(ax: Axes) -> tuple[list[tuple[float, float]], list[str]]:
    """The plotted (params, macro) of the user's-model series, and the annotation texts of the axes."""
    series = [c for c in ax.collections if str(c.get_label()).startswith("your run (")]
    points = [(float(x), float(y)) for c in series for x, y in np.asarray(c.get_offsets())]
    return points, [t.get_text() for t in ax.texts]


def _bars(ax: Axes, axis: str) -> list[np.ndarray]:
    """The segments of every error bar drawn along ``axis`` ("x" or "y")."""
    containers = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    chosen = [c for c in containers if (c.has_xerr if axis == "x" else c.has_yerr)]
    return [np.asarray(seg) for c in chosen for seg in c.lines[2][0].get_segments()]


def test_the_users_complete_run_is_on_the_scaling_plot_at_its_recorded_size(
    tmp_path: Path, session_writer: RunWriter
) -> None:
    session_writer(
        tmp_path, OWN, regimes=("full",), score=lambda t, r: 0.6, outcomes=True, n_params=2_500_000
    )
    local = results_table(tmp_path)
    table = pd.concat([published_table(), local], ignore_index=True)
    fig = figures.scaling_scatter(table)
    assert len(fig.axes) == 1, "a complete GENEB run needs no 'not ranked' panel"
    points, texts = _own_points(fig.axes[0])
    macro = float(local.loc[local["model"] == OWN, "macro"].iloc[0])
    assert points == [pytest.approx((2_500_000.0, macro))]
    assert f"{OWN} (2.5M)" in texts
    # its 95% CI as an error bar around the point; published rows have none
    low, high = local.loc[local["model"] == OWN, ["macro_ci_low", "macro_ci_high"]].iloc[0]
    assert low < macro < high
    segments = _bars(fig.axes[0], "y")
    assert [[tuple(p) for p in seg] for seg in segments] == [
        [pytest.approx((2_500_000.0, low)), pytest.approx((2_500_000.0, high))]
    ]
    plt.close(fig)


def test_a_partial_run_of_the_users_model_shares_the_axes_hollow_and_labelled(
    tmp_path: Path, session_writer: RunWriter, tf_tasks: list[str]
) -> None:
    session_writer(tmp_path, OWN, tasks=tf_tasks, regimes=("full",), n_params=134_000)
    table = pd.concat([published_table(), results_table(tmp_path)], ignore_index=True)
    fig = figures.scaling_scatter(table)
    (ax,) = fig.axes  # one pair of axes: the user's size read against the published ones
    points, texts = _own_points(ax)
    assert [p[0] for p in points] == [134_000.0]
    (series,) = [c for c in ax.collections if "not comparable" in str(c.get_label())]
    faces = np.asarray(series.get_facecolor(), dtype=float).reshape(-1, 4)
    assert faces.size == 0 or (faces[:, 3] == 0).all()  # hollow
    assert any(t.startswith(f"{OWN} (134K)") and "5/100 tasks" in t for t in texts)
    assert "rho = 0.573" in ax.get_title()  # the partial row is not in rho
    assert not _bars(ax, "y"), "no outcomes recorded: no error bars"
    plt.close(fig)


def _label_overlaps() -> int:
    fig = figures.scaling_scatter(published_table())
    fig.canvas.draw()
    boxes = [t.get_window_extent() for t in fig.axes[0].texts]
    assert len(boxes) == 41  # 40 official rows and the self-reported one
    plt.close(fig)
    return sum(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def test_scaling_labels_are_placed_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("adjustText", reason="pip install 'geneb-bench[report]'")
    placed = _label_overlaps()
    monkeypatch.setattr(figures, "place_labels", lambda ax, texts: None)
    at_points = _label_overlaps()
    assert placed <= 3 < at_points


def test_regimes_plot_draws_each_local_rows_interval(tmp_path: Path, session_writer: RunWriter) -> None:
    session_writer(tmp_path, OWN, tasks=["iDNA_ABF_6mA"], score=lambda t, r: 0.5, outcomes=True)
    local = results_table(tmp_path)
    fig = figures.regimes_plot(local)
    segments = _bars(fig.axes[0], "x")
    assert len(segments) == 3  # full, 10shot, 1shot: one bar each
    spans = sorted(tuple(seg[:, 0]) for seg in segments)
    expected = sorted(tuple(v) for v in local[["macro_ci_low", "macro_ci_high"]].to_numpy())
    assert spans == [pytest.approx(e) for e in expected]
    plt.close(fig)
