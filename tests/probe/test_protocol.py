"""The probe against an independent computation written here from docs/geneb-protocol.md."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

from geneb_bench.probe.evaluate import evaluate_regime
from geneb_bench.probe.metrics import score
from geneb_bench.probe.sampling import kshot_indices
from geneb_bench.protocol import REGIMES, SEEDS, get_regime


def reference_kshot(y: np.ndarray, k: int, seed: int) -> np.ndarray:
    """The protocol text, literally."""
    rng = np.random.RandomState(seed)
    idx: list[int] = []
    for c in np.unique(y):
        members = np.where(y == c)[0]
        idx.extend(rng.choice(members, min(k, len(members)), replace=False))
    return np.array(idx)


def test_protocol_constants() -> None:
    assert SEEDS == (13, 17, 42, 123, 997)
    assert [(r.name, r.shots) for r in REGIMES] == [("full", None), ("10shot", 10), ("1shot", 1)]


def test_kshot_fixed_indices() -> None:
    y = np.array([0, 1, 0, 1, 0, 1, 2, 2, 0, 1])
    # Independently derived by hand from RandomState(13): class 0 rows {0,2,4,8}, class 1 {1,3,5,9}, class 2 {6,7}.
    rng = np.random.RandomState(13)
    expected = np.concatenate(
        [
            rng.choice([0, 2, 4, 8], 2, replace=False),
            rng.choice([1, 3, 5, 9], 2, replace=False),
            rng.choice([6, 7], 2, replace=False),
        ]
    )
    np.testing.assert_array_equal(kshot_indices(y, 2, 13), expected)
    assert sorted(kshot_indices(y, 10, 42)) == list(range(10))  # k > n_c takes every row of the class


@settings(max_examples=60, deadline=None)
@given(
    labels=st.lists(st.integers(0, 4), min_size=2, max_size=80),
    k=st.integers(1, 12),
    seed=st.sampled_from(SEEDS),
)
def test_kshot_matches_reference(labels: list[int], k: int, seed: int) -> None:
    y = np.array(labels)
    got = kshot_indices(y, k, seed)
    np.testing.assert_array_equal(got, reference_kshot(y, k, seed))
    assert len(set(got.tolist())) == len(got)  # without replacement
    for c in np.unique(y):
        assert (y[got] == c).sum() == min(k, (y == c).sum())


def test_kshot_rejects_zero_shots() -> None:
    with pytest.raises(ValueError, match="shots"):
        kshot_indices(np.array([0, 1]), 0, 13)


def test_metrics_of_known_predictions() -> None:
    y_true = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    y_pred = np.array([1, 1, 0, 0, 0, 0, 0, 1])
    s = score(y_true, y_pred)
    tp, tn, fp, fn = 2, 4, 1, 1
    mcc = (tp * tn - fp * fn) / np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    assert s.mcc == pytest.approx(mcc, abs=1e-12)
    assert s.accuracy == pytest.approx(6 / 8)
    f1_pos = 2 * tp / (2 * tp + fp + fn)
    f1_neg = 2 * tn / (2 * tn + fn + fp)
    assert s.f1 == pytest.approx((f1_pos + f1_neg) / 2)
    assert score(y_true, np.zeros_like(y_true)).mcc == 0.0  # constant prediction


def _reference_regime(
    x_tr: np.ndarray,
    y_tr: np.ndarray,
    x_te: np.ndarray,
    y_te: np.ndarray,
    shots: int | None,
    seeds: tuple[int, ...],
) -> np.ndarray:
    rows = []
    for seed in seeds:
        idx = np.arange(len(y_tr)) if shots is None else reference_kshot(y_tr, shots, seed)
        clf = LogisticRegression(max_iter=1000, random_state=seed).fit(x_tr[idx], y_tr[idx])
        pred = clf.predict(x_te)
        rows.append(
            (matthews_corrcoef(y_te, pred), accuracy_score(y_te, pred), f1_score(y_te, pred, average="macro"))
        )
    return np.array(rows)


@pytest.mark.parametrize("regime", ["full", "10shot", "1shot"])
@pytest.mark.parametrize("n_classes", [2, 4])
def test_evaluate_matches_independent_loop(regime: str, n_classes: int) -> None:
    rng = np.random.RandomState(0)
    centers = rng.normal(size=(n_classes, 8))
    y_tr = rng.randint(0, n_classes, 300)
    y_te = rng.randint(0, n_classes, 200)
    x_tr = centers[y_tr] + rng.normal(scale=1.5, size=(300, 8))
    x_te = centers[y_te] + rng.normal(scale=1.5, size=(200, 8))
    r = get_regime(regime)
    got = evaluate_regime(x_tr, y_tr, x_te, y_te, r, SEEDS)
    ref = _reference_regime(x_tr, y_tr, x_te, y_te, r.shots, SEEDS)
    np.testing.assert_allclose(got.values("mcc"), ref[:, 0], rtol=0, atol=1e-9)
    np.testing.assert_allclose(got.values("accuracy"), ref[:, 1], rtol=0, atol=1e-9)
    np.testing.assert_allclose(got.values("f1"), ref[:, 2], rtol=0, atol=1e-9)
    assert got.mean("mcc") == pytest.approx(ref[:, 0].mean(), abs=1e-12)
    assert got.std("mcc") == pytest.approx(ref[:, 0].std(), abs=1e-12)
    if regime == "full":  # one lbfgs fit serves every seed, and says so
        assert [s.fit_shared_with for s in got.seeds] == [None, 13, 13, 13, 13]
    assert [s.n_train for s in got.seeds] == [300 if r.shots is None else r.shots * n_classes] * 5


def test_one_class_training_draw_gives_constant_prediction() -> None:
    x = np.arange(20, dtype=float).reshape(10, 2)
    y_tr = np.zeros(10, dtype=int)
    y_te = np.array([0, 1, 0, 1])
    got = evaluate_regime(x, y_tr, x[:4], y_te, get_regime("full"), (13,))
    assert got.seeds[0].mcc == 0.0
    assert got.seeds[0].note is not None
    assert "one class" in got.seeds[0].note


def test_convergence_is_recorded() -> None:
    rng = np.random.RandomState(1)
    x = rng.normal(size=(200, 30)) * 1e4  # badly scaled: lbfgs hits max_iter
    y = rng.randint(0, 2, 200)
    got = evaluate_regime(x, y, x, y, get_regime("full"), (13,))
    seed = got.seeds[0]
    assert seed.converged == (seed.n_iter < 1000)
    assert seed.convergence_warnings == (0 if seed.converged else 1)
