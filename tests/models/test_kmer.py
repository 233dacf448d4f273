"""KmerEmbedder against a straightforward independent computation."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geneb_bench.models.kmer import KmerEmbedder


def reference_spectrum(seq: str, k: int) -> np.ndarray:
    """Counter over every k-mer without N, normalised, in lexicographic ACGT order."""
    counts = Counter(seq[i : i + k] for i in range(len(seq) - k + 1) if "N" not in seq[i : i + k])
    vocab = ["".join(p) for p in itertools.product("ACGT", repeat=k)]
    vec = np.array([counts[w] for w in vocab], dtype=np.float64)
    total = vec.sum()
    return vec / total if total else vec


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet="ACGTN", max_size=40), min_size=1, max_size=6), st.integers(1, 4))
def test_matches_reference(sequences: list[str], k: int) -> None:
    out = KmerEmbedder(k).embed(sequences)
    assert out.shape == (len(sequences), 4**k)
    assert out.dtype == np.float32
    for row, seq in zip(out, sequences, strict=True):
        np.testing.assert_allclose(row, reference_spectrum(seq, k), atol=1e-6)
        if any("N" not in seq[i : i + k] for i in range(len(seq) - k + 1)):
            assert row.sum() == pytest.approx(1.0, abs=1e-5)
        else:
            assert not row.any()


@pytest.mark.parametrize("k", [1, 2, 3, 4, 6])
def test_shorter_than_k_gives_zeros(k: int) -> None:
    seqs = ["", "ACGTACGTAC"[: k - 1], "N" * (k - 1)]
    out = KmerEmbedder(k).embed(seqs)
    assert out.shape == (3, 4**k)
    assert not out.any()


def test_only_n_kmers_give_zeros() -> None:
    out = KmerEmbedder(3).embed(["NNNNN", "ACNGTNAC"])
    assert not out.any()


def test_known_values() -> None:
    # 2-mers of "ACGTA": AC, CG, GT, TA; index = 4*first + second with A=0 C=1 G=2 T=3
    out = KmerEmbedder(2).embed(["ACGTA"])[0]
    expected = np.zeros(16, dtype=np.float32)
    for i in (1, 6, 11, 12):
        expected[i] = 0.25
    np.testing.assert_array_equal(out, expected)
    # k=1 on "AAN" -> only A counted
    np.testing.assert_array_equal(KmerEmbedder(1).embed(["AAN"])[0], [1, 0, 0, 0])


def test_empty_batch_and_bad_k() -> None:
    assert KmerEmbedder(3).embed([]).shape == (0, 64)
    for k in (0, 9, -1):
        with pytest.raises(ValueError, match="k-mer size"):
            KmerEmbedder(k)
