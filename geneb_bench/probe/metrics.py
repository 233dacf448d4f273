"""Per-task metrics: MCC (headline), accuracy and macro-F1 on the whole test split.

The values are sklearn's (``matthews_corrcoef``, ``accuracy_score``, ``f1_score(average="macro")``), to
the bit: the same arithmetic on one confusion matrix, in the same order, in float64. sklearn's input
validation costs ~10 ms per call of the three, more than a whole k-shot fit, and a task scores up to 15
predictions; ``tests/probe`` checks equality with sklearn (``==``, not approximately) on random inputs.

Uncertainty: a task's test split is a sample, so its MCC has a sampling error. ``outcome_cells`` keeps,
per test row, the true class and every seed's prediction (counted, not listed: a few dozen cells for a
binary task), and ``bootstrap_mcc`` resamples test rows from it to give a percentile confidence interval
of the seed-mean MCC (``mcc_interval``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Scores:
    mcc: float
    accuracy: float
    f1: float


def confusion(y_true: npt.NDArray[np.integer], y_pred: npt.NDArray[np.integer]) -> npt.NDArray[np.int64]:
    """Counts, rows true class and columns predicted, over the labels in either (sklearn's unique_labels)."""
    n = y_true.size
    labels, inverse = np.unique(np.concatenate([y_true, y_pred]), return_inverse=True)
    k = labels.size
    return np.bincount(inverse[:n] * k + inverse[n:], minlength=k * k).reshape(k, k).astype(np.int64)


def score(y_true: npt.NDArray[np.integer], y_pred: npt.NDArray[np.integer]) -> Scores:
    """MCC (multi-class form when C > 2), accuracy and macro-F1 (0 where undefined), as sklearn computes them."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim != 1 or y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError(
            f"labels and predictions must be 1-D and of one length, got {y_true.shape} and {y_pred.shape}"
        )
    if not (np.issubdtype(y_true.dtype, np.integer) and np.issubdtype(y_pred.dtype, np.integer)):
        raise TypeError("integer class labels expected")
    cm = confusion(y_true, y_pred)

    # matthews_corrcoef
    t_sum = cm.sum(axis=1, dtype=np.float64)
    p_sum = cm.sum(axis=0, dtype=np.float64)
    n_correct = np.trace(cm, dtype=np.float64)
    n_samples = p_sum.sum()
    cov_ytyp = n_correct * n_samples - np.dot(t_sum, p_sum)
    cov_ypyp = n_samples**2 - np.dot(p_sum, p_sum)
    cov_ytyt = n_samples**2 - np.dot(t_sum, t_sum)
    cov_ypyp_ytyt = cov_ypyp * cov_ytyt
    mcc = 0.0 if cov_ypyp_ytyt == 0 else float(cov_ytyp / np.sqrt(cov_ypyp_ytyt))

    # f1_score(average="macro", zero_division=0): per label 2 tp / (true + pred), then the plain mean
    tp = np.diagonal(cm)
    denom = 1.0 * cm.sum(axis=1).astype(np.float64) + cm.sum(axis=0).astype(np.float64)
    zero = denom == 0
    denom[zero] = 1
    f1 = (2 * tp.astype(np.float64)) / denom
    f1[zero] = 0.0
    return Scores(mcc=mcc, accuracy=float(np.mean(y_true == y_pred)), f1=float(np.mean(f1)))


# -- uncertainty over test rows ----------------------------------------------------------------------------

BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 20260  # fixed: a report rebuilt from the same files shows the same intervals
CI_LEVEL = 0.95


def outcome_cells(
    y_true: npt.NDArray[np.integer], predictions: Sequence[npt.NDArray[np.integer]]
) -> npt.NDArray[np.int64]:
    """The test split as counted outcomes: one row ``[true, pred_1, ..., pred_S, count]`` per distinct tuple.

    Why not one confusion matrix per seed: the reported MCC is the mean over seeds *on the same test rows*,
    so resampling rows must move every seed's prediction of a row together; per-seed matrices resampled
    independently would treat the seeds' errors as independent and give intervals too narrow. Each seed's
    confusion matrix is a marginal of these cells (``seed_confusions``). Rows are sorted, so the record is
    deterministic; a binary task with 5 seeds has at most 2**6 cells, whatever its size.
    """
    y_true = np.asarray(y_true)
    columns = np.column_stack([y_true, *(np.asarray(p) for p in predictions)]).astype(np.int64)
    if columns.shape[0] == 0:
        return np.zeros((0, columns.shape[1] + 1), dtype=np.int64)
    distinct, counts = np.unique(columns, axis=0, return_counts=True)
    return np.column_stack([distinct, counts]).astype(np.int64)


def _validated(cells: npt.ArrayLike) -> npt.NDArray[np.int64]:
    array = np.asarray(cells, dtype=np.int64)
    if array.ndim != 2 or array.shape[1] < 3 or array.shape[0] == 0:
        raise ValueError(f"outcome cells must be rows [true, pred..., count], got shape {array.shape}")
    if (array[:, -1] < 0).any() or array[:, -1].sum() == 0:
        raise ValueError("outcome counts must be >= 0 with a positive total")
    return array


def mcc_from_confusion(cm: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """MCC of a stack of confusion matrices (``(..., k, k)``, rows true), sklearn's formula; 0 where undefined."""
    cm = np.asarray(cm, dtype=np.float64)
    t_sum = cm.sum(axis=-1)
    p_sum = cm.sum(axis=-2)
    n_correct = np.trace(cm, axis1=-2, axis2=-1)
    n_samples = p_sum.sum(axis=-1)
    cov_ytyp = n_correct * n_samples - (t_sum * p_sum).sum(axis=-1)
    cov_ypyp = n_samples**2 - (p_sum * p_sum).sum(axis=-1)
    cov_ytyt = n_samples**2 - (t_sum * t_sum).sum(axis=-1)
    product = cov_ypyp * cov_ytyt
    with np.errstate(divide="ignore", invalid="ignore"):
        mcc = cov_ytyp / np.sqrt(product)
    return np.where(product == 0, 0.0, mcc)


def _cell_indices(cells: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.intp], int]:
    """Per seed, each cell's flat index into a k x k confusion matrix over the labels seen; and k."""
    labels, inverse = np.unique(cells[:, :-1], return_inverse=True)
    inverse = inverse.reshape(cells.shape[0], cells.shape[1] - 1)
    k = labels.size
    return (inverse[:, :1] * k + inverse[:, 1:]).T, k  # (seeds, cells)


def seed_confusions(cells: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Each seed's confusion matrix (``(S, k, k)``, labels as in the cells, sorted) from the outcome cells."""
    array = _validated(cells)
    index, k = _cell_indices(array)
    out = np.zeros((index.shape[0], k * k), dtype=np.int64)
    for s, idx in enumerate(index):
        out[s] = np.bincount(idx, weights=array[:, -1], minlength=k * k).astype(np.int64)
    return out.reshape(-1, k, k)


def bootstrap_mcc(
    cells: npt.ArrayLike,
    n_resamples: int = BOOTSTRAP_RESAMPLES,
    rng: np.random.Generator | None = None,
) -> npt.NDArray[np.float64]:
    """``n_resamples`` bootstrap replicates of the seed-mean MCC, resampling test rows with replacement.

    Method: drawing the N test rows with replacement is a multinomial draw of N over the outcome cells with
    probabilities count/N (the same distribution, no rows needed). Each replicate's counts give every seed's
    confusion matrix (same rows for every seed), then each seed's MCC (sklearn's formula; a replicate in
    which a seed's matrix has one row or column gives 0, sklearn's convention) and their mean. Vectorised
    over replicates, in chunks so memory stays bounded for large multi-class tasks. ``rng`` defaults to
    ``numpy.random.default_rng(BOOTSTRAP_SEED)``: the same cells always give the same replicates.
    """
    array = _validated(cells)
    rng = np.random.default_rng(BOOTSTRAP_SEED) if rng is None else rng
    counts = array[:, -1]
    total = int(counts.sum())
    index, k = _cell_indices(array)
    # seeds whose predictions coincide (every seed in the full regime: one lbfgs fit) are computed once
    index, weight = np.unique(index, axis=0, return_counts=True)
    weight = weight / weight.sum()
    order = [np.argsort(idx, kind="stable") for idx in index]
    starts = [np.flatnonzero(np.r_[True, np.diff(idx[o]) != 0]) for idx, o in zip(index, order, strict=True)]
    targets = [idx[o][s] for idx, o, s in zip(index, order, starts, strict=True)]
    chunk = max(1, 2_000_000 // array.shape[0])
    draws = np.empty(n_resamples, dtype=np.float64)
    for lo in range(0, n_resamples, chunk):
        hi = min(n_resamples, lo + chunk)
        resampled = rng.multinomial(total, counts / total, size=hi - lo)  # (replicates, cells)
        per_seed = np.empty((hi - lo, index.shape[0]))
        for s in range(index.shape[0]):
            cm = np.zeros((hi - lo, k * k), dtype=np.int64)
            cm[:, targets[s]] = np.add.reduceat(resampled[:, order[s]], starts[s], axis=1)
            per_seed[:, s] = mcc_from_confusion(cm.reshape(-1, k, k))
        draws[lo:hi] = per_seed @ weight
    return draws


def mcc_interval(draws: npt.ArrayLike, level: float = CI_LEVEL) -> tuple[float, float]:
    """The percentile interval of bootstrap replicates (e.g. 2.5th and 97.5th percentiles for 95%)."""
    values = np.asarray(draws, dtype=np.float64)
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)
