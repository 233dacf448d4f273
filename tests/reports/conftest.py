"""Synthetic result dirs for the report tests: fast, deterministic, no models or data needed."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from geneb_bench.data.suites import geneb_task_specs
from geneb_bench.protocol import SEEDS
from geneb_bench.results.record import ItemResult, write_result

RunWriter = Callable[..., Path]


def make_result(model: str, task_id: str, category: str, regime: str, mcc: float) -> ItemResult:
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
        n_test=10,
        n_classes=2,
        embedding_dim=4,
        task_fingerprint=f"fp-{task_id}",
        task_revision="test-rev",
        model_identity={"key": model, "family": "kmer", "source": None, "revision": None, "options": {}},
        timings={},
        versions={"python": "3.11", "geneb-bench": "0.1.0"},
        suite="geneb",
    )


def write_run(
    root: Path,
    model: str,
    tasks: Iterable[str] | None = None,
    regimes: Iterable[str] = ("full", "10shot", "1shot"),
    score: Callable[[str, str], float] = lambda task, regime: 0.5,
) -> Path:
    """Write results of ``model`` for the given GENEB tasks (default: all 100) and regimes."""
    specs = {s.task_id: s for s in geneb_task_specs()}
    for task_id in tasks if tasks is not None else specs:
        for regime in regimes:
            write_result(
                root, make_result(model, task_id, specs[task_id].category, regime, score(task_id, regime))
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
