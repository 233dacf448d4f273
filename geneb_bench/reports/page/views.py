"""The tables report.html shows, as plain DataFrames: the leaderboard (published and matched bases), the
per-category view and the per-task view with the published per-task values beside the user's.

Kept apart from the HTML so each view can be tested as data. Seed spread is shown only where seeds differ:
in the full-data regime one probe fit serves all five seeds, so its std is zero by construction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geneb_bench.categories import CATEGORY_NAMES
from geneb_bench.protocol import REGIMES
from geneb_bench.reports.compare import combined_leaderboard
from geneb_bench.reports.matched import published_task_mcc
from geneb_bench.reports.published import COMPLETE, family

if TYPE_CHECKING:
    from geneb_bench.reports.matched import MatchedComparison

YOURS = "yours"  # provenance shown for the user's rows (the wide table says "local")
PUBLISHED_BASIS = "published: 100 tasks"
SIZE_BINS = ((0.0, "no weights"), (1e8, "< 100M"), (1e9, "100M-1B"), (float("inf"), ">= 1B"))
LEADERBOARD_COLUMNS = [
    "basis",
    "regime",
    "group",
    "rank",
    "model",
    "provenance",
    "architecture",
    "size",
    "params",
    "macro",
    "macro ±",
    "macro 95% CI",
    "micro",
    "tasks",
    *CATEGORY_NAMES,
]


def size_class(params: object) -> str:
    """The size bucket a reader filters by: no weights (k-mer), < 100M, 100M-1B, >= 1B; blank when unknown."""
    if not isinstance(params, float | int) or pd.isna(params):
        return "unknown"
    if params <= 0:
        return SIZE_BINS[0][1]
    return next(label for bound, label in SIZE_BINS[1:] if params < bound)


def interval(low: object, high: object) -> str:
    """``[0.39, 0.43]``; blank where there is no interval (no test outcomes recorded, or a published row)."""
    if not isinstance(low, float | int) or not isinstance(high, float | int) or pd.isna(low) or pd.isna(high):
        return ""
    return f"[{low:.2f}, {high:.2f}]"


def spread(std: object) -> str:
    """``± 0.0123`` where seeds differ; blank where they cannot (full data: one fit serves every seed)."""
    if not isinstance(std, float | int) or pd.isna(std) or round(float(std), 4) == 0:
        return ""
    return f"± {std:.4f}"


def _rows(board: pd.DataFrame, basis: str, regime: str) -> list[dict[str, Any]]:
    out = []
    for _, row in board.iterrows():
        mine = row["provenance"] == "local"
        rank = row.get("rank")
        ranked = isinstance(rank, int | np.integer | float) and not pd.isna(rank)
        record: dict[str, Any] = {
            "basis": basis,
            "regime": regime,
            "group": 0 if ranked else 1,  # 1: apart (not comparable on this basis), always listed last
            "rank": int(rank) if ranked and isinstance(rank, int | np.integer | float) else None,
            "model": row.get("display")
            if isinstance(row.get("display"), str) and row.get("display")
            else row["model"],
            "key": row["model"],
            "provenance": YOURS if mine else row["provenance"],
            "architecture": family(row.get("architecture")),
            "size": size_class(row.get("params")),
            "params": row.get("params"),
            "macro": row.get("macro"),
            "macro ±": spread(row.get("macro_std")),
            "macro 95% CI": interval(row.get("macro_ci_low"), row.get("macro_ci_high")),
            "micro": row.get("micro"),
            "tasks": row.get("tasks", str(row.get("coverage", "")).split(" tasks")[0]),
            "status": row.get("status", ""),
            "defect": row.get("defect", "") if not mine else "",
            "rank_range": row.get("rank_range", ""),
        }
        for category in CATEGORY_NAMES:
            record[category] = row.get(category)
        out.append(record)
    return out


def _published_basis(local: pd.DataFrame, published: pd.DataFrame, regime: str) -> pd.DataFrame:
    """The published 100-task table with the user's rows: ranked inside only when complete, else apart."""
    board = combined_leaderboard(local, regime, published)
    extra = ["display", "architecture", "macro_std", "macro_ci_low", "macro_ci_high"]
    keyed = pd.concat([published[published["regime"] == regime], local[local["regime"] == regime]])
    for column in extra:
        if column in keyed.columns:
            values = keyed.drop_duplicates(["model", "provenance"]).set_index(["model", "provenance"])[column]
            board[column] = [
                values.get((m, p)) for m, p in zip(board["model"], board["provenance"], strict=True)
            ]
    board["rank"] = [r if r != "" else None for r in board["rank"]]
    return board


def _matched_basis(matched: MatchedComparison, local: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """Every published model recomputed on the user's tasks, the user's rows ranked among them."""
    regime = matched.regime
    categories = matched.per_task.groupby(["key", "category"])["mcc"].mean().unstack()
    meta = published[published["regime"] == regime].set_index("model")
    mine = local[local["regime"] == regime].set_index("model")
    tasks = f"{len(matched.tasks)}/100"
    rows = []
    for row in matched.rows:
        source = meta if row.published else mine
        record: dict[str, Any] = {
            "model": row.key,
            "display": row.model,
            "provenance": source["provenance"].get(row.key, "official") if row.published else "local",
            "architecture": source["architecture"].get(row.key, "") if "architecture" in source else "",
            "params": row.n_params,
            "macro": row.macro,
            "micro": row.micro,
            "rank": row.rank,
            "rank_range": ""
            if row.rank_low is None or row.rank_low == row.rank_high
            else f"{row.rank_low}-{row.rank_high}",
            "tasks": tasks,
            "status": matched.label,
            "defect": source["defect"].get(row.key, "") if "defect" in source else "",
        }
        if not row.published:
            for column in ("macro_std", "macro_ci_low", "macro_ci_high"):
                record[column] = mine[column].get(row.key) if column in mine else None
        if row.key in categories.index:
            record |= {str(c): v for c, v in categories.loc[row.key].items() if not pd.isna(v)}
        rows.append(record)
    return pd.DataFrame(rows)


def figure_table(
    local: pd.DataFrame, published: pd.DataFrame, matched: dict[str, MatchedComparison | None]
) -> pd.DataFrame:
    """The wide table the figures draw: where a matched comparison exists, every published model on the
    user's tasks with the user's rows comparable (``basis`` names it); otherwise published + local as is."""
    parts = []
    for regime, found in matched.items():
        if found is None:
            continue
        table = _matched_basis(found, local, published)
        table = table[table["provenance"] != "self-reported"]
        parts.append(table.assign(regime=regime, status=COMPLETE, basis=found.label))
    if not parts:
        return pd.concat([published, local], ignore_index=True)
    return pd.concat(parts, ignore_index=True)


def leaderboard_rows(
    local: pd.DataFrame, published: pd.DataFrame, matched: dict[str, MatchedComparison | None]
) -> pd.DataFrame:
    """One row per (basis, regime, model): the table the page sorts and filters.

    Basis "published": the 100-task published table; the user's rows are ranked inside it only when their run
    is complete, otherwise listed apart (``group`` 1) with their coverage. Basis "matched ...": every published
    model recomputed on the user's tasks (``reports.matched``), the user's rows at their matched rank.
    """
    rows: list[dict[str, Any]] = []
    for regime in [r.name for r in REGIMES]:
        if (published["regime"] == regime).any():
            rows += _rows(_published_basis(local, published, regime), PUBLISHED_BASIS, regime)
        found = matched.get(regime)
        if found is not None:
            rows += _rows(_matched_basis(found, local, published), found.label, regime)
    frame = pd.DataFrame(rows)
    frame["rank"] = frame["rank"].astype("Int64")
    return frame.sort_values(
        ["basis", "regime", "group", "rank", "macro"], ascending=[True, True, True, True, False]
    )


def category_view(frame: pd.DataFrame, published: pd.DataFrame, regime: str = "full") -> pd.DataFrame:
    """Per category: tasks run, each of the user's models, and the published best / median on the same tasks
    (matched: the category's published score is recomputed from the per-task table on those tasks only)."""
    sub = frame[frame["regime"] == regime]
    if sub.empty:
        return pd.DataFrame()
    per_task = published_task_mcc()
    per_task = per_task[(per_task["regime"] == regime) & per_task["task_id"].isin(set(sub["task_id"]))]
    known = set(per_task["task_id"])
    rows = []
    for category, part in sub.groupby("category", sort=False):
        tasks = sorted(set(part["task_id"]))
        row: dict[str, Any] = {"category": category, "tasks run": len(tasks)}
        for model, scores in part.groupby("model"):
            row[str(model)] = float(scores["mcc"].mean())
        on = per_task[per_task["task_id"].isin(tasks)]
        if set(tasks) <= known and not on.empty:
            means = on.groupby("model")["mcc"].mean().sort_values(ascending=False)
            row["published best (same tasks)"] = f"{means.iloc[0]:.4f} {means.index[0]}"
            row["published median (same tasks)"] = float(means.median())
        rows.append(row)
    order = {c: i for i, c in enumerate(CATEGORY_NAMES)}
    return pd.DataFrame(rows).sort_values("category", key=lambda s: s.map(order).fillna(99))


def task_view(frame: pd.DataFrame, intervals: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (regime, task, model): the user's MCC (± where seeds differ, [95% CI]) beside the published
    median and best on that task; one column per published model (hidden until chosen) from the per-task table."""
    if frame.empty:
        return pd.DataFrame()
    sub = frame
    if intervals is not None and not intervals.empty:
        sub = sub.merge(intervals, on=["model", "task_id", "regime"], how="left")
    published = published_task_mcc()
    published = published[published["task_id"].isin(set(sub["task_id"]))]
    wide = published.pivot_table(index=["regime", "task_id"], columns="model", values="mcc")
    rows = []
    for _, item in sub.iterrows():
        key = (item["regime"], item["task_id"])
        row: dict[str, Any] = {
            "regime": item["regime"],
            "task": item["task_id"],
            "category": item["category"],
            "model": item["model"],
            "MCC": float(item["mcc"]),
            "±": spread(item.get("mcc_std")),
            "95% CI": interval(item.get("mcc_ci_low"), item.get("mcc_ci_high")),
        }
        if key in wide.index:
            values = wide.loc[key].dropna().sort_values(ascending=False)
            row["published median"] = float(values.median())
            row["published best"] = f"{values.iloc[0]:.4f} {values.index[0]}"
            row["rank among published"] = int((values > float(item["mcc"])).sum()) + 1
            row |= {f"pub:{m}": float(v) for m, v in values.items()}
        rows.append(row)
    return pd.DataFrame(rows)
