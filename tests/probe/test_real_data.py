"""Exactness on real data: k-mer embeddings of small real GENEB tasks, against the protocol written out here.

The reference below is the protocol document read literally (k-shot draws, one sklearn fit per regime x
seed, sklearn's metric functions), sharing nothing with the package except the embedder. Skipped when the
shared data is absent; never copies it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

from geneb_bench.data.csv_tasks import load_published_layout
from geneb_bench.data.suites import geneb_task_specs
from geneb_bench.models.kmer import KmerEmbedder
from geneb_bench.probe import torch_lr
from geneb_bench.probe.evaluate import evaluate_task
from geneb_bench.probe.sampling import kshot_indices
from geneb_bench.protocol import REGIMES, SEEDS

SMALL_TASKS = (
    "leannmlindsey_GUE_prom_300_tata",  # 4904 / 613
    "leannmlindsey_GUE_mouse_3",  # 1904 / 239
    "leannmlindsey_GUE_mouse_2",  # 2620 / 328
    "leannmlindsey_GUE_mouse_0",  # 6478 / 810
)


@dataclass(frozen=True)
class Task:
    task_id: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@pytest.fixture(scope="module", params=SMALL_TASKS)
def task(request: pytest.FixtureRequest, shared_data: Path) -> Task:
    spec = {s.task_id: s for s in geneb_task_specs()}[request.param]
    data = load_published_layout(spec, shared_data / "geneb-tasks-subset", None)
    kmer = KmerEmbedder(3)
    return Task(request.param, kmer.embed(data.train_sequences), data.train_labels,
                kmer.embed(data.test_sequences), data.test_labels)


def protocol_by_hand(t: Task, shots: int | None) -> np.ndarray:
    """(seed, [mcc, accuracy, f1]) rows: the protocol text, one fit per seed, nothing shared."""
    rows = []
    for seed in SEEDS:
        if shots is None:
            idx = np.arange(len(t.y_train))
        else:
            rng = np.random.RandomState(seed)
            idx = np.concatenate([
                rng.choice(np.where(t.y_train == c)[0], min(shots, int((t.y_train == c).sum())), replace=False)
                for c in np.unique(t.y_train)
            ])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf = LogisticRegression(max_iter=1000, random_state=seed).fit(t.x_train[idx], t.y_train[idx])
            pred = clf.predict(t.x_test)
            rows.append([matthews_corrcoef(t.y_test, pred), accuracy_score(t.y_test, pred),
                         f1_score(t.y_test, pred, average="macro")])
    return np.array(rows)


def test_default_path_is_the_protocol_exactly(task: Task) -> None:
    got = evaluate_task(task.x_train, task.y_train, task.x_test, task.y_test, REGIMES, SEEDS)
    for regime in REGIMES:
        ref = protocol_by_hand(task, regime.shots)
        for col, metric in enumerate(("mcc", "accuracy", "f1")):
            np.testing.assert_allclose(got[regime.name].values(metric), ref[:, col], rtol=0, atol=1e-9,
                                       err_msg=f"{task.task_id} {regime.name} {metric}")


def test_torch_reaches_the_optimum_sklearn_reaches_when_run_to_convergence(task: Task) -> None:
    """Same objective, same optimum: torch predicts what sklearn solved tightly (tol=1e-10) predicts.

    Only test points on the boundary (|sklearn decision| < 1e-6 of the largest, ties at solver precision:
    1-shot k-mer fits have margins of 1e-10) may go either way. Against the published protocol (tol=1e-4) the MCC
    differs more: lbfgs stops after 1-30 iterations on these small-valued features, short of the optimum;
    ``benchmarks/probe_bench.py`` prints that difference.
    """
    fits = ties = 0
    for regime in REGIMES:
        for seed in SEEDS:
            rows = np.arange(len(task.y_train)) if regime.shots is None else kshot_indices(task.y_train, regime.shots, seed)
            ref = LogisticRegression(tol=1e-10, max_iter=100_000).fit(task.x_train[rows].astype(np.float64), task.y_train[rows])
            margin = ref.decision_function(task.x_test.astype(np.float64))
            (fit,) = torch_lr.fit_predict(task.x_train, task.y_train, [rows], task.x_test)
            assert fit.converged
            clear = np.abs(margin) > 1e-6 * np.abs(margin).max()
            np.testing.assert_array_equal(fit.predictions[clear], ref.predict(task.x_test.astype(np.float64))[clear])
            ties += int((~clear).sum())
            fits += 1
    assert fits == 15
    assert ties <= 0.01 * fits * task.y_test.size  # the comparison covers almost every prediction
