"""One task's regimes: fit the GENEB probe per seed and score it on the whole test split.

Identical fits are done once: with lbfgs ``random_state`` is unused, so the full-data fit is the same for
every seed, and two seeds whose k-shot draws coincide (same rows, same order) give the same model. The
reuse is recorded per seed (``fit_shared_with``), never hidden. The distinct fits run one after another
under a BLAS thread cap chosen in ``threads`` (measured: threads over fits do not pay on these fits).

Degenerate cases and their documented outcomes:

* a training draw with one class: sklearn cannot fit it; the only classifier is the constant one, which
  predicts that class everywhere (MCC 0, ``note`` says so, ``n_iter`` 0);
* a class with fewer than k training rows: all its rows are drawn (``min(k, n_c)``), ``n_train`` is the
  true number of rows fitted;
* constant predictions from a fitted model: MCC is 0 (sklearn's convention), accuracy and F1 as usual;
  ``note`` says which class it predicts everywhere (embeddings.health);
* many classes (GENEB has 40): one multinomial fit, nothing special;
* NaN or inf in the embeddings: ``ValueError`` naming the split and row; nothing is fitted.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

import numpy as np
import numpy.typing as npt
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from geneb_bench.embeddings.health import constant_prediction_note
from geneb_bench.probe.metrics import Scores, score
from geneb_bench.probe.sampling import kshot_indices
from geneb_bench.probe.threads import available_cores, blas_threads
from geneb_bench.protocol import PROBE_MAX_ITER, Regime

Matrix = npt.NDArray[np.floating]
Labels = npt.NDArray[np.integer]
Backend = Literal["sklearn", "torch"]
BACKENDS: tuple[str, ...] = get_args(Backend)
ONE_CLASS_NOTE = "one class in the training rows: constant prediction"


@dataclass(frozen=True)
class SeedResult:
    seed: int
    mcc: float
    accuracy: float
    f1: float
    n_train: int
    n_iter: int  # solver iterations; for sklearn == max_iter means it stopped before converging
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
    backend: str = "sklearn"

    def values(self, metric: str) -> npt.NDArray[np.float64]:
        return np.array([getattr(s, metric) for s in self.seeds], dtype=np.float64)

    def mean(self, metric: str) -> float:
        return float(self.values(metric).mean())

    def std(self, metric: str) -> float:
        """Population standard deviation (ddof=0) over the seeds."""
        return float(self.values(metric).std())


@dataclass(frozen=True)
class _Job:
    """One distinct fit: training rows (None = all, in order) and the seed that first asked for it."""

    rows: npt.NDArray[np.int64] | None
    seed: int


@dataclass(frozen=True)
class _Fit:
    scores: Scores
    n_iter: int
    converged: bool
    warnings: int
    note: str | None


def check_finite(x_train: Matrix | Any, x_test: Matrix | Any) -> None:
    """Refuse NaN/inf: sklearn would raise deep inside a fit, torch would silently return garbage.

    Tensors (embeddings kept on the probe's device) are checked where they are; only one flag per row moves.
    """
    for split, x in (("train", x_train), ("test", x_test)):
        rows_finite = np.isfinite(x).all(axis=1) if isinstance(x, np.ndarray) else x.isfinite().all(dim=1).cpu().numpy()
        if not rows_finite.all():
            row = int(np.flatnonzero(~rows_finite)[0])
            raise ValueError(f"non-finite embedding values (NaN/inf) in the {split} split, row {row + 1}")


def _plan(
    y_train: Labels, regimes: Sequence[Regime], seeds: Sequence[int]
) -> tuple[list[_Job], dict[str, list[tuple[int, int, int, int | None]]]]:
    """Distinct fits, and per regime (seed, job index, n_train, shared_with) in seed order.

    Sharing is within a regime, so each result record names a seed of its own regime.
    """
    jobs: list[_Job] = []
    layout: dict[str, list[tuple[int, int, int, int | None]]] = {}
    for regime in regimes:
        seen: dict[bytes, int] = {}
        layout[regime.name] = []
        for seed in seeds:
            rows = None if regime.shots is None else kshot_indices(y_train, regime.shots, seed)
            key = b"full" if rows is None else rows.tobytes()
            shared_with = jobs[seen[key]].seed if key in seen else None
            if key not in seen:
                seen[key] = len(jobs)
                jobs.append(_Job(rows, seed))
            n_train = int(y_train.size if rows is None else rows.size)
            layout[regime.name].append((seed, seen[key], n_train, shared_with))
    return jobs, layout


def _constant(y_fit: Labels, y_test: Labels) -> _Fit:
    pred = np.full(y_test.shape, np.unique(y_fit)[0])
    return _Fit(score(y_test, pred), 0, True, 0, ONE_CLASS_NOTE)


def _sklearn_fit(x_fit: Matrix, y_fit: Labels, x_test: Matrix, y_test: Labels, seed: int) -> _Fit:
    """The authors' probe, exactly; its ConvergenceWarnings are counted, never printed."""
    if np.unique(y_fit).size < 2:
        return _constant(y_fit, y_test)
    clf = LogisticRegression(max_iter=PROBE_MAX_ITER, random_state=seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        clf.fit(x_fit, y_fit)
    n_warn = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    n_iter = int(np.max(clf.n_iter_))
    pred = clf.predict(x_test)
    return _Fit(score(y_test, pred), n_iter, n_iter < PROBE_MAX_ITER, n_warn, constant_prediction_note(pred, y_fit))


def _run_sklearn(jobs: Sequence[_Job], x_train: Matrix, y_train: Labels, x_test: Matrix, y_test: Labels) -> list[_Fit]:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=blas_threads(x_train.shape[1]), user_api="blas"):
        return [
            _sklearn_fit(x_train, y_train, x_test, y_test, job.seed)
            if job.rows is None
            else _sklearn_fit(x_train[job.rows], y_train[job.rows], x_test, y_test, job.seed)
            for job in jobs
        ]


def _run_torch(
    jobs: Sequence[_Job], x_train: Matrix, y_train: Labels, x_test: Matrix, y_test: Labels, device: str
) -> list[_Fit]:
    """Batch the fits by size class: the full fit alone, all k-shot fits of the task together."""
    import torch

    from geneb_bench.probe import torch_lr

    all_rows = np.arange(y_train.size, dtype=np.int64)
    rows = [all_rows if j.rows is None else j.rows for j in jobs]
    fits: dict[int, _Fit] = {}
    batches: dict[tuple[bool, bytes], list[int]] = {}
    for i, r in enumerate(rows):
        classes = np.unique(y_train[r])
        if classes.size < 2:
            fits[i] = _constant(y_train[r], y_test)
        else:
            batches.setdefault((jobs[i].rows is None, classes.tobytes()), []).append(i)
    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads()
    torch.set_num_threads(available_cores())
    try:
        # torch's threads do the work; scipy's L-BFGS-B only touches vectors of d+1 numbers, and its BLAS
        # threads, spinning after each call, slowed every torch matmul tenfold on 2 cores (measured)
        with threadpool_limits(limits=1, user_api="blas"):
            for members in batches.values():
                for i, fit in zip(
                    members, torch_lr.fit_predict(x_train, y_train, [rows[i] for i in members], x_test, device),
                    strict=True,
                ):
                    note = None if fit.converged else f"torch lbfgs did not converge: {fit.message}"
                    note = note or constant_prediction_note(np.asarray(fit.predictions), y_train[rows[i]])
                    fits[i] = _Fit(
                        score(y_test, fit.predictions), fit.n_iter, fit.converged, int(not fit.converged), note
                    )
    finally:
        torch.set_num_threads(threads)
    return [fits[i] for i in range(len(jobs))]


def evaluate_task(
    x_train: Matrix,
    y_train: Labels,
    x_test: Matrix,
    y_test: Labels,
    regimes: Sequence[Regime],
    seeds: Sequence[int],
    *,
    backend: Backend = "sklearn",
    device: str = "cpu",
) -> dict[str, RegimeResult]:
    """Run the GENEB probe (raw embeddings: no scaling, no PCA) for ``regimes`` x ``seeds`` of one task.

    ``device``: where the torch backend solves (``cpu`` or ``cuda``); sklearn ignores it.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown probe backend {backend!r}; known: {', '.join(BACKENDS)}")
    check_finite(x_train, x_test)
    jobs, layout = _plan(np.asarray(y_train), regimes, seeds)
    if backend == "sklearn":
        fits = _run_sklearn(jobs, x_train, y_train, x_test, y_test)
    else:
        fits = _run_torch(jobs, x_train, y_train, x_test, y_test, device)
    out = {}
    for regime in regimes:
        results = []
        for seed, j, n_train, shared_with in layout[regime.name]:
            fit = fits[j]
            results.append(
                SeedResult(
                    seed=seed,
                    mcc=fit.scores.mcc,
                    accuracy=fit.scores.accuracy,
                    f1=fit.scores.f1,
                    n_train=n_train,
                    n_iter=fit.n_iter,
                    converged=fit.converged,
                    convergence_warnings=0 if shared_with is not None else fit.warnings,
                    fit_shared_with=shared_with,
                    note=fit.note,
                )
            )
        out[regime.name] = RegimeResult(regime.name, tuple(results), backend)
    return out


def evaluate_regime(
    x_train: Matrix,
    y_train: Labels,
    x_test: Matrix,
    y_test: Labels,
    regime: Regime,
    seeds: Sequence[int],
    *,
    backend: Backend = "sklearn",
    device: str = "cpu",
) -> RegimeResult:
    """One regime of ``evaluate_task`` (what one pytest item runs)."""
    return evaluate_task(
        x_train, y_train, x_test, y_test, (regime,), seeds, backend=backend, device=device
    )[regime.name]
