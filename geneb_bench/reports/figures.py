"""Figures of a wide table (published and/or local rows), as PNG and SVG, with matplotlib's Agg backend.

Agg is forced so figures render on headless machines and CI; every function returns the figure so callers
(tests, the HTML report) can save or inspect it. Figures are registered (``register_figure``, or an entry
point in group ``geneb_bench.figures``): a figure registered once is written by ``geneb figures`` and shown
in ``report.html``; :func:`write_figures` writes every registered one.

Only rankable rows (published, complete GENEB-suite protocol runs: ``status == "complete"``) take part in
the published order and the scaling plot; partial, lite/custom-suite and variant rows go in a separate,
titled panel below, each labelled with its status.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from geneb_bench.extension import Registry
from geneb_bench.reports.analyses import REGIME_NAMES, categories_in, rankable, scaling, winners
from geneb_bench.reports.published import COMPLETE

FORMATS = ("png", "svg")
LOCAL_COLOUR = "#d62728"
Draw = Callable[[pd.DataFrame, str], Figure]


def _labels(sub: pd.DataFrame) -> list[str]:
    """Display names where known, marking local and partial rows so they are never mistaken for official."""
    labels = []
    for _, row in sub.iterrows():
        display = row.get("display")
        label = str(display) if isinstance(display, str) and display else str(row["model"])
        if row.get("provenance") == "local":
            label += " [local]"
        elif row.get("provenance") == "self-reported":
            label += " [self-rep.]"
        status = row.get("status")
        if isinstance(status, str) and status != COMPLETE:
            label += f" ({status})"
        labels.append(label)
    return labels


def split_ranked(sub: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rankable rows, the others): rows without a status (a bare table) all count as rankable."""
    if "status" not in sub.columns:
        return sub, sub.iloc[0:0]
    ranked = sub["status"].fillna(COMPLETE) == COMPLETE
    return sub[ranked], sub[~ranked]


def _heat(ax: Axes, sub: pd.DataFrame, columns: list[str], vmin: float) -> AxesImage:
    values = sub[columns].to_numpy(dtype=float)
    image = ax.imshow(values, aspect="auto", cmap="viridis", vmin=vmin, vmax=1.0)
    ax.set_xticks(range(len(columns)), columns, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(sub)), _labels(sub), fontsize=7)
    for (i, j), v in np.ndenumerate(values):
        if not np.isnan(v):
            ax.text(
                j,
                i,
                f"{v:.2f}",
                ha="center",
                va="center",
                fontsize=5.5,
                color="white" if v < 0.5 else "black",
            )
    for tick, prov in zip(ax.get_yticklabels(), sub.get("provenance", pd.Series(dtype=str)), strict=False):
        if prov == "local":
            tick.set_color(LOCAL_COLOUR)
    return image


def heatmap(table: pd.DataFrame, regime: str = "full") -> Figure:
    """Models (rows, best macro first) x categories (+ macro), coloured by MCC, values printed; unranked rows
    in a second panel below."""
    sub = table[table["regime"] == regime].sort_values("macro", ascending=False)
    columns = [*categories_in(sub), "macro"]
    vmin = min(0.0, float(np.nanmin(sub[columns].to_numpy(dtype=float))))
    ranked, others = split_ranked(sub)
    panels = [
        (part, title)
        for part, title in (
            (ranked, f"GENEB MCC by category ({regime})"),
            (others, "Not ranked: partial, synthetic or custom suite, or protocol variant (not comparable)"),
        )
        if not part.empty
    ]
    fig, axes = plt.subplots(
        len(panels),
        1,
        squeeze=False,
        figsize=(4.0 + 0.62 * len(columns), 1.6 * len(panels) + 0.24 * len(sub)),
        gridspec_kw={"height_ratios": [max(1, len(p)) for p, _ in panels]},
        layout="constrained",
    )
    image = None
    for ax, (part, title) in zip(axes[:, 0], panels, strict=True):
        image = _heat(ax, part, columns, vmin)
        ax.set_title(title, fontsize=9 if part is others else 10)
    if image is not None:
        fig.colorbar(image, ax=list(axes[:, 0]), label="MCC", fraction=0.03)
    return fig


def scaling_scatter(table: pd.DataFrame, regime: str = "full") -> Figure:
    """log10 params vs macro-MCC with the Spearman rho of the official rows (all rows if none are official)."""
    sub, unranked = split_ranked(table[(table["regime"] == regime) & table["params"].notna()])
    ref = sub[sub["provenance"] == "official"] if (sub["provenance"] == "official").any() else sub
    rho = scaling(ref, regime)
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for prov, colour, marker in (
        ("official", "#1f77b4", "o"),
        ("self-reported", "#ff7f0e", "s"),
        ("local", LOCAL_COLOUR, "*"),
    ):
        part = sub[sub["provenance"] == prov]
        if not part.empty:
            ax.scatter(
                part["params"],
                part["macro"],
                c=colour,
                marker=marker,
                s=60 if prov == "local" else 30,
                label=prov,
                zorder=3,
            )
            for label, (_, row) in zip(_labels(part), part.iterrows(), strict=True):
                ax.annotate(
                    label.split(" [")[0],
                    (row["params"], row["macro"]),
                    fontsize=6,
                    xytext=(3, 2),
                    textcoords="offset points",
                )
    ax.set_xscale("log")
    ax.set_xlabel("parameters (log scale)")
    ax.set_ylabel(f"macro-MCC ({regime})")
    left_out = (
        f"\n{len(unranked)} unranked rows (partial, other suite or variant) not shown"
        if len(unranked)
        else ""
    )
    ax.set_title(f"Scale vs GENEB macro-MCC: Spearman {rho}{left_out}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def regimes_plot(table: pd.DataFrame) -> Figure:
    """Macro-MCC per model in full, 10shot and 1shot (models ordered by full): how much few-shot costs."""
    wide = table.pivot_table(index="model", columns="regime", values="macro")
    by = "full" if "full" in wide.columns else wide.columns[0]
    _ranked, other_rows = split_ranked(table.drop_duplicates("model"))
    unranked = [m for m in wide.sort_values(by).index if m in set(other_rows["model"])]
    order = pd.Index(unranked + [m for m in wide.sort_values(by).index if m not in set(unranked)])
    first = table.drop_duplicates("model").set_index("model").loc[order].reset_index()
    fig, ax = plt.subplots(figsize=(7.5, 1.2 + 0.22 * len(order)))
    y = np.arange(len(order))
    for regime, marker in zip(REGIME_NAMES, ("o", "s", "^"), strict=True):
        if regime in wide.columns:
            ax.scatter(wide.loc[order, regime], y, marker=marker, label=regime, s=22, zorder=3)
    ax.hlines(y, wide.loc[order].min(axis=1), wide.loc[order].max(axis=1), color="grey", lw=0.8)
    ax.set_yticks(y, _labels(first), fontsize=7)
    if unranked:  # the unranked rows sit below a line, apart from the published order
        ax.axhline(len(unranked) - 0.5, color="black", lw=1, ls="--")
        ax.text(
            0.01,
            len(unranked) - 0.45,
            "above: ranked; below: not ranked (partial, other suite, variant)",
            transform=ax.get_yaxis_transform(),
            fontsize=6,
            va="bottom",
        )
    ax.set_xlabel("macro-MCC")
    ax.set_title("Full data vs 10-shot vs 1-shot", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def winners_plot(table: pd.DataFrame) -> Figure:
    """Winner per category and regime among rankable rows; cells whose winner differs from full are shaded."""
    frame = winners(rankable(table))
    present = [r for r in REGIME_NAMES if f"{r}_winner" in frame.columns]
    changed = np.array(
        [[row[f"{r}_winner"] != row[f"{present[0]}_winner"] for r in present] for _, row in frame.iterrows()],
        dtype=float,
    )
    fig, ax = plt.subplots(figsize=(3.0 + 3.0 * len(present), 1.0 + 0.38 * len(frame)))
    ax.imshow(changed, aspect="auto", cmap="Pastel1_r", vmin=0, vmax=1)
    for i, (_, row) in enumerate(frame.iterrows()):
        for j, regime in enumerate(present):
            ax.text(
                j,
                i,
                f"{row[f'{regime}_winner']}\n{row[f'{regime}_score']:.3f}",
                ha="center",
                va="center",
                fontsize=6.5,
            )
    ax.set_xticks(range(len(present)), present)
    ax.set_yticks(range(len(frame)), frame["category"], fontsize=8)
    ax.xaxis.tick_top()
    n = int(frame.loc[frame["category"] != "macro", "changed"].sum()) if "changed" in frame else 0
    ax.set_title(
        f"Winner per category (shaded: differs from {present[0]}); "
        f"full vs 10shot differ in {n} of {int((frame['category'] != 'macro').sum())}",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


@dataclass(frozen=True)
class FigureSpec:
    """A registered figure: how to draw it from the wide table, and how ``report.html`` shows it."""

    name: str
    draw: Callable[[pd.DataFrame, str], Figure]  # (wide table, regime) -> figure
    caption: str
    inline_svg: bool = False  # report.html: inline SVG (crisp text) rather than a PNG

    @property
    def origin_of(self) -> object:
        return self.draw


FIGURES: Registry[FigureSpec] = Registry(
    "figure", "geneb_bench.figures", adapt=lambda name, draw: FigureSpec(name, draw, name)
)


def register_figure(name: str, caption: str, *, inline_svg: bool = False) -> Callable[[Draw], Draw]:
    """Decorator: ``draw(table, regime) -> Figure`` becomes a figure of ``geneb figures`` and ``report.html``.

    ``table`` is the wide table (``reports.published``: one row per model and regime, published rows and
    the local ones, ``provenance`` telling them apart). An installed package registers one by entry point
    instead (group ``geneb_bench.figures``; the entry point's name is the figure's, its object ``draw``).
    """

    def decorate(draw: Draw) -> Draw:
        FIGURES.register(name, FigureSpec(name, draw, caption, inline_svg))
        return draw

    return decorate


register_figure("heatmap", "MCC per model and category, full data (local rows in red)")(heatmap)
register_figure("scaling", "Parameters vs macro-MCC; rho over the official rows", inline_svg=True)(
    scaling_scatter
)
register_figure("regimes", "Macro-MCC in the three regimes")(lambda table, _regime: regimes_plot(table))
register_figure(
    "winners", "Winner per category and regime (official + complete local GENEB runs)", inline_svg=True
)(lambda table, _regime: winners_plot(table))


def save_figure(spec: FigureSpec, table: pd.DataFrame, out_dir: Path, regime: str = "full") -> list[Path]:
    """Draw one figure and write it as ``<name>.png`` and ``<name>.svg`` under ``out_dir``."""
    fig = spec.draw(table, regime)
    try:
        paths = []
        for fmt in FORMATS:
            path = Path(out_dir) / f"{spec.name}.{fmt}"
            fig.savefig(
                path, dpi=150 if fmt == "png" else None, metadata={"Date": None} if fmt == "svg" else None
            )
            paths.append(path)
        return paths
    finally:
        plt.close(fig)


def write_figures(table: pd.DataFrame, out_dir: Path, regime: str = "full") -> dict[str, list[Path]]:
    """Every registered figure as ``<name>.png`` and ``<name>.svg`` under ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return {name: save_figure(spec, table, out_dir, regime) for name, spec in FIGURES.items()}
