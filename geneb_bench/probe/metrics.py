"""Per-task metrics: MCC (headline), accuracy and macro-F1 on the whole test split.

The values are sklearn's (``matthews_corrcoef``, ``accuracy_score``, ``f1_score(average="macro")``), to
the bit: the same arithmetic on one confusion matrix, in the same order, in float64. sklearn's input
validation costs ~10 ms per call of the three, more than a whole k-shot fit, and a task scores up to 15
predictions; ``tests/probe`` checks equality with sklearn (``==``, not approximately) on random inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Scores:
    mcc: float
    accuracy: float
    f1: float


def score(y_true: npt.NDArray[np.integer], y_pred: npt.NDArray[np.integer]) -> Scores:
    """MCC (multi-class form when C > 2), accuracy and macro-F1 (0 where undefined), as sklearn computes them."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim != 1 or y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError(
            f"labels and predictions must be 1-D and of one length, got {y_true.shape} and {y_pred.shape}"
        )
    if not (np.issubdtype(y_true.dtype, np.integer) and np.issubdtype(y_pred.dtype, np.integer)):
        raise TypeError("integer class labels expected")
    n = y_true.size
    labels, inverse = np.unique(
        np.concatenate([y_true, y_pred]), return_inverse=True
    )  # sklearn: unique_labels
    k = labels.size
    cm = np.bincount(inverse[:n] * k + inverse[n:], minlength=k * k).reshape(k, k)  # rows true, columns pred

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
