"""One regime of one task: fit the GENEB probe per seed and score it on the whole test split.

Identical fits are done once: with lbfgs ``random_state`` is unused, so the full-data fit is the same for
every seed, and two seeds whose k-shot draws coincide (same rows, same order) give the same model. The
reuse is recorded per seed (``fit_shared_with``), never hidden.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from geneb_bench.probe.metrics import Scores, score
from geneb_bench.probe.sampling import kshot_indices
from geneb_bench.protocol import PROBE_MAX_ITER, Regime

Matrix = npt.NDArray[np.floating]
Labels = npt.NDArray[np.integer]


@dataclass(frozen=True)
class SeedResult:
    seed: int
    mcc: float
    accuracy: float
    f1: float
    n_train: int
    n_iter: int  # lbfgs iterations; == max_iter means it stopped before converging
    converged: bool
    convergence_warnings: int
    fit_shared_with: int | None = None  # seed whose identical fit was reused
    note: str | None = None  # degenerate outcome, e.g. a one-class training draw

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class RegimeResult:
    regime: str
    seeds: tuple[SeedResult, ...]

    def values(self, metric: str) -> npt.NDArray[np.float64]:
        return np.array([getattr(s, metric) for s in self.seeds], dtype=np.float64)

    def mean(self, metric: str) -> float:
        return float(self.values(metric).mean())

    def std(self, metric: str) -> float:
        """Population standard deviation (ddof=0) over the seeds."""
        return float(self.values(metric).std())


@dataclass(frozen=True)
class _Fit:
    scores: Scores
    n_iter: int
    converged: bool
    warnings: int
    note: str | None


def _fit_and_score(x_fit: Matrix, y_fit: Labels, x_test: Matrix, y_test: Labels, seed: int) -> _Fit:
    classes = np.unique(y_fit)
    if classes.size < 2:
        # sklearn cannot fit one class; the only possible classifier predicts it everywhere (MCC 0).
        pred = np.full(y_test.shape, classes[0])
        return _Fit(score(y_test, pred), 0, True, 0, "one class in the training rows: constant prediction")
    clf = LogisticRegression(max_iter=PROBE_MAX_ITER, random_state=seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        clf.fit(x_fit, y_fit)
    n_warn = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    n_iter = int(np.max(clf.n_iter_))
    return _Fit(score(y_test, clf.predict(x_test)), n_iter, n_iter < PROBE_MAX_ITER, n_warn, None)


def evaluate_regime(
    x_train: Matrix,
    y_train: Labels,
    x_test: Matrix,
    y_test: Labels,
    regime: Regime,
    seeds: Sequence[int],
) -> RegimeResult:
    """Run the GENEB probe for ``regime`` over ``seeds`` (raw embeddings: no scaling, no PCA)."""
    fits: dict[bytes, tuple[int, _Fit]] = {}
    results = []
    for seed in seeds:
        if regime.shots is None:
            idx = None
            key = b"full"
        else:
            idx = kshot_indices(y_train, regime.shots, seed)
            key = idx.tobytes()
        shared_with = None
        if key in fits:
            shared_with, fit = fits[key]
        else:
            x_fit = x_train if idx is None else x_train[idx]
            y_fit = y_train if idx is None else y_train[idx]
            fit = _fit_and_score(x_fit, y_fit, x_test, y_test, seed)
            fits[key] = (seed, fit)
        results.append(
            SeedResult(
                seed=seed,
                mcc=fit.scores.mcc,
                accuracy=fit.scores.accuracy,
                f1=fit.scores.f1,
                n_train=int(y_train.size if idx is None else idx.size),
                n_iter=fit.n_iter,
                converged=fit.converged,
                convergence_warnings=0 if shared_with is not None else fit.warnings,
                fit_shared_with=shared_with,
                note=fit.note,
            )
        )
    return RegimeResult(regime.name, tuple(results))
