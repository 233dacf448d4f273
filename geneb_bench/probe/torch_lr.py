"""Opt-in torch backend: sklearn's logistic regression objective, solved tightly, many fits in one batch.

Same parametrisation and objective as ``LogisticRegression(C=1)`` so the optima coincide: two classes use
one weight vector ``w`` (log-loss of ``y * (x.w + b)``, ``y`` in {-1, +1}); more classes use ``K`` vectors
with the softmax loss. Objective per fit: summed log-loss + 0.5 * ||W||^2, intercept unpenalised (divided
by the fit's row count, like sklearn, which moves no optimum). Solved in float64 with L-BFGS and a
strong-Wolfe line search to a gradient far below sklearn's ``tol=1e-4``, so the two agree up to sklearn's
own stopping error. Fits that share a class set are stacked into one block-separable problem (rows padded
and masked), which is what makes the many tiny k-shot fits cheap; the full-data fit runs alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

GRAD_TOL = 1e-7  # max |gradient| of each fit's mean objective when it counts as converged
MAX_ITER = 5000  # L-BFGS iterations per batch


@dataclass(frozen=True)
class TorchFit:
    predictions: npt.NDArray[np.int64]  # on the test rows, in the original label values
    n_iter: int  # L-BFGS iterations of the batch this fit was solved in
    converged: bool
    grad_max: float  # max |gradient| of this fit's mean objective at the returned solution


def fit_predict(
    x_train: npt.NDArray[np.floating],
    y_train: npt.NDArray[np.integer],
    rows: Sequence[npt.NDArray[np.int64]],
    x_test: npt.NDArray[np.floating],
    device: str = "cpu",
    grad_tol: float = GRAD_TOL,
    max_iter: int = MAX_ITER,
) -> list[TorchFit]:
    """Fit one probe per entry of ``rows`` (training-row indices, each with >= 2 classes) in one batch."""
    import torch

    if not rows:
        return []
    dev = torch.device(device)
    classes = np.unique(y_train[rows[0]])
    for r in rows:
        if not np.array_equal(np.unique(y_train[r]), classes):
            raise ValueError("a torch batch must share one class set; split it by class set first")
    if classes.size < 2:
        raise ValueError("logistic regression needs at least two classes")
    binary = classes.size == 2
    n_fit = len(rows)
    n_max = max(r.size for r in rows)
    d = x_train.shape[1]

    if n_fit == 1 and rows[0].size == x_train.shape[0] and np.array_equal(rows[0], np.arange(x_train.shape[0])):
        x = torch.as_tensor(x_train, device=dev).to(torch.float64).unsqueeze(0)  # no gather, no padding
    else:
        index = np.zeros((n_fit, n_max), dtype=np.int64)
        for i, r in enumerate(rows):
            index[i, : r.size] = r
        x = torch.as_tensor(x_train[index], device=dev).to(torch.float64)
    mask = torch.zeros((n_fit, n_max), dtype=torch.float64, device=dev)
    target = torch.zeros((n_fit, n_max), dtype=torch.int64, device=dev)
    for i, r in enumerate(rows):
        mask[i, : r.size] = 1.0
        target[i, : r.size] = torch.as_tensor(np.searchsorted(classes, y_train[r]), device=dev)
    n_rows = mask.sum(dim=1)

    k = 1 if binary else classes.size
    weight = torch.zeros((n_fit, k, d), dtype=torch.float64, device=dev, requires_grad=True)
    bias = torch.zeros((n_fit, k), dtype=torch.float64, device=dev, requires_grad=True)
    sign = 2.0 * target.to(torch.float64) - 1.0

    def per_fit_objective() -> torch.Tensor:
        z = torch.einsum("bnd,bkd->bnk", x, weight) + bias[:, None, :]
        if binary:
            loss = torch.nn.functional.softplus(-sign * z[..., 0])
        else:
            loss = torch.logsumexp(z, dim=2) - z.gather(2, target[..., None])[..., 0]
        return ((loss * mask).sum(dim=1) + 0.5 * (weight**2).sum(dim=(1, 2))) / n_rows

    optimizer = torch.optim.LBFGS(
        [weight, bias],
        lr=1.0,
        max_iter=max_iter,
        tolerance_grad=grad_tol / 10,
        tolerance_change=1e-15,
        history_size=20,
        line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        total = per_fit_objective().sum()  # block-separable: each fit's gradient is its own
        total.backward()
        return total

    optimizer.step(closure)
    n_iter = int(optimizer.state[optimizer._params[0]].get("n_iter", 0))
    optimizer.zero_grad()
    per_fit_objective().sum().backward()
    assert weight.grad is not None and bias.grad is not None
    grad_max = torch.maximum(weight.grad.abs().amax(dim=(1, 2)), bias.grad.abs().amax(dim=1))

    with torch.no_grad():
        xt = torch.as_tensor(x_test, device=dev).to(torch.float64)
        scores = torch.einsum("nd,bkd->bnk", xt, weight) + bias[:, None, :]
        label = (scores[..., 0] > 0).long() if binary else scores.argmax(dim=2)  # sklearn: first max on ties
    labels = classes[label.cpu().numpy()]
    grads = grad_max.detach().cpu().numpy()
    return [
        TorchFit(labels[i].astype(np.int64), n_iter, bool(grads[i] <= grad_tol), float(grads[i]))
        for i in range(n_fit)
    ]
