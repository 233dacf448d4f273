"""k-mer spectrum baseline: normalised k-mer frequencies, the weight-free floor every model must beat."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from geneb_bench.models.base import Embeddings

# A=0 C=1 G=2 T=3; anything else (N) = 4 and breaks every k-mer that covers it.
_CODE = np.full(256, 4, dtype=np.int64)
for _i, _b in enumerate(b"ACGT"):
    _CODE[_b] = _i


class KmerEmbedder:
    def __init__(self, k: int) -> None:
        if not 1 <= k <= 8:
            raise ValueError(f"k-mer size must be in 1..8, got {k}")
        self.k = k
        self.dim = 4**k

    def _one(self, seq: str) -> Embeddings:
        codes = _CODE[np.frombuffer(seq.encode("ascii"), dtype=np.uint8)]
        n = codes.size - self.k + 1
        out = np.zeros(self.dim, dtype=np.float32)
        if n <= 0:
            return out
        windows = np.lib.stride_tricks.sliding_window_view(codes, self.k)
        valid = (windows < 4).all(axis=1)
        index = windows[valid] @ (4 ** np.arange(self.k - 1, -1, -1, dtype=np.int64))
        counts = np.bincount(index, minlength=self.dim)
        total = counts.sum()
        if total:
            out[:] = counts / total
        return out

    def embed(self, sequences: Sequence[str]) -> Embeddings:
        out = np.empty((len(sequences), self.dim), dtype=np.float32)
        for row, seq in enumerate(sequences):
            out[row] = self._one(seq)
        return out

    def close(self) -> None:
        """Nothing to release."""
