"""One definition of "measured the same way": field differences, same-item checks, table checks."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geneb_bench.results.provenance import IncompatibleResults, Provenance, check_table, incompatibility
from geneb_bench.results.record import ItemResult

BASE = Provenance(
    model_identity='{"key": "m"}',
    task_fingerprint="fp",
    task_revision=None,
    protocol="geneb-1.0",
    seeds=(13, 17),
    probe="logistic-regression",
    probe_implementation="sklearn",
    harness="0.1.0",
)
FIELDS = [f.name for f in dataclasses.fields(Provenance)]


def _result(
    model: str = "m",
    task: str = "t",
    revision: str = "r1",
    seeds: tuple[int, ...] = (13, 17),
    backend: str = "sklearn",
) -> ItemResult:
    return ItemResult(
        model=model,
        task_id=task,
        category="Promoters",
        regime="full",
        mean={"mcc": 0.5, "accuracy": 0.7, "f1": 0.7},
        std={"mcc": 0.0, "accuracy": 0.0, "f1": 0.0},
        per_seed=[{"seed": s} for s in seeds],
        n_train=1,
        n_test=1,
        n_classes=2,
        embedding_dim=2,
        task_fingerprint="fp",
        task_revision=None,
        model_identity={"key": model, "revision": revision},
        timings={},
        versions={"geneb-bench": "0.1.0"},
        probe_backend=backend,
    )


@given(st.sampled_from(FIELDS), st.text(min_size=1, max_size=5))
def test_differences_name_exactly_the_changed_field(name: str, text: str) -> None:
    value: Any = (len(text),) if name == "seeds" else f"x{text}"
    other = dataclasses.replace(BASE, **{name: value})
    diff = BASE.differences(other)
    assert [d.split(" (")[0] for d in diff] == [name]
    assert BASE.differences(other, ignore=[name]) == []
    assert BASE.differences(BASE) == []


def test_provenance_of_a_result_reads_seeds_probe_and_harness() -> None:
    prov = Provenance.of(_result(seeds=(1, 2, 3), backend="torch"))
    assert prov.seeds == (1, 2, 3)
    assert prov.probe == "logistic-regression"  # older files without the field read as the protocol's
    assert prov.probe_implementation == "torch"
    assert prov.harness == "0.1.0"


def test_same_item_measured_differently_names_both_paths() -> None:
    assert incompatibility(_result(), "a.json", _result(), "b.json") is None
    error = incompatibility(_result(), "a.json", _result(revision="r2"), "b.json")
    assert error is not None
    assert "a.json and b.json" in str(error)
    assert "model_identity" in str(error)


def test_a_table_refuses_mixed_seeds_and_two_revisions_of_one_model() -> None:
    check_table([(_result(task="t1"), Path("1")), (_result(model="n", task="t1"), Path("2"))])  # fine
    with pytest.raises(IncompatibleResults, match="cannot share a table: seeds"):
        check_table([(_result(task="t1"), Path("1")), (_result(task="t2", seeds=(13,)), Path("2"))])
    with pytest.raises(IncompatibleResults, match="two revisions or recipes"):
        check_table([(_result(task="t1"), Path("1")), (_result(task="t2", revision="r2"), Path("2"))])
