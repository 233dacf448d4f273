"""How many threads the probe may use: BLAS threads x processes <= cores, and fewer when more is slower.

Measured on the 2-core development machine (kmer-3 and random-bert-tiny, 64 features, 14 real tasks, all
15 fits per task): with OpenBLAS at 2 threads the default path took 16-17 s, at 1 thread 2.9-3.0 s, with
identical numbers; the lbfgs fits are tall and skinny (n x 64), and splitting each small matrix-vector
product over threads costs more than it saves. Running a task's distinct fits on 2 threads (1 BLAS thread
each) took 3.1-3.2 s: no gain, since most fits are tiny and hold the GIL, so the probe runs them one after
another. Wide embeddings (>= ``WIDE`` features) do gain from BLAS threads and keep the process's share.
"""

from __future__ import annotations

import os

WIDE = 256  # features from which a fit's matrix products are worth splitting over BLAS threads


def available_cores() -> int:
    """Cores this process may use: its CPU affinity, divided among pytest-xdist workers."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or "1")
    return max(1, cores // max(1, workers))


def blas_threads(n_features: int) -> int:
    """BLAS threads for fits on ``n_features``-wide embeddings (see the module docstring for why)."""
    return available_cores() if n_features >= WIDE else 1
