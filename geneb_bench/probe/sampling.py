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


def short_draw_note(shots: int, n_classes: int, drawn: int) -> str | None:
    """A note when a k-shot draw holds fewer rows than k per class: some class has fewer than k training
    rows and all of them were drawn (``min(k, n_c)``, the protocol). The regime's name then overstates what
    the probe saw; ``drawn`` is the seed's ``n_train``, the same for every seed."""
    wanted = shots * n_classes
    if drawn >= wanted:
        return None
    return (
        f"{drawn} training rows drawn where {shots} per class x {n_classes} classes would be {wanted}: "
        f"at least one class has fewer than {shots} training rows, and all its rows were used (min(k, n_c), "
        "the protocol's draw)"
    )
