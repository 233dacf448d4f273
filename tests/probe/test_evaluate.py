"""What ``evaluate_task`` records besides the scores: the test outcomes a bootstrap CI needs."""

from __future__ import annotations

import numpy as np
import pytest

from geneb_bench.probe.evaluate import evaluate_regime, evaluate_task
from geneb_bench.probe.metrics import mcc_from_confusion, seed_confusions
from geneb_bench.protocol import SEEDS, get_regime
from geneb_bench.results.record import ItemResult


def _blobs(n_classes: int, n: int = 240, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.RandomState(seed)
    centers = rng.normal(size=(n_classes, 6))
    y_tr, y_te = rng.randint(0, n_classes, n), rng.randint(0, n_classes, n // 2)
    x_tr = centers[y_tr] + rng.normal(scale=1.5, size=(n, 6))
    x_te = centers[y_te] + rng.normal(scale=1.5, size=(n // 2, 6))
    return x_tr, y_tr, x_te, y_te


@pytest.mark.parametrize("n_classes", [2, 3])
def test_outcomes_reproduce_every_seeds_mcc(n_classes: int) -> None:
    x_tr, y_tr, x_te, y_te = _blobs(n_classes)
    got = evaluate_task(x_tr, y_tr, x_te, y_te, [get_regime(r) for r in ("full", "10shot", "1shot")], SEEDS)
    for regime in got.values():
        cells = np.array(regime.outcomes)
        assert cells.shape[1] == len(SEEDS) + 2
        assert cells[:, -1].sum() == y_te.size
        np.testing.assert_allclose(
            mcc_from_confusion(seed_confusions(cells)), regime.values("mcc"), atol=1e-12
        )
    assert len(got["full"].outcomes) <= n_classes**2, "full: one shared fit, at most k x k distinct cells"


def test_a_one_class_draw_records_its_constant_prediction() -> None:
    x = np.arange(20, dtype=float).reshape(10, 2)
    got = evaluate_regime(
        x, np.zeros(10, dtype=int), x[:4], np.array([0, 1, 0, 1]), get_regime("full"), (13,)
    )
    assert sorted(got.outcomes) == [(0, 0, 2), (1, 0, 2)]


def test_outcomes_go_into_the_item_record_and_leave_the_scores_alone() -> None:
    x_tr, y_tr, x_te, y_te = _blobs(2)
    regime = evaluate_regime(x_tr, y_tr, x_te, y_te, get_regime("10shot"), SEEDS)
    item = ItemResult.from_regime(
        regime,
        model="m",
        task_id="t",
        category="c",
        n_train=y_tr.size,
        n_test=y_te.size,
        n_classes=2,
        embedding_dim=6,
        task_fingerprint="f",
        task_revision=None,
        model_identity={},
        timings={},
    )
    assert item.outcomes is not None
    assert item.outcomes["seeds"] == list(SEEDS)
    assert item.outcomes["cells"] == [list(c) for c in regime.outcomes]
    assert all("cells" not in s and "outcomes" not in s for s in item.per_seed), "per-seed records unchanged"
    assert item.mean["mcc"] == pytest.approx(float(np.mean(regime.values("mcc"))))
    assert ItemResult.from_dict(item.to_dict()) == item
