"""Seed std and bootstrap CIs of tasks and of the macro, from recorded test outcomes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from geneb_bench.probe.metrics import bootstrap_mcc, mcc_from_confusion, mcc_interval, seed_confusions
from geneb_bench.results.record import ItemResult
from geneb_bench.results.uncertainty import (
    item_draws,
    item_intervals,
    macro_uncertainty,
    task_rng,
    with_uncertainty,
)

SEEDS = [13, 17]


def _item(model: str, task: str, category: str, errors: tuple[int, int], n: int = 200) -> ItemResult:
    """A binary task of ``n`` test rows; seed i gets ``errors[i]`` rows wrong (the same rows first)."""
    y = np.arange(n) % 2
    preds = []
    for wrong in errors:
        pred = y.copy()
        pred[:wrong] = 1 - pred[:wrong]
        preds.append(pred)
    columns = np.column_stack([y, *preds])
    distinct, counts = np.unique(columns, axis=0, return_counts=True)
    cells = [[*map(int, row), int(c)] for row, c in zip(distinct, counts, strict=True)]
    mccs = [float(m) for m in mcc_from_confusion(seed_confusions(np.array(cells)))]
    return ItemResult(
        model=model,
        task_id=task,
        category=category,
        regime="full",
        mean={"mcc": float(np.mean(mccs)), "accuracy": 0.9, "f1": 0.9},
        std={"mcc": float(np.std(mccs)), "accuracy": 0.0, "f1": 0.0},
        per_seed=[{"seed": s, "mcc": m} for s, m in zip(SEEDS, mccs, strict=True)],
        n_train=100,
        n_test=n,
        n_classes=2,
        embedding_dim=4,
        task_fingerprint=f"fp-{task}",
        task_revision=None,
        model_identity={"key": model},
        timings={},
        suite="geneb",
        outcomes={"seeds": SEEDS, "cells": cells},
    )


def test_item_interval_is_the_percentile_interval_of_the_tasks_replicates() -> None:
    item = _item("m", "t1", "Promoters", (20, 30))
    got = item_intervals([item]).iloc[0]
    expected = mcc_interval(bootstrap_mcc(item.outcomes["cells"], rng=task_rng("t1")))  # type: ignore[index]
    assert (got["mcc_ci_low"], got["mcc_ci_high"]) == expected
    assert got["mcc_ci_low"] <= item.mean["mcc"] <= got["mcc_ci_high"]


def test_a_result_without_outcomes_has_no_interval_and_neither_has_its_macro() -> None:
    old = dataclasses.replace(_item("m", "t2", "Enhancers", (10, 10)), outcomes=None)
    items = [_item("m", "t1", "Promoters", (20, 30)), old]
    assert item_draws(old) is None
    assert item_intervals(items)["mcc_ci_low"].isna().tolist() == [False, True]
    macro = macro_uncertainty(items).iloc[0]
    assert np.isnan(macro["macro_ci_low"])
    assert np.isnan(macro["macro_ci_high"])
    assert not np.isnan(macro["macro_std"]), "the seed std needs no outcomes"


def test_macro_replicates_aggregate_tasks_as_the_table_does() -> None:
    """Promoters = mean(t1, t2), Enhancers = t3; macro = mean of the two categories, replicate by replicate."""
    items = [
        _item("m", "t1", "Promoters", (20, 30)),
        _item("m", "t2", "Promoters", (50, 40)),
        _item("m", "t3", "Enhancers", (5, 15)),
    ]
    draws = {r.task_id: item_draws(r) for r in items}
    replicates = ((draws["t1"] + draws["t2"]) / 2 + draws["t3"]) / 2  # type: ignore[operator]
    got = macro_uncertainty(items).iloc[0]
    assert (got["macro_ci_low"], got["macro_ci_high"]) == pytest.approx(mcc_interval(replicates))
    per_seed = np.array([[s["mcc"] for s in r.per_seed] for r in items])
    macros = ((per_seed[0] + per_seed[1]) / 2 + per_seed[2]) / 2
    assert got["macro_std"] == pytest.approx(float(macros.std()))
    point = ((items[0].mean["mcc"] + items[1].mean["mcc"]) / 2 + items[2].mean["mcc"]) / 2
    assert got["macro_ci_low"] < point < got["macro_ci_high"]
    # independent tasks: the macro's interval is narrower than the widest of its tasks'
    intervals = item_intervals(items)
    widths = (intervals["mcc_ci_high"] - intervals["mcc_ci_low"]).to_numpy()
    assert got["macro_ci_high"] - got["macro_ci_low"] < widths.max()


def test_with_uncertainty_adds_its_columns_at_the_end() -> None:
    table = pd.DataFrame({"regime": ["full"], "model": ["m"], "macro": [0.5], "status": ["complete"]})
    out = with_uncertainty(table, [_item("m", "t1", "Promoters", (20, 30))])
    assert list(out.columns) == [*table.columns, "macro_std", "macro_ci_low", "macro_ci_high"]
    assert out["macro_ci_low"].notna().all()
