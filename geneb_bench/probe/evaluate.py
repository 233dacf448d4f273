"""One task's regimes: fit the probe per seed and score it on the whole test split.

The probe and its implementation come from the registry (``probe.registry``; the protocol's logistic
regression in ``probe.logistic``); everything around the fits is here, the same for every probe. Identical
fits are done once: with lbfgs ``random_state`` is unused, so the full-data fit is the same for every seed,
and two seeds whose k-shot draws coincide (same rows, same order) give the same model. The reuse is
recorded per seed (``fit_shared_with``), never hidden.

Degenerate cases and their documented outcomes:

* a training draw with one class: sklearn cannot fit it; the only classifier is the constant one, which
  predicts that class everywhere (MCC 0, ``note`` says so, ``n_iter`` 0); no implementation sees such a draw;
* a class with fewer than k training rows: all its rows are drawn (``min(k, n_c)``), ``n_train`` is the
  true number of rows fitted;
* constant predictions from a fitted model: MCC is 0 (sklearn's convention), accuracy and F1 as usual;
  ``note`` says which class it predicts everywhere (embeddings.health);
* many classes (GENEB has 40): one multinomial fit, nothing special;
* NaN or inf in the embeddings: ``ValueError`` naming the split and row; nothing is fitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from geneb_bench.embeddings.health import constant_prediction_note
from geneb_bench.probe.metrics import Scores, outcome_cells, score
from geneb_bench.probe.registry import FitJob, ProbeImplementation, get_probe
from geneb_bench.probe.sampling import kshot_indices
from geneb_bench.protocol import PROBE, Regime

Matrix = npt.NDArray[np.floating]
Labels = npt.NDArray[np.integer]
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
    backend: str = "sklearn"  # the probe's implementation
    probe: str = PROBE
    # Test outcomes, one row [true, prediction of each seed (seed order), count] per distinct tuple
    # (``metrics.outcome_cells``): what a bootstrap over test rows needs. Not part of any score.
    outcomes: tuple[tuple[int, ...], ...] = ()

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
    predictions: npt.NDArray[np.integer]


def check_finite(x_train: Matrix | Any, x_test: Matrix | Any) -> None:
    """Refuse NaN/inf: sklearn would raise deep inside a fit, torch would silently return garbage.

    Tensors (embeddings kept on the probe's device) are checked where they are; only one flag per row moves.
    """
    for split, x in (("train", x_train), ("test", x_test)):
        rows_finite = (
            np.isfinite(x).all(axis=1) if isinstance(x, np.ndarray) else x.isfinite().all(dim=1).cpu().numpy()
        )
        if not rows_finite.all():
            row = int(np.flatnonzero(~rows_finite)[0])
            raise ValueError(f"non-finite embedding values (NaN/inf) in the {split} split, row {row + 1}")


def _plan(
    y_train: Labels, regimes: Sequence[Regime], seeds: Sequence[int]
) -> tuple[list[FitJob], dict[str, list[tuple[int, int, int, int | None]]]]:
    """Distinct fits, and per regime (seed, job index, n_train, shared_with) in seed order.

    Sharing is within a regime, so each result record names a seed of its own regime.
    """
    jobs: list[FitJob] = []
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
                jobs.append(FitJob(rows, seed))
            n_train = int(y_train.size if rows is None else rows.size)
            layout[regime.name].append((seed, seen[key], n_train, shared_with))
    return jobs, layout


def _constant(y_fit: Labels, y_test: Labels) -> _Fit:
    pred = np.full(y_test.shape, np.unique(y_fit)[0])
    return _Fit(score(y_test, pred), 0, True, 0, ONE_CLASS_NOTE, pred)


def _fit_all(
    probe: ProbeImplementation,
    jobs: Sequence[FitJob],
    x_train: Any,
    y_train: Labels,
    x_test: Any,
    y_test: Labels,
    device: str,
) -> list[_Fit]:
    """Every distinct fit, scored: one-class draws as the constant prediction, the rest by ``probe``."""
    fits: dict[int, _Fit] = {}
    todo: list[int] = []
    for i, job in enumerate(jobs):
        y_fit = y_train if job.rows is None else y_train[job.rows]
        if np.unique(y_fit).size < 2:
            fits[i] = _constant(y_fit, y_test)
        else:
            todo.append(i)
    if todo:
        got = probe.fit_predict([jobs[i] for i in todo], x_train, y_train, x_test, device)
        if len(got) != len(todo):
            raise ValueError(
                f"probe {probe.probe!r} ({probe.implementation}) returned {len(got)} fits for "
                f"{len(todo)} training draws"
            )
        for i, fit in zip(todo, got, strict=True):
            predictions = np.asarray(fit.predictions)
            y_fit = jobs[i].select(y_train, y_train)[1]
            # a probe's own note (e.g. not converged) first; else why every test row got one class, if so
            note = fit.note or constant_prediction_note(predictions, y_fit)
            fits[i] = _Fit(
                score(y_test, predictions), fit.n_iter, fit.converged, fit.warnings, note, predictions
            )
    return [fits[i] for i in range(len(jobs))]


def evaluate_task(
    x_train: Matrix,
    y_train: Labels,
    x_test: Matrix,
    y_test: Labels,
    regimes: Sequence[Regime],
    seeds: Sequence[int],
    *,
    backend: str | None = "sklearn",
    device: str = "cpu",
    probe: str = PROBE,
) -> dict[str, RegimeResult]:
    """Run ``probe`` (raw embeddings: no scaling, no PCA) for ``regimes`` x ``seeds`` of one task.

    ``backend``: the probe's implementation (None: its default); an unknown probe or implementation is a
    ValueError. ``device``: where an on-device implementation (torch) solves; the others ignore it.
    """
    implementation = get_probe(probe, backend)
    check_finite(x_train, x_test)
    jobs, layout = _plan(np.asarray(y_train), regimes, seeds)
    fits = _fit_all(implementation, jobs, x_train, np.asarray(y_train), x_test, y_test, device)
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
        cells = outcome_cells(np.asarray(y_test), [fits[j].predictions for _, j, _, _ in layout[regime.name]])
        out[regime.name] = RegimeResult(
            regime.name,
            tuple(results),
            implementation.implementation,
            implementation.probe,
            tuple(tuple(int(v) for v in row) for row in cells),
        )
    return out


def evaluate_regime(
    x_train: Matrix,
    y_train: Labels,
    x_test: Matrix,
    y_test: Labels,
    regime: Regime,
    seeds: Sequence[int],
    *,
    backend: str | None = "sklearn",
    device: str = "cpu",
    probe: str = PROBE,
) -> RegimeResult:
    """One regime of ``evaluate_task`` (what one pytest item runs)."""
    return evaluate_task(
        x_train, y_train, x_test, y_test, (regime,), seeds, backend=backend, device=device, probe=probe
    )[regime.name]
