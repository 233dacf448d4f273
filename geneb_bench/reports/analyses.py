"""The paper's analyses as functions over a wide table (published leaderboard or a results dir).

They exist so a user can reproduce the GENEB findings (scale helps only modestly, winners change between
regimes, small models can beat much larger ones) and re-ask the same questions with their own models.
All take the wide table of :mod:`geneb_bench.reports.published`; callers choose the rows (the paper's
"40 models" are ``provenance == "official"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from geneb_bench.categories import CATEGORY_NAMES
from geneb_bench.protocol import REGIMES
from geneb_bench.reports.published import COMPLETE, family

REGIME_NAMES: tuple[str, ...] = tuple(r.name for r in REGIMES)


@dataclass(frozen=True)
class Correlation:
    rho: float
    p: float
    n: int

    def __str__(self) -> str:
        return f"rho = {self.rho:.3f} (p = {self.p:.2g}, n = {self.n})"


@dataclass(frozen=True)
class GroupTest:
    """Kruskal-Wallis H test across groups of at least two models."""

    h: float
    p: float
    groups: int

    def __str__(self) -> str:
        return f"Kruskal-Wallis H = {self.h:.3f} (p = {self.p:.2g}, {self.groups} groups of >= 2 models)"


def official(table: pd.DataFrame) -> pd.DataFrame:
    """The paper's 40 models (the community row is excluded); a table without provenance is returned as is."""
    if "provenance" not in table.columns or not (table["provenance"] == "official").any():
        return table
    return table[table["provenance"] == "official"]


def categories_in(table: pd.DataFrame) -> list[str]:
    return [c for c in CATEGORY_NAMES if c in table.columns and table[c].notna().any()]


def _regime(table: pd.DataFrame, regime: str) -> pd.DataFrame:
    sub = table[table["regime"] == regime]
    if sub.empty:
        raise ValueError(f"no rows for regime {regime!r}")
    return sub


def spearman(x: npt.ArrayLike | pd.Series, y: npt.ArrayLike | pd.Series) -> Correlation:
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = ~(np.isnan(xs) | np.isnan(ys))
    if keep.sum() < 3:
        return Correlation(float("nan"), float("nan"), int(keep.sum()))
    result = stats.spearmanr(xs[keep], ys[keep])
    return Correlation(float(result.statistic), float(result.pvalue), int(keep.sum()))


def scaling(
    table: pd.DataFrame, regime: str = "full", column: str = "macro", exclude: Sequence[str] = ()
) -> Correlation:
    """Spearman(log10 params, score): rows without a parameter count are left out (and not counted)."""
    sub = _regime(table, regime)
    sub = sub[~sub["model"].isin(exclude) & sub["params"].notna() & (sub["params"] > 0)]
    return spearman(np.log10(sub["params"].astype(float)), sub[column])


def category_scaling(table: pd.DataFrame, regime: str = "full", exclude: Sequence[str] = ()) -> pd.DataFrame:
    """The scaling correlation per category: where does size help, where not at all."""
    rows = []
    for category in [*categories_in(table), "macro", "micro"]:
        c = scaling(table, regime, category, exclude)
        rows.append({"category": category, "rho": c.rho, "p": c.p, "n": c.n})
    return pd.DataFrame(rows)


def winners(table: pd.DataFrame, regimes: Sequence[str] = REGIME_NAMES) -> pd.DataFrame:
    """Best model per category and regime; ``changed`` says whether the full winner loses at 10shot.

    Ties are broken by model key so the answer is deterministic.
    """
    present = [r for r in regimes if (table["regime"] == r).any()]
    rows = []
    for category in [*categories_in(table), "macro"]:
        row: dict[str, object] = {"category": category}
        for regime in present:
            sub = _regime(table, regime)[["model", category]].dropna()
            best = sub.sort_values([category, "model"], ascending=[False, True], kind="stable").iloc[0]
            row[f"{regime}_winner"] = best["model"]
            row[f"{regime}_score"] = float(best[category])
        if "full" in present and "10shot" in present:
            row["changed"] = row["full_winner"] != row["10shot_winner"]
        rows.append(row)
    return pd.DataFrame(rows)


def winner_changes(table: pd.DataFrame, a: str = "full", b: str = "10shot") -> tuple[int, int]:
    """(categories whose winner differs between regimes ``a`` and ``b``, categories compared); macro excluded."""
    frame = winners(table, (a, b))
    frame = frame[frame["category"] != "macro"]
    return int((frame[f"{a}_winner"] != frame[f"{b}_winner"]).sum()), len(frame)


def category_correlations(table: pd.DataFrame, regime: str = "full") -> pd.DataFrame:
    """Spearman correlation between categories of the models' scores: do categories rank models alike?"""
    sub = _regime(table, regime)[categories_in(table)]
    return sub.corr(method="spearman")


def smaller_beats_larger(
    table: pd.DataFrame, ratio: float = 6.0, regime: str = "full", column: str = "macro", min_gap: float = 0.0
) -> pd.DataFrame:
    """Pairs where a model at least ``ratio`` times smaller scores higher by more than ``min_gap``."""
    sub = _regime(table, regime)
    sub = sub[sub["params"].notna() & sub[column].notna()]
    models = sub[["model", "params", column]].to_dict("records")
    rows = []
    for small in models:
        for large in models:
            size_ratio = float(large["params"]) / float(small["params"])
            gap = float(small[column]) - float(large[column])
            if size_ratio >= ratio and gap > min_gap:
                rows.append(
                    {
                        "smaller": small["model"],
                        "smaller_params": small["params"],
                        "smaller_score": small[column],
                        "larger": large["model"],
                        "larger_params": large["params"],
                        "larger_score": large[column],
                        "size_ratio": size_ratio,
                        "gap": gap,
                    }
                )
    columns = [
        "smaller",
        "smaller_params",
        "smaller_score",
        "larger",
        "larger_params",
        "larger_score",
        "size_ratio",
        "gap",
    ]
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values(["gap", "smaller", "larger"], ascending=[False, True, True]).reset_index(drop=True)


def _best_model(rows: pd.DataFrame, column: str) -> str:
    ordered = rows.sort_values([column, "model"], ascending=[False, True], kind="stable")
    return str(ordered["model"].iloc[0])


def group_comparison(
    table: pd.DataFrame,
    by: str = "architecture",
    regime: str = "full",
    column: str = "macro",
    coarse: bool = True,
) -> tuple[pd.DataFrame, GroupTest | None]:
    """Scores per architecture / tokenization / pretraining-data group, plus a Kruskal-Wallis test.

    ``coarse`` folds labels to their family ("T-dec (Llama-style)" -> "T-dec") so groups are not singletons.
    The test is None when fewer than two groups have two or more models.
    """
    sub = _regime(table, regime).copy()
    if by not in sub.columns:
        raise ValueError(f"no column {by!r}; choose from architecture, tokenization, pretraining_data")
    sub["group"] = sub[by].map(family) if coarse else sub[by].fillna("unknown")
    grouped = sub.groupby("group")
    out = pd.DataFrame(
        {
            "n": grouped[column].count(),
            "mean": grouped[column].mean(),
            "median": grouped[column].median(),
            "best": pd.Series({name: _best_model(g, column) for name, g in grouped}),
            "best_score": grouped[column].max(),
        }
    ).sort_values("mean", ascending=False)
    samples = [g[column].dropna().to_numpy() for _, g in grouped if g[column].count() >= 2]
    test = None
    if len(samples) >= 2:
        h = stats.kruskal(*samples)
        test = GroupTest(float(h.statistic), float(h.pvalue), len(samples))
    return out, test


def _bootstrap_summary(
    models: Sequence[str], point: np.ndarray, draws: np.ndarray, level: float
) -> pd.DataFrame:
    """Percentile CIs of the macro and of the rank position (1 = best) from ``draws`` (n_boot x models)."""
    alpha = (1 - level) / 2 * 100
    ranks = np.vstack([stats.rankdata(-d, method="min") for d in draws])
    point_rank = stats.rankdata(-point, method="min")
    out = pd.DataFrame(
        {
            "model": list(models),
            "macro": point,
            "macro_lo": np.percentile(draws, alpha, axis=0),
            "macro_hi": np.percentile(draws, 100 - alpha, axis=0),
            "rank": point_rank.astype(int),
            "rank_lo": np.percentile(ranks, alpha, axis=0),
            "rank_hi": np.percentile(ranks, 100 - alpha, axis=0),
        }
    )
    return out.sort_values(["rank", "model"]).reset_index(drop=True)


def bootstrap_categories(
    table: pd.DataFrame, regime: str = "full", n_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> pd.DataFrame:
    """Bootstrap over *categories* (resample the 13 category scores with replacement).

    The published table holds only category scores, not per-task ones, so this is the only resampling it
    allows; it answers "how much does the macro depend on which categories were chosen", which is wider than
    task-level noise.
    """
    sub = _regime(table, regime)
    cats = categories_in(sub)
    scores = sub[cats].to_numpy(dtype=float)  # models x categories
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(cats), size=(n_boot, len(cats)))
    draws = np.nanmean(scores[:, picks], axis=2).T  # n_boot x models
    return _bootstrap_summary(list(sub["model"]), np.nanmean(scores, axis=1), draws, level)


def bootstrap_tasks(
    frame: pd.DataFrame,
    regime: str = "full",
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    metric: str = "mcc",
) -> pd.DataFrame:
    """Bootstrap over *tasks* from a tidy results frame, stratified by category (paired across models).

    Each replicate resamples, within every category, as many tasks as it has (with replacement), and
    recomputes category means and the macro, so category weights stay 1/13 as in the protocol. Only tasks
    every model has are used, so all models are compared on the same resample.
    """
    sub = frame[frame["regime"] == regime]
    if sub.empty:
        raise ValueError(f"no results for regime {regime!r}")
    wide = sub.pivot_table(index="task_id", columns="model", values=metric).dropna()
    category_of = sub.drop_duplicates("task_id").set_index("task_id")["category"]
    matrix = wide.to_numpy(dtype=float)  # tasks x models
    groups = [np.flatnonzero(category_of.loc[wide.index].to_numpy() == c) for c in CATEGORY_NAMES]
    groups = [g for g in groups if len(g)]
    rng = np.random.default_rng(seed)
    draws = np.empty((n_boot, matrix.shape[1]))
    for b in range(n_boot):
        cat_means = [matrix[rng.choice(g, size=len(g), replace=True)].mean(axis=0) for g in groups]
        draws[b] = np.mean(cat_means, axis=0)
    point = np.mean([matrix[g].mean(axis=0) for g in groups], axis=0)
    return _bootstrap_summary(list(wide.columns), point, draws, level)


def rankable(table: pd.DataFrame) -> pd.DataFrame:
    """Rows that may be ranked against the paper's: official ones plus complete local runs of the GENEB suite.

    Partial runs, runs of other suites and self-reported rows are left out, so a winner is never a model
    that skipped the hard tasks of a category.
    """
    if "provenance" not in table.columns:
        return table
    keep = table["provenance"] == "official"
    if "status" in table.columns and "suite" in table.columns:
        keep |= (table["provenance"] == "local") & (table["status"] == COMPLETE) & (table["suite"] == "geneb")
    return table[keep]
