"""Uncertainty of the reported MCCs: seed std and bootstrap confidence intervals over test rows.

Two different sources of spread, shown side by side and never mixed:

* seed std: how much the number moves with the probe's seeds (k-shot draws), on the same test rows; for a
  task the population std over seeds (``ItemResult.std``), for the macro the std over seeds of the macro
  computed seed by seed;
* the 95% bootstrap CI: how much it would move with another test set of the same size, from the test
  outcomes recorded with each result (``probe.metrics.bootstrap_mcc``). For a task: the percentile interval
  of its seed-mean MCC. For the macro (and a category): every task's test rows are resampled independently
  (the tasks' test sets are independent samples), each replicate's task MCCs are aggregated exactly as the
  table aggregates them (category = mean of its tasks, macro = mean of the categories present), and the
  percentile interval of those replicates is taken. Replicate ``b`` of a task is always the same draw (its
  generator is seeded by ``BOOTSTRAP_SEED`` and the task id), so a task's CI and the macro's agree.

This is not ``geneb analyze bootstrap``, which resamples *tasks* (how a ranking depends on which tasks
GENEB chose). A result file written before outcomes were recorded has no CI, and neither has any
aggregate that includes it (blank, never a guess).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pandas as pd

from geneb_bench.probe.metrics import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, bootstrap_mcc, mcc_interval
from geneb_bench.results.record import ItemResult

ITEM_COLUMNS = ("model", "task_id", "regime", "mcc_ci_low", "mcc_ci_high")
MACRO_COLUMNS = ("model", "regime", "macro_std", "macro_ci_low", "macro_ci_high")


def task_rng(task_id: str) -> np.random.Generator:
    """The generator of one task's replicates: fixed, and different between tasks (independent resamples)."""
    return np.random.default_rng([BOOTSTRAP_SEED, zlib.crc32(task_id.encode("utf-8"))])


@lru_cache(maxsize=4096)
def _draws(task_id: str, cells: tuple[tuple[int, ...], ...], n_resamples: int) -> npt.NDArray[np.float64]:
    """Memoised: a report asks for each item's replicates twice (its own CI, then the macro's)."""
    draws = bootstrap_mcc(np.array(cells, dtype=np.int64), n_resamples, task_rng(task_id))
    draws.flags.writeable = False  # shared between callers
    return draws


def item_draws(result: ItemResult, n_resamples: int = BOOTSTRAP_RESAMPLES) -> npt.NDArray[np.float64] | None:
    """Bootstrap replicates of the item's seed-mean MCC; None when the file has no outcomes."""
    if not result.outcomes:
        return None
    return _draws(result.task_id, tuple(tuple(row) for row in result.outcomes["cells"]), n_resamples)


def item_intervals(results: Iterable[ItemResult]) -> pd.DataFrame:
    """Per (model, task, regime): the 95% CI of the MCC (NaN where the result has no outcomes)."""
    rows = []
    for result in results:
        draws = item_draws(result)
        low, high = mcc_interval(draws) if draws is not None else (np.nan, np.nan)
        rows.append((result.model, result.task_id, result.regime, low, high))
    return pd.DataFrame(rows, columns=list(ITEM_COLUMNS))


def _aggregate(values: npt.NDArray[np.float64], categories: Sequence[str]) -> npt.NDArray[np.float64]:
    """Macro over the last axis (tasks): the mean of the category means, as ``aggregate.leaderboard``."""
    names = sorted(set(categories))
    labels = np.asarray(categories)
    return np.asarray(
        np.mean([values[..., labels == c].mean(axis=-1) for c in names], axis=0), dtype=np.float64
    )


def _seed_macro_std(group: Sequence[ItemResult]) -> float:
    seeds = [tuple(int(s["seed"]) for s in r.per_seed) for r in group]
    if len(set(seeds)) != 1 or not seeds[0]:
        return float("nan")
    try:
        per_seed = np.array([[float(s["mcc"]) for s in r.per_seed] for r in group])  # tasks x seeds
    except (KeyError, TypeError, ValueError):
        return float("nan")
    return float(_aggregate(per_seed.T, [r.category for r in group]).std())


def macro_uncertainty(results: Iterable[ItemResult]) -> pd.DataFrame:
    """Per (model, regime): the seed std of the macro and its 95% bootstrap CI (NaN where not computable)."""
    groups: dict[tuple[str, str], list[ItemResult]] = {}
    for result in results:
        groups.setdefault((result.model, result.regime), []).append(result)
    rows = []
    for (model, regime), group in groups.items():
        group = sorted(group, key=lambda r: r.task_id)
        draws = [d for d in (item_draws(r) for r in group) if d is not None]
        low = high = float("nan")
        if len(draws) == len(group):  # every task has outcomes; else no interval (never a partial one)
            replicates = _aggregate(np.column_stack(draws), [r.category for r in group])
            low, high = mcc_interval(replicates)
        rows.append((model, regime, _seed_macro_std(group), low, high))
    return pd.DataFrame(rows, columns=list(MACRO_COLUMNS))


def with_uncertainty(table: pd.DataFrame, results: Iterable[ItemResult]) -> pd.DataFrame:
    """A wide table (``reports.published``) with ``macro_std``, ``macro_ci_low``, ``macro_ci_high`` added at
    the end for its local rows (published rows have no per-task data: blank)."""
    extra = macro_uncertainty(results)
    return table.merge(extra, on=["model", "regime"], how="left")
