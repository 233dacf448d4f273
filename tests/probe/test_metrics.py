"""Bootstrap CIs of MCC over test rows: recorded outcomes, seed confusions, interval properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import confusion_matrix, matthews_corrcoef

from geneb_bench.probe.metrics import (
    bootstrap_mcc,
    mcc_from_confusion,
    mcc_interval,
    outcome_cells,
    score,
    seed_confusions,
)

RESAMPLES = 300  # enough for the properties, fast under hypothesis


def _cells_from_confusion(cm: np.ndarray) -> np.ndarray:
    """One seed's outcome cells from a confusion matrix (rows true, columns predicted)."""
    rows = [[t, p, int(cm[t, p])] for t in range(cm.shape[0]) for p in range(cm.shape[1]) if cm[t, p]]
    return np.array(rows, dtype=np.int64)


def _point(cells: np.ndarray) -> float:
    return float(mcc_from_confusion(seed_confusions(cells)).mean())


@st.composite
def labelled(draw: st.DrawFn) -> tuple[np.ndarray, list[np.ndarray]]:
    n = draw(st.integers(5, 80))
    k = draw(st.integers(2, 4))
    seeds = draw(st.integers(1, 4))
    y = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    preds = [np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))) for _ in range(seeds)]
    return y, preds


@pytest.mark.filterwarnings("ignore:A single label was found")
@settings(max_examples=40, deadline=None)
@given(labelled())
def test_cells_keep_every_seeds_confusion_matrix_and_mcc(data: tuple[np.ndarray, list[np.ndarray]]) -> None:
    y, preds = data
    cells = outcome_cells(y, preds)
    assert cells[:, -1].sum() == y.size
    labels = np.unique(np.concatenate([y, *preds]))
    for cm, pred in zip(seed_confusions(cells), preds, strict=True):
        assert (cm == confusion_matrix(y, pred, labels=labels)).all()
        assert mcc_from_confusion(cm) == pytest.approx(matthews_corrcoef(y, pred), abs=1e-12)
        assert score(y, pred).mcc == pytest.approx(float(mcc_from_confusion(cm)), abs=1e-12)


@st.composite
def confusions(draw: st.DrawFn, low: int = 0) -> np.ndarray:
    k = draw(st.integers(2, 4))
    values = draw(st.lists(st.integers(low, 60), min_size=k * k, max_size=k * k))
    return np.array(values, dtype=np.int64).reshape(k, k)


@settings(max_examples=40, deadline=None)
@given(confusions())
def test_interval_lies_within_minus_one_and_one(cm: np.ndarray) -> None:
    if cm.sum() == 0:
        cm[0, 0] = 1
    low, high = mcc_interval(bootstrap_mcc(_cells_from_confusion(cm), RESAMPLES))
    assert -1.0 <= low <= high <= 1.0


@settings(max_examples=40, deadline=None)
@given(confusions(low=15))  # non-degenerate: every cell populated, no resample loses a class
def test_interval_contains_the_point_mcc(cm: np.ndarray) -> None:
    cells = _cells_from_confusion(cm)
    low, high = mcc_interval(bootstrap_mcc(cells, RESAMPLES))
    assert low <= _point(cells) <= high


@settings(max_examples=25, deadline=None)
@given(confusions(low=3))
def test_interval_narrows_as_the_test_set_grows(cm: np.ndarray) -> None:
    """The same proportions on 25x the rows: the interval is about 5x narrower (strictly narrower here)."""
    small = mcc_interval(bootstrap_mcc(_cells_from_confusion(cm), RESAMPLES))
    large = mcc_interval(bootstrap_mcc(_cells_from_confusion(cm * 25), RESAMPLES))
    assert large[1] - large[0] < small[1] - small[0] or small[1] - small[0] == 0


@pytest.mark.parametrize("k", [2, 3, 40])
def test_a_perfect_classifier_has_the_interval_one_one(k: int) -> None:
    cm = np.diag(np.full(k, 30))
    assert mcc_interval(bootstrap_mcc(_cells_from_confusion(cm))) == (1.0, 1.0)


def test_seed_mean_is_resampled_on_shared_rows() -> None:
    """Two seeds making the same mistakes on the same rows: as wide as one seed alone (the rows move
    together), not narrowed as independent resamples of each seed would make it."""
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 400)
    pred = np.where(rng.random(400) < 0.8, y, 1 - y)
    one = mcc_interval(bootstrap_mcc(outcome_cells(y, [pred])))
    two = mcc_interval(bootstrap_mcc(outcome_cells(y, [pred, pred])))
    assert two == pytest.approx(one)


def test_replicates_are_reproducible_with_the_fixed_seed() -> None:
    cells = _cells_from_confusion(np.array([[40, 10], [12, 38]]))
    assert (bootstrap_mcc(cells) == bootstrap_mcc(cells)).all()
    assert bootstrap_mcc(cells).shape == (1000,)


@pytest.mark.parametrize("cells", [np.zeros((0, 3)), np.array([[0, 1, -1]]), np.array([1, 2, 3])])
def test_malformed_cells_are_refused(cells: np.ndarray) -> None:
    with pytest.raises(ValueError, match="outcome"):
        bootstrap_mcc(cells)
