"""Per-task metrics: MCC (headline), accuracy and macro-F1 on the whole test split."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef


@dataclass(frozen=True)
class Scores:
    mcc: float
    accuracy: float
    f1: float


def score(y_true: npt.NDArray[np.integer], y_pred: npt.NDArray[np.integer]) -> Scores:
    """sklearn's MCC (multi-class form when C > 2), accuracy and macro-F1, as the authors compute them."""
    return Scores(
        mcc=float(matthews_corrcoef(y_true, y_pred)),
        accuracy=float(accuracy_score(y_true, y_pred)),
        f1=float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
    )
