"""Figures of a wide table (published and/or local rows), as PNG and SVG, with matplotlib's Agg backend.

Agg is forced so figures render on headless machines and CI; every function returns the figure so callers
(tests, the HTML report) can save or inspect it. Figures are registered (``register_figure``, or an entry
point in group ``geneb_bench.figures``): a figure registered once is written by ``geneb figures`` and shown
in ``report.html``; :func:`write_figures` writes every registered one.

Only rankable rows (published, complete GENEB-suite protocol runs: ``status == "complete"``) take part in
the published order and rho; partial, lite/custom-suite and variant rows are drawn apart (the heatmap's
second panel, hollow markers on the scaling plot's shared axes), each labelled with its status. A table
with a ``basis`` column (report.html's matched comparison) names it in the titles. Where the table carries ``macro_ci_low``/``macro_ci_high``
(local rows read from result files, ``results.uncertainty``), plotted macros get 95% CI error bars.
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
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from geneb_bench.extension import Registry
from geneb_bench.reports.analyses import REGIME_NAMES, categories_in, rankable, scaling, winners
from geneb_bench.reports.published import COMPLETE, published_models
from geneb_bench.text import human_count

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
    ax.set_xticks(range(len(columns)), columns, rotation=40, ha="right", fontsize=9)
    ax.set_yticks(range(len(sub)), _labels(sub), fontsize=9)
    for (i, j), v in np.ndenumerate(values):
        if not np.isnan(v):
            ax.text(
                j,
                i,
                f"{v:.2f}",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if v < 0.5 else "black",
            ).set_in_layout(False)  # inside the axes: keeps constrained layout from measuring 600 texts
    provenance = sub.get("provenance", pd.Series("", index=sub.index)).tolist()
    for i, (tick, prov) in enumerate(zip(ax.get_yticklabels(), provenance, strict=False)):
        if prov == "local":  # the user's rows: red bold label and a red frame round the row
            tick.set_color(LOCAL_COLOUR)
            tick.set_fontweight("bold")
            ax.add_patch(
                Rectangle((-0.5, i - 0.5), len(columns), 1, fill=False, edgecolor=LOCAL_COLOUR, linewidth=2)
            )
    return image


def heatmap(table: pd.DataFrame, regime: str = "full") -> Figure:
    """Models (rows, best macro first) x categories (+ macro), coloured by MCC, values printed; the user's rows
    framed in red; unranked rows in a second panel below."""
    sub = table[table["regime"] == regime].sort_values("macro", ascending=False)
    columns = [*categories_in(sub), "macro"]
    vmin = min(0.0, float(np.nanmin(sub[columns].to_numpy(dtype=float))))
    ranked, others = split_ranked(sub)
    panels = [
        (part, title)
        for part, title in (
            (ranked, f"GENEB MCC by category ({regime}){_basis(sub)}"),
            (others, "Not ranked: partial, synthetic or custom suite, or protocol variant (not comparable)"),
        )
        if not part.empty
    ]
    fig, axes = plt.subplots(
        len(panels),
        1,
        squeeze=False,
        figsize=(3.2 + 0.55 * len(columns), 1.4 + 0.8 * len(panels) + 0.27 * len(sub)),
        gridspec_kw={"height_ratios": [max(1, len(p)) for p, _ in panels]},
        layout="constrained",
    )
    image = None
    for k, (ax, (part, title)) in enumerate(zip(axes[:, 0], panels, strict=True)):
        image = _heat(ax, part, columns, vmin)
        ax.set_title(title, fontsize=10)
        if k < len(panels) - 1:  # column names once, under the last panel
            ax.tick_params(axis="x", labelbottom=False)
    if image is not None:
        fig.colorbar(image, ax=list(axes[:, 0]), label="MCC", fraction=0.03)
    return fig


def _ci_errors(part: pd.DataFrame, centre: str = "macro") -> np.ndarray | None:
    """Asymmetric error bars (2 x n) from ``macro_ci_low``/``macro_ci_high``; None when no row has a CI."""
    if "macro_ci_low" not in part.columns or part["macro_ci_low"].isna().all():
        return None
    centre_values = part[centre].to_numpy(dtype=float)
    low = centre_values - part["macro_ci_low"].to_numpy(dtype=float)
    high = part["macro_ci_high"].to_numpy(dtype=float) - centre_values
    return np.asarray(np.nan_to_num(np.vstack([low, high]).clip(min=0.0)), dtype=float)  # no CI: no bar


def own_models(part: pd.DataFrame) -> pd.Series:
    """Local rows of a model that is not in the published table (the user's own model): drawn apart."""
    published = set(published_models().index)
    return (part.get("provenance", pd.Series("", index=part.index)) == "local") & ~part["model"].isin(
        published
    )


# (provenance or "own", colour, marker, size, legend label): the user's own model is a red diamond
_SCALING_STYLES = (
    ("official", "#1f77b4", "o", 30, "official"),
    ("self-reported", "#ff7f0e", "s", 30, "self-reported"),
    ("local", LOCAL_COLOUR, "*", 90, "your run of a published model"),
    ("own", LOCAL_COLOUR, "D", 50, "your run (params as recorded)"),
)


def _basis(table: pd.DataFrame) -> str:
    """A title suffix naming the basis when the table is a matched comparison (its ``basis`` column)."""
    if "basis" in table.columns and table["basis"].notna().any():
        return f"\n{table['basis'].dropna().iloc[0]}"
    return ""


def place_labels(ax: Axes, texts: list[Text]) -> None:
    """Move labels apart with adjustText (a thin line back to each point); without it labels stay put."""
    try:
        from adjustText import adjust_text
    except ImportError:  # pip install 'geneb-bench[report]'
        return
    if len(texts) > 1:
        adjust_text(
            texts,
            ax=ax,
            expand=(1.05, 1.3),
            arrowprops={"arrowstyle": "-", "color": "0.55", "lw": 0.5},
            iter_lim=500,  # a count, not a time limit: the same figure on every machine
        )


def _kind(sub: pd.DataFrame) -> pd.Series:
    """official / self-reported / local (your run of a published model) / own (your model, unpublished)."""
    kind = sub["provenance"].astype(str).copy()
    kind[own_models(sub)] = "own"
    return kind


def _scaling_points(ax: Axes, placed: pd.DataFrame, apart: pd.Series) -> list[Text]:
    """Every row with a parameter count on one pair of axes; rows not comparable hollow, labelled with their
    coverage. Returns the labels (for placement)."""
    texts: list[Text] = []
    kinds = _kind(placed)
    for kind, colour, marker, size, legend in _SCALING_STYLES:
        for hollow in (False, True):
            part = placed[(kinds == kind) & (apart == hollow)]
            if part.empty:
                continue
            label = legend + (" - not comparable (partial or other suite)" if hollow else "")
            ax.scatter(
                part["params"],
                part["macro"],
                marker=marker,
                s=size,
                label=label,
                zorder=3,
                facecolors="none" if hollow else colour,
                edgecolors=colour,
                linewidths=1.2,
            )
            errors = _ci_errors(part)
            if errors is not None:
                ax.errorbar(
                    part["params"],
                    part["macro"],
                    yerr=errors,
                    fmt="none",
                    ecolor=colour,
                    elinewidth=1,
                    capsize=2,
                    zorder=2,
                )
            for name, (_, row) in zip(_labels(part), part.iterrows(), strict=True):
                mine = kind in ("local", "own")
                text = name.split(" [")[0]
                if mine:
                    text += f" ({human_count(float(row['params']))})"
                    status = row.get("status")
                    if isinstance(status, str) and status != COMPLETE:
                        text += f"\n{row.get('coverage', status) if status.startswith('partial') else status}"
                texts.append(
                    ax.text(
                        float(row["params"]),
                        float(row["macro"]),
                        text,
                        fontsize=8 if mine else 6.5,
                        color=colour if mine else "0.15",
                        fontweight="bold" if mine else "normal",
                        zorder=4,
                    )
                )
    return texts


def scaling_scatter(table: pd.DataFrame, regime: str = "full") -> Figure:
    """log10 params vs macro-MCC with the Spearman rho of the official rows (all rows if none are official).

    One pair of axes for everyone: the user's own model (not in the published table) is a labelled red diamond
    at the parameter count its run recorded, a local run of a published model a red star; rows that are not
    comparable (partial, lite/custom suite, variant) are hollow and labelled with their coverage, and are left
    out of rho. Error bars are the macro's 95% bootstrap CI over test rows where the results have one
    (published rows have none). Rows without weights (k-mer controls: 0 parameters) cannot sit on a log axis:
    each is a dotted horizontal line at its macro. Labels are placed apart by adjustText.
    """
    at_regime = table[table["regime"] == regime]
    placed = at_regime[at_regime["params"].notna() & (at_regime["params"] > 0)]
    weightless = at_regime[at_regime["params"].notna() & (at_regime["params"] <= 0)]
    ranked, _others = split_ranked(placed)
    apart = ~placed.index.isin(ranked.index)
    ref = ranked[ranked["provenance"] == "official"] if (ranked["provenance"] == "official").any() else ranked
    rho = scaling(ref, regime)
    fig, ax = plt.subplots(figsize=(10, 6.2), layout="constrained")
    texts = _scaling_points(ax, placed, pd.Series(apart, index=placed.index))
    for name, (_, row) in zip(_labels(weightless), weightless.iterrows(), strict=True):
        mine = row.get("provenance") == "local"
        colour = LOCAL_COLOUR if mine else "0.4"
        ax.axhline(float(row["macro"]), color=colour, lw=1, ls=":", zorder=1)
        ax.text(
            0.005,
            float(row["macro"]),
            f"{name.split(' [')[0]} (no weights) {float(row['macro']):.3f}",
            transform=ax.get_yaxis_transform(),
            ha="left",
            va="bottom",
            fontsize=7.5,
            color=colour,
        )
    ax.set_xscale("log")
    ax.grid(alpha=0.3)
    ax.set_xlabel("parameters (log scale)")
    ax.set_ylabel(f"macro-MCC ({regime})")
    missing = len(at_regime) - len(placed) - len(weightless)
    note = f"; {missing} row{'s' * (missing != 1)} without a parameter count not shown" if missing else ""
    ax.set_title(
        f"Scale vs GENEB macro-MCC: Spearman {rho} (official rows){note}{_basis(table)}", fontsize=10
    )
    if len(placed):  # below the axes: never over a point
        fig.legend(fontsize=7.5, loc="outside lower center", ncols=2, frameon=False)
    place_labels(ax, texts)
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
    cis = None
    if "macro_ci_low" in table.columns:  # local rows only carry a CI; one per (model, regime)
        with_ci = table[table["macro_ci_low"].notna()].drop_duplicates(["model", "regime"])
        cis = with_ci.set_index(["model", "regime"]) if len(with_ci) else None
    for i, (regime, marker) in enumerate(zip(REGIME_NAMES, ("o", "s", "^"), strict=True)):
        colour = f"C{i}"  # the colour cycle's, named so the regime's error bars match its markers
        if regime in wide.columns:
            ax.scatter(wide.loc[order, regime], y, c=colour, marker=marker, label=regime, s=22, zorder=3)
            if cis is not None:  # the 95% bootstrap CI of each local row's macro, in the regime's colour
                keys = [(m, regime) for m in order]
                found = cis.reindex(keys)
                centre = wide.loc[order, regime].to_numpy(dtype=float)
                errors = np.vstack(
                    [
                        centre - found["macro_ci_low"].to_numpy(dtype=float),
                        found["macro_ci_high"].to_numpy(dtype=float) - centre,
                    ]
                )
                if np.isfinite(errors).any():
                    ax.errorbar(
                        centre,
                        y,
                        xerr=np.nan_to_num(errors).clip(min=0.0),
                        fmt="none",
                        ecolor=colour,
                        elinewidth=1,
                        capsize=2,
                        zorder=2,
                    )
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
            ).set_in_layout(False)
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
    inline_svg: bool = False  # kept for registered figures; report.html inlines every figure as SVG

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
            with plt.rc_context({"svg.fonttype": "none"}):  # real text: smaller, searchable, crisp
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
