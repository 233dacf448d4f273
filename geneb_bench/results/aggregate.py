"""GENEB aggregation: category score = mean of its tasks; macro = mean of categories; micro = mean of tasks."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from geneb_bench.categories import CATEGORY_NAMES
from geneb_bench.protocol import REGIMES
from geneb_bench.results.record import METRICS, ItemResult


def tidy(results: Iterable[ItemResult]) -> pd.DataFrame:
    """One row per (model, task, regime) with the seed-mean and seed-std of each metric."""
    rows = []
    for r in results:
        row: dict[str, object] = {"model": r.model, "task_id": r.task_id, "category": r.category, "regime": r.regime}
        for metric in METRICS:
            row[metric] = r.mean[metric]
            row[f"{metric}_std"] = r.std[metric]
        rows.append(row)
    columns = ["model", "task_id", "category", "regime", *METRICS, *(f"{m}_std" for m in METRICS)]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["model", "regime", "category", "task_id"], kind="stable").reset_index(drop=True)


def leaderboard(frame: pd.DataFrame, regime: str, metric: str = "mcc") -> pd.DataFrame:
    """Models x categories for one regime, plus macro, micro and the task count; ranked by macro.

    Categories are in GENEB order; a category with no task in ``frame`` is absent, and macro is then the
    mean over the categories present (``n_categories`` says how many).
    """
    sub = frame[frame["regime"] == regime]
    if sub.empty:
        return pd.DataFrame()
    per_category = sub.pivot_table(index="model", columns="category", values=metric, aggfunc="mean")
    ordered = [c for c in CATEGORY_NAMES if c in per_category.columns]
    table = per_category[ordered].copy()
    table["macro"] = table[ordered].mean(axis=1)
    table["micro"] = sub.groupby("model")[metric].mean()
    table["n_tasks"] = sub.groupby("model")["task_id"].nunique()
    table["n_categories"] = table[ordered].notna().sum(axis=1)
    table = table.sort_values(["macro", "micro"], ascending=False, kind="stable")
    table.index.name = "model"
    return table


def leaderboards(frame: pd.DataFrame, metric: str = "mcc") -> dict[str, pd.DataFrame]:
    """One leaderboard per regime present, in protocol order (full, 10shot, 1shot)."""
    present = set(frame["regime"])
    return {r.name: leaderboard(frame, r.name, metric) for r in REGIMES if r.name in present}
