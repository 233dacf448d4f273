"""Seeded row selection: the stratified split for tasks without a test set, and the 100,000-row cap.

Both are deterministic functions of (labels, seed) and return sorted indices, so the original row order is
kept and the same file always gives the same task fingerprint; the caller records seed and sizes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from geneb_bench.data.sequences import SequenceError

MAX_ROWS = 100_000  # GENEB subsampled larger tasks to this size before publication
SUBSAMPLE_SEED = 0
SPLIT_SEED = 0
TEST_FRACTION = 0.2

Indices = npt.NDArray[np.int64]


def stratified_split(
    labels: list[int], test_fraction: float, seed: int, where: str
) -> tuple[Indices, Indices]:
    """(train, test) row indices, each class split in the same proportion; every class lands in both."""
    if not 0.0 < test_fraction < 1.0:
        raise SequenceError(f"{where}: test_fraction must be between 0 and 1, got {test_fraction}")
    y = np.asarray(labels, dtype=np.int64)
    rng = np.random.RandomState(seed)
    train, test = [], []
    for cls in np.unique(y):
        rows = np.flatnonzero(y == cls)
        if len(rows) < 2:
            raise SequenceError(
                f"{where}: class {cls} has {len(rows)} row; a stratified split needs at least 2"
            )
        n_test = min(max(1, int(len(rows) * test_fraction + 0.5)), len(rows) - 1)  # half rounds up
        shuffled = rng.permutation(rows)
        test.append(shuffled[:n_test])
        train.append(shuffled[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def subsample(n_rows: int, max_rows: int, seed: int) -> Indices | None:
    """Sorted indices of ``max_rows`` rows drawn without replacement, or None when nothing is dropped."""
    if n_rows <= max_rows:
        return None
    return np.sort(np.random.RandomState(seed).choice(n_rows, max_rows, replace=False)).astype(np.int64)
