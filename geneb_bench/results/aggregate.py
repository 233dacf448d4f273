"""GENEB aggregation: category score = mean of its tasks; macro = mean of categories; micro = mean of tasks.

Also where comparability is decided, once for every table and figure: a row's coverage (tasks of its suite,
categories of GENEB's 13), its suite's description, and whether it may be ranked at all -- only a complete
run of the GENEB suite under the protocol itself (``protocol.is_protocol``) is ranked among the published
models; partial, synthetic (lite), custom-suite and variant rows are labelled and left unranked.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from geneb_bench.categories import CATEGORIES, CATEGORY_NAMES
from geneb_bench.protocol import PROTOCOL_VERSION, REGIMES, is_protocol
from geneb_bench.results.record import METRICS, ItemResult

GENEB_SUITE = "geneb"
N_CATEGORIES = len(CATEGORIES)


def tidy(results: Iterable[ItemResult]) -> pd.DataFrame:
    """One row per (model, task, regime) with the seed-mean and seed-std of each metric, suite and protocol."""
    rows = []
    for r in results:
        row: dict[str, object] = {
            "model": r.model,
            "task_id": r.task_id,
            "category": r.category,
            "regime": r.regime,
        }
        for metric in METRICS:
            row[metric] = r.mean[metric]
            row[f"{metric}_std"] = r.std[metric]
        row["suite"] = r.suite
        row["protocol"] = r.protocol
        rows.append(row)
    columns = [
        "model",
        "task_id",
        "category",
        "regime",
        *METRICS,
        *(f"{m}_std" for m in METRICS),
        "suite",
        "protocol",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["model", "regime", "category", "task_id"], kind="stable").reset_index(drop=True)


def suite_category_sizes(suite: str) -> dict[str, int]:
    """Tasks per category of a built-in suite (``geneb``: the published 100; ``lite``); {} for others."""
    if suite == GENEB_SUITE:
        return {c.name: c.geneb_tasks for c in CATEGORIES}
    if suite == "lite":
        from geneb_bench.data.lite import LITE_TASKS

        sizes: dict[str, int] = {}
        for spec in LITE_TASKS:
            sizes[spec.category] = sizes.get(spec.category, 0) + 1
        return sizes
    return {}


def frame_suite(frame: pd.DataFrame) -> tuple[str, str]:
    """The (suite, protocol) of a tidy frame: one of each by construction (``ResultSet``); "" when unknown."""

    def single(column: str, default: str) -> str:
        values = set(frame[column]) if column in frame.columns else set()
        return str(values.pop()) if len(values) == 1 else default

    return single("suite", ""), single("protocol", PROTOCOL_VERSION)


def suite_total(frame: pd.DataFrame) -> int:
    """Number of tasks in the frame's suite (observed tasks for a custom suite)."""
    sizes = suite_category_sizes(frame_suite(frame)[0])
    return sum(sizes.values()) or int(frame["task_id"].nunique())


def describe_suite(frame: pd.DataFrame) -> str:
    """What a table's rows were measured on, in words: the label every table and figure carries."""
    suite, protocol = frame_suite(frame)
    total = suite_total(frame)
    if suite == GENEB_SUITE:
        text = f"geneb: the GENEB suite ({total} tasks)"
    elif suite == "lite":
        text = f"lite: {total} synthetic tasks, not GENEB"
    else:
        text = f"{suite or 'unknown suite'}: {total} custom tasks, not GENEB"
    if not is_protocol(protocol):
        text += f"; protocol variant {protocol}, not {PROTOCOL_VERSION}"
    return text


def coverage_text(n_tasks: int, total: int, n_categories: int) -> str:
    """``"14/100 tasks, 4/13 categories"``."""
    return f"{n_tasks}/{total} tasks, {n_categories}/{N_CATEGORIES} categories"


def rankable_run(suite: str, protocol: str, n_tasks: int) -> bool:
    """Whether a row may be ranked among the published models: all 100 GENEB tasks, under the protocol."""
    return (
        suite == GENEB_SUITE and is_protocol(protocol) and n_tasks >= sum(c.geneb_tasks for c in CATEGORIES)
    )


def leaderboard(frame: pd.DataFrame, regime: str, metric: str = "mcc") -> pd.DataFrame:
    """Models x categories for one regime, plus macro, micro, the task and category counts and the rank;
    sorted by macro.

    Categories are in GENEB order; a category with no task in ``frame`` is absent, and macro is then the
    mean over the categories present (``n_categories`` says how many). ``rank`` is given only to rows that
    may be ranked (``rankable_run``) and is empty otherwise.
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
    suite, protocol = frame_suite(frame)
    ranked = np.array([rankable_run(suite, protocol, int(n)) for n in table["n_tasks"]], dtype=bool)
    table["rank"] = np.where(ranked, np.cumsum(ranked), np.nan)
    table.index.name = "model"
    return table


def leaderboards(frame: pd.DataFrame, metric: str = "mcc") -> dict[str, pd.DataFrame]:
    """One leaderboard per regime present, in protocol order (full, 10shot, 1shot)."""
    present = set(frame["regime"])
    return {r.name: leaderboard(frame, r.name, metric) for r in REGIMES if r.name in present}
