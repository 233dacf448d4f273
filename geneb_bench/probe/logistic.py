"""The protocol's probe, logistic regression, in its two registered implementations.

* ``sklearn`` (default): the authors' probe, exactly: ``LogisticRegression(max_iter=1000,
  random_state=seed)`` on the raw embeddings. The distinct fits run one after another under a BLAS thread
  cap chosen in ``threads`` (measured: threads over fits do not pay on these fits).
* ``torch`` (opt-in): sklearn's L-BFGS-B and stopping rule with the objective evaluated by torch on the
  models' device, the fits of one size class batched (``torch_lr``).

torch is imported when a torch fit runs.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from geneb_bench.probe.registry import Fit, FitJob, register_probe
from geneb_bench.probe.threads import available_cores, blas_threads
from geneb_bench.protocol import PROBE, PROBE_MAX_ITER


def _sklearn_fit(x_fit: Any, y_fit: Any, x_test: Any, seed: int) -> Fit:
    """The authors' probe, exactly; its ConvergenceWarnings are counted, never printed."""
    clf = LogisticRegression(max_iter=PROBE_MAX_ITER, random_state=seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        clf.fit(x_fit, y_fit)
    n_warn = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    n_iter = int(np.max(clf.n_iter_))
    return Fit(clf.predict(x_test), n_iter, n_iter < PROBE_MAX_ITER, n_warn)


@register_probe(PROBE, "sklearn", default=True)
def sklearn_logistic(
    jobs: Sequence[FitJob], x_train: Any, y_train: npt.NDArray[np.integer], x_test: Any, device: str
) -> list[Fit]:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=blas_threads(x_train.shape[1]), user_api="blas"):
        return [_sklearn_fit(*job.select(x_train, y_train), x_test, job.seed) for job in jobs]


@register_probe(PROBE, "torch", on_device=True)
def torch_logistic(
    jobs: Sequence[FitJob], x_train: Any, y_train: npt.NDArray[np.integer], x_test: Any, device: str
) -> list[Fit]:
    """Batch the fits by size class: the full fit alone, all k-shot fits of the task together."""
    import torch
    from threadpoolctl import threadpool_limits

    from geneb_bench.probe import torch_lr

    all_rows = np.arange(y_train.size, dtype=np.int64)
    rows = [all_rows if j.rows is None else j.rows for j in jobs]
    batches: dict[tuple[bool, bytes], list[int]] = {}
    for i, r in enumerate(rows):
        batches.setdefault((jobs[i].rows is None, np.unique(y_train[r]).tobytes()), []).append(i)
    fits: dict[int, Fit] = {}
    threads = torch.get_num_threads()
    torch.set_num_threads(available_cores())
    try:
        # torch's threads do the work; scipy's L-BFGS-B only touches vectors of d+1 numbers, and its BLAS
        # threads, spinning after each call, slowed every torch matmul tenfold on 2 cores (measured)
        with threadpool_limits(limits=1, user_api="blas"):
            for members in batches.values():
                for i, fit in zip(
                    members,
                    torch_lr.fit_predict(x_train, y_train, [rows[i] for i in members], x_test, device),
                    strict=True,
                ):
                    note = None if fit.converged else f"torch lbfgs did not converge: {fit.message}"
                    fits[i] = Fit(fit.predictions, fit.n_iter, fit.converged, int(not fit.converged), note)
    finally:
        torch.set_num_threads(threads)
    return [fits[i] for i in range(len(jobs))]
