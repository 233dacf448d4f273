"""Vectorised primitives of the lite suite's generators: backgrounds, Markov chains, CpG depletion, motif
sampling and implanting, codon frames. Sequences are ``(n, L)`` arrays of base codes 0..3 = A, C, G, T."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from geneb_bench.data.task import Labels

Codes = npt.NDArray[np.uint8]  # (n, L) base codes, 0..3 = A, C, G, T
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Rng = np.random.Generator

A, C, G, T = 0, 1, 2, 3
ASCII = np.frombuffer(b"ACGT", dtype=np.uint8)
IUPAC: dict[str, str] = {
    "A": "A", "C": "C", "G": "G", "T": "T", "R": "AG", "Y": "CT", "S": "CG", "W": "AT",
    "K": "GT", "M": "AC", "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT",
}  # fmt: skip


def background(rng: Rng, n: int, length: int, gc: Floats | float) -> Codes:
    """i.i.d. bases with a per-row GC fraction (A = T, C = G): one uniform draw per base, no loops."""
    gc_col = np.clip(np.broadcast_to(np.asarray(gc, dtype=np.float64), (n,)), 0.05, 0.95)[:, None]
    u = rng.random((n, length))
    codes = (u >= (1.0 - gc_col) / 2).astype(np.uint8)  # bool + bool is OR in numpy: count in uint8
    codes += u >= 0.5
    codes += u >= 0.5 + gc_col / 2
    return codes


def markov(rng: Rng, n: int, length: int, trans: Floats) -> Codes:
    """Order-k Markov chain, ``trans[state, base]`` with state = the previous k bases in base 4.

    Loops over positions only (each step is one vectorised draw for all rows).
    """
    n_states = trans.shape[0]
    order = round(np.log(n_states) / np.log(4))
    cum = np.cumsum(trans, axis=1)[:, :-1]
    u = rng.random((n, length))
    x = np.empty((n, length), dtype=np.uint8)
    x[:, :order] = rng.integers(0, 4, size=(n, order))
    state = np.zeros(n, dtype=np.int64)
    for j in range(order):
        state = state * 4 + x[:, j]
    for i in range(order, length):
        base = (u[:, i, None] >= cum[state]).sum(axis=1)
        x[:, i] = base
        state = (state * 4 + base) % n_states
    return x


def deplete_cpg(rng: Rng, x: Codes, keep: Floats | float) -> None:
    """Mutate each CpG with probability ``1 - keep`` (per row) to TpG or CpA, as methyl-C deamination does.

    Neither edit can create a new CpG, so ``keep`` is roughly the CpG observed/expected ratio left.
    """
    n = x.shape[0]
    keep_col = np.broadcast_to(np.asarray(keep, dtype=np.float64), (n,))[:, None]
    cpg = (x[:, :-1] == C) & (x[:, 1:] == G)
    rows, cols = np.nonzero(cpg & (rng.random(cpg.shape) >= keep_col))
    on_c = rng.random(rows.size) < 0.5
    x[rows[on_c], cols[on_c]] = T
    x[rows[~on_c], cols[~on_c] + 1] = A


def substitute_gc(rng: Rng, x: Codes, rate: Floats) -> None:
    """Per row, AT->GC substitutions at ``rate`` where it is positive, GC->AT at ``-rate`` where negative."""
    u = rng.random(x.shape)
    strong = (x == C) | (x == G)
    to_gc, to_at = ~strong & (u < rate[:, None]), strong & (u < -rate[:, None])
    x[to_gc] = np.array([C, G], dtype=np.uint8)[rng.integers(0, 2, int(to_gc.sum()))]
    x[to_at] = np.array([A, T], dtype=np.uint8)[rng.integers(0, 2, int(to_at.sum()))]


def composition_drift(rng: Rng, x: Codes, sd: float) -> None:
    """Class-independent per-row GC drift (isochores): makes GC content the dominant nuisance axis."""
    substitute_gc(rng, x, np.asarray(rng.normal(0.0, sd, x.shape[0]), dtype=np.float64))


def match_gc(rng: Rng, x: Codes, lengths: Ints, y: Labels) -> None:
    """Move each class's mean GC to the overall mean, as GC-matched negative sets do.

    Without it, planted motifs or CpG depletion shift GC by a percent or two, and GC alone (the largest
    variance axis of k-mer space) would carry the label.
    """
    inside = np.arange(x.shape[1])[None, :] < lengths[:, None]
    gc = (((x == C) | (x == G)) & inside).sum(axis=1) / lengths
    target = gc.mean()
    rate = np.zeros(x.shape[0])
    for cls in np.unique(y):
        m = gc[y == cls].mean()
        rate[y == cls] = (target - m) / (1 - m) if target > m else (target - m) / m
    substitute_gc(rng, x, rate)


REPEAT_UNITS = ("CA", "AAC", "AAAG", "AGC", "AATG")  # none A/T-only: that axis is GC's


def nuisance(
    rng: Rng, x: Codes, lengths: Ints, drift: float = 0.06, repeats: float = 0.4, poly_a: float = 0.25
) -> None:
    """Class-independent variation every genome has: per-row GC drift, microsatellites and poly(A) tails.

    Classifiers must look past it; it also keeps the largest-variance directions of k-mer space off the
    class axis, so a probe fitted to shuffled labels scores MCC ~ 0 rather than tracking the class.
    ``repeats`` is the mean number of microsatellites per row, ``poly_a`` the chance of a retrotransposon
    poly(A) tail (on either strand).
    """
    n = x.shape[0]
    owners = np.repeat(np.arange(n, dtype=np.int64), rng.poisson(repeats, n))
    longest = max(8, min(30, int(lengths.min()) // 3))
    sizes = (longest // 2, (3 * longest) // 4, longest)
    group = rng.integers(0, len(REPEAT_UNITS) * len(sizes), owners.size)
    for j, unit in enumerate(REPEAT_UNITS):
        for k, size in enumerate(sizes):
            sel = owners[group == j * len(sizes) + k]
            implant(rng, x, sel, sample_motif(rng, (unit * size)[:size], sel.size, 0.05), lengths)
    tails = rows_where(rng.random(n) < poly_a)
    for size in sizes:
        sel = tails[rng.random(tails.size) < 1 / len(sizes)]
        implant(rng, x, sel, sample_motif(rng, "A" * size, sel.size, 0.05), lengths)
    composition_drift(rng, x, drift)


def sample_motif(rng: Rng, motif: str, k: int, mutation: float) -> Codes:
    """``k`` instances of an IUPAC motif, each base then replaced by a random one with prob. ``mutation``."""
    probs = np.array([[float(b in IUPAC[ch]) for b in "ACGT"] for ch in motif])
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)[:, :-1]
    u = rng.random((k, len(motif)))
    inst: Codes = (u[:, :, None] >= cum[None]).sum(axis=2).astype(np.uint8)
    mutate = rng.random(inst.shape) < mutation
    inst[mutate] = rng.integers(0, 4, size=int(mutate.sum()))
    return inst


def revcomp(inst: Codes) -> Codes:
    out: Codes = (3 - inst[:, ::-1]).astype(np.uint8)
    return out


def implant(
    rng: Rng,
    x: Codes,
    rows: Ints,
    inst: Codes,
    lengths: Ints,
    pos: Ints | None = None,
    both_strands: bool = True,
) -> None:
    """Write motif instances into rows ``rows`` at ``pos`` (default: uniform inside each row's length)."""
    k, m = inst.shape
    if k == 0:
        return
    if both_strands:
        flip = rng.random(k) < 0.5
        inst = inst.copy()
        inst[flip] = revcomp(inst[flip])
    if pos is None:
        pos = (rng.random(k) * (lengths[rows] - m + 1)).astype(np.int64)
    x[rows[:, None], pos[:, None] + np.arange(m)] = inst


def scatter_motifs(
    rng: Rng, x: Codes, rows: Ints, counts: Ints, motifs: tuple[str, ...], lengths: Ints, mutation: float
) -> None:
    """Plant ``counts[i]`` motifs (each drawn uniformly from ``motifs``) into row ``rows[i]``."""
    owners = np.repeat(rows, counts)
    which = rng.integers(0, len(motifs), size=owners.size)
    for j, motif in enumerate(motifs):
        sel = owners[which == j]
        implant(rng, x, sel, sample_motif(rng, motif, sel.size, mutation), lengths)


def random_lengths(rng: Rng, n: int, lo: int, hi: int) -> Ints:
    return rng.integers(lo, hi + 1, size=n).astype(np.int64)


def codons(rng: Rng, n: int, n_codons: int, table: Floats) -> Codes:
    """``n`` reading frames of ``n_codons`` codons drawn from ``table`` (64 probabilities)."""
    cum = np.cumsum(table)[:-1]
    idx = np.searchsorted(cum, rng.random((n, n_codons)), side="right")
    bases = np.stack([idx // 16, (idx // 4) % 4, idx % 4], axis=2)
    return bases.reshape(n, 3 * n_codons).astype(np.uint8)


def rows_where(mask: npt.ArrayLike) -> Ints:
    return np.flatnonzero(mask).astype(np.int64)


def subset(rng: Rng, rows: Ints, frac: float) -> Ints:
    """A random fraction of ``rows`` (Bernoulli per row)."""
    return rows[rng.random(rows.size) < frac]
