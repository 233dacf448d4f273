"""k-shot sampling exactly as the GENEB authors do it."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Indices = npt.NDArray[np.int64]


def kshot_indices(labels: npt.NDArray[np.integer], shots: int, seed: int) -> Indices:
    """Training row indices for a k-shot draw.

    ``rng = RandomState(seed)``; for each class in ``np.unique(labels)`` (sorted) draw ``min(k, n_c)``
    indices of that class without replacement with ``rng.choice``; concatenate in class order. The same
    ``rng`` is shared by the classes, so class order matters; that is the published protocol.
    """
    if shots < 1:
        raise ValueError(f"shots must be >= 1, got {shots}")
    rng = np.random.RandomState(seed)
    chosen = []
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        chosen.append(rng.choice(members, size=min(shots, members.size), replace=False))
    return np.concatenate(chosen).astype(np.int64)
