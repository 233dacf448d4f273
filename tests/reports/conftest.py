"""Synthetic result dirs for the report tests: fast, deterministic, no models or data needed."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from geneb_bench.data.suites import geneb_task_specs
from geneb_bench.protocol import SEEDS
from geneb_bench.results.record import ItemResult, write_result

RunWriter = Callable[..., Path]


def outcomes_for(mcc: float, n: int = 200) -> dict[str, Any]:
    """Test outcomes of a balanced binary task of ``n`` rows whose MCC is about ``mcc`` (every seed alike)."""
    wrong = round((1 - mcc) / 2 * n)
    w0, w1, half = wrong // 2, wrong - wrong // 2, n // 2
    rows = [(0, 0, half - w0), (0, 1, w0), (1, 1, half - w1), (1, 0, w1)]
    return {
        "seeds": list(SEEDS),
        "cells": [[t, *([p] * len(SEEDS)), c] for t, p, c in rows if c],
    }


def make_result(
    model: str,
    task_id: str,
    category: str,
    regime: str,
    mcc: float,
    *,
    outcomes: bool = False,
    n_params: int | None = None,
) -> ItemResult:
    return ItemResult(
        model=model,
        task_id=task_id,
        category=category,
        regime=regime,
        mean={"mcc": mcc, "accuracy": (mcc + 1) / 2, "f1": (mcc + 1) / 2 - 0.01},
        std={"mcc": 0.0, "accuracy": 0.0, "f1": 0.0},
        per_seed=[
            {"seed": s, "mcc": mcc, "accuracy": (mcc + 1) / 2, "f1": (mcc + 1) / 2 - 0.01} for s in SEEDS
        ],
        n_train=10,
        n_test=200 if outcomes else 10,
        n_classes=2,
        embedding_dim=4,
        task_fingerprint=f"fp-{task_id}",
        task_revision="test-rev",
        model_identity={"key": model, "family": "kmer", "source": None, "revision": None, "options": {}},
        timings={},
        versions={"python": "3.11", "geneb-bench": "0.1.0"},
        suite="geneb",
        outcomes=outcomes_for(mcc) if outcomes else None,
        n_params=n_params,
    )


def with_seed_mcc(item: ItemResult, mccs: Sequence[float]) -> ItemResult:
    """``item`` with these per-seed MCCs and the mean/std they give (numpy's mean and population std, as the
    reader recomputes them): seeds that differ, as in a few-shot regime where each seed draws its own shots."""
    import numpy as np

    seeds = [s | {"mcc": m} for s, m in zip(item.per_seed, mccs, strict=True)]
    values = np.asarray(mccs, dtype=np.float64)
    return dataclasses.replace(
        item,
        per_seed=seeds,
        mean=item.mean | {"mcc": float(values.mean())},
        std=item.std | {"mcc": float(values.std())},
    )


def write_run(
    root: Path,
    model: str,
    tasks: Iterable[str] | None = None,
    regimes: Iterable[str] = ("full", "10shot", "1shot"),
    score: Callable[[str, str], float] = lambda task, regime: 0.5,
    **fields: Any,
) -> Path:
    """Write results of ``model`` for the given GENEB tasks (default: all 100) and regimes; ``fields``:
    ``outcomes=True`` (record test outcomes) and ``n_params`` (the count a run recorded)."""
    specs = {s.task_id: s for s in geneb_task_specs()}
    for task_id in tasks if tasks is not None else specs:
        for regime in regimes:
            write_result(
                root,
                make_result(
                    model, task_id, specs[task_id].category, regime, score(task_id, regime), **fields
                ),
            )
    return root


@pytest.fixture
def run_writer() -> RunWriter:
    return write_run


@pytest.fixture(scope="session")
def tf_tasks() -> list[str]:
    return [s.task_id for s in geneb_task_specs() if s.category == "TF Binding"]


@pytest.fixture(scope="session")
def complete_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All 100 GENEB tasks x 3 regimes for ``kmer-3`` (a registered model, so metadata is known)."""
    return write_run(tmp_path_factory.mktemp("complete"), "kmer-3", score=lambda task, regime: 0.123456789)


@pytest.fixture(scope="session")
def session_writer() -> RunWriter:
    return write_run


class _Rows(HTMLParser):
    """The rows of one ``<table id=...>``: cell texts by column name (``data-name``) and the row's class."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id, self.inside = table_id, False
        self.names: list[str] = []
        self.rows: list[dict[str, str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self.inside = found.get("id") == self.table_id
        elif self.inside and tag == "th":
            self.names.append(found.get("data-name") or "")
        elif self.inside and tag == "tr" and self.names:
            self.rows.append({"_class": found.get("class") or ""})
        elif self.inside and tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = False
        elif tag == "td" and self._cell is not None:
            row = self.rows[-1]
            row[self.names[len(row) - 1]] = "".join(self._cell)
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def page_rows(page: str, table_id: str = "leaderboard") -> list[dict[str, str]]:
    """Rows of a report.html table as served (before any filter runs in a browser)."""
    parser = _Rows(table_id)
    parser.feed(page)
    return parser.rows
