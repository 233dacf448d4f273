"""The built-in ``lite`` suite: small, deterministic, synthetic DNA tasks, at least one per GENEB category.

Why synthetic: the harness must run end to end offline in about two minutes on two CPU cores, and its
numbers must still mean something. Each task plants a documented biological signal in a noisy
background -- mutated motifs, motifs in only a fraction of positives, decoys in negatives, per-sequence
GC drift, class-independent microsatellites and poly(A) tails, 2-3% label noise -- so that the 4-mer
frequency baseline with the GENEB probe scores MCC ~0.3-0.55 (clearly above chance, far from 1), while
the same probe fitted to shuffled labels scores ~0.

Why the nuisance and the GC matching: the probe fits raw embeddings with C = 1, which on k-mer
frequencies is close to a difference-of-means classifier; a probe fitted to *shuffled* labels then
projects onto the largest-variance directions of the data. If a class differed mainly in GC, that axis
would carry the label even for shuffled labels. So most tasks move each class to the same mean GC after
planting the signal (as GC-matched negative sets do) and add class-independent variation that dominates
the variance. Class counts are exact (label noise permutes labels) so the probe's intercept cannot
collapse onto a majority class.

Every task is generated from ``numpy.random.default_rng(zlib.crc32(task_id))``: the same bytes in every
process and on every platform; the global RNG is never touched. Change any generator and bump
:data:`LITE_VERSION` (it is the ``TaskData.revision`` that cache and result keys include).

| task id                    | category       | classes                            | bp      | signal                                                                             | after                                      |
|----------------------------|----------------|------------------------------------|---------|------------------------------------------------------------------------------------|--------------------------------------------|
| lite_histone_h3_occupancy  | Histone Mod.   | nucleosome_depleted / _occupied    | 150-250 | ~10-bp periodic AA/TT/TA (+GC between) in occupied; poly(dA:dT) tracts in depleted | Segal 2006 Nature; Segal & Widom 2009 COSB |
| lite_promoter_tata         | Promoters      | non_promoter / promoter            | 150     | TATAWAWR at -31, Inr at +1, BRE, DPE, CCAAT/GC-box/CRE upstream, GC-richer upstream | Smale & Kadonaga 2003 Annu Rev Biochem     |
| lite_promoter_cpg          | Promoters      | non_promoter / promoter            | 200-300 | CpG o/e 0.55-0.9 with GC box, NRF1, ETS, CCAAT vs CpG o/e 0.15-0.4, same GC          | Deaton & Bird 2011 Genes Dev               |
| lite_enhancer_tf_cluster   | Enhancers      | background / enhancer              | 150-250 | homotypic clusters (~5) of two of AP-1/E-box/GATA/ETS/C-EBP/RUNX vs ~0.7 chance sites | Spitz & Furlong 2012 Nat Rev Genet         |
| lite_6ma_context           | DNA Methyl.    | unmethylated / methylated          | 41      | central A in GATC (55%) or GAGG (35%) context, AG-rich flanks; decoys in negatives  | Chen 2019 Bioinformatics (i6mA-Pred)       |
| lite_splice_sites          | Splice Sites   | neither / donor / acceptor         | 140     | MAG|GTRAGT + exon/intron GC; branch point, pyrimidine tract, YAG|G; decoy GT/AG     | Shapiro & Senapathy 1987 NAR               |
| lite_lncrna_orf            | lncRNA         | mRNA / lncRNA                      | 200-300 | 60-100% stop-free ORF, human codon usage vs shuffled bases with short ORFs (30%)    | Kong 2007 NAR (CPC)                        |
| lite_mouse_enhancer_soxoct | Mouse Enh.     | background / enhancer              | 150-250 | 2-5 SOX2 CATTGTT / OCT4 ATGCAAAT / composite sites in 90%, CpG-poor background     | Chen 2008 Cell                             |
| lite_tf_ctcf               | TF Binding     | background / ctcf_bound            | 80-120  | CTCF core CCGCGNGGNGGCAG (mutated) vs the same bases scrambled                     | Kim 2007 Cell                              |
| lite_species_composition   | Species Clf.   | vertebrate_like / yeast_like / bacteria_like | 100-200 | CpG depletion / A-T homopolymer runs / E. coli codon usage, GC matched        | Karlin & Burge 1995 Trends Genet           |
| lite_cpg_island            | Regulatory     | bulk_genome / cpg_island           | 200-300 | CpG o/e 0.6-0.95 vs 0.15-0.35 at the same GC                                      | Gardiner-Garden & Frommer 1987 J Mol Biol  |
| lite_phage_host            | Virus/Phage    | bacterial_host / phage             | 200-300 | 2nd-order Markov (trinucleotide) usage perturbed ~22%; 20% of phage ameliorated     | Pride 2006 BMC Genomics                    |
| lite_coding_codon          | Coding/NC      | noncoding / coding                 | 150-250 | human codon usage, stop-free frame, either strand vs the same bases shuffled        | Fickett 1982 NAR                           |
| lite_chromatin_open        | Chromatin Acc. | closed / open                      | 200-300 | CpG o/e and ~4 CTCF/AP-1/Sp1/ETS sites vs CpG-poor DNA with extra repeats, same GC  | Thurman 2012 Nature                        |

Codon usage tables: Kazusa codon usage database (Nakamura et al. 2000 NAR), H. sapiens and E. coli K-12.
Per-task length ranges are also in :data:`LITE_LENGTHS`; sequences are upper-case ACGT.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from geneb_bench.data.task import Labels, TaskData, TaskSpec

LITE_VERSION = "lite-1"
SOURCE = "geneb-bench lite (synthetic)"

Codes = npt.NDArray[np.uint8]  # (n, L) base codes, 0..3 = A, C, G, T
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Rng = np.random.Generator

A, C, G, T = 0, 1, 2, 3
_ASCII = np.frombuffer(b"ACGT", dtype=np.uint8)
_IUPAC: dict[str, str] = {
    "A": "A", "C": "C", "G": "G", "T": "T", "R": "AG", "Y": "CT", "S": "CG", "W": "AT",
    "K": "GT", "M": "AC", "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT",
}  # fmt: skip


# --------------------------------------------------------------------------- vectorised primitives


def _background(rng: Rng, n: int, length: int, gc: Floats | float) -> Codes:
    """i.i.d. bases with a per-row GC fraction (A = T, C = G): one uniform draw per base, no loops."""
    gc_col = np.clip(np.broadcast_to(np.asarray(gc, dtype=np.float64), (n,)), 0.05, 0.95)[:, None]
    u = rng.random((n, length))
    codes = (u >= (1.0 - gc_col) / 2).astype(np.uint8)  # bool + bool is OR in numpy: count in uint8
    codes += u >= 0.5
    codes += u >= 0.5 + gc_col / 2
    return codes


def _markov(rng: Rng, n: int, length: int, trans: Floats) -> Codes:
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


def _deplete_cpg(rng: Rng, x: Codes, keep: Floats | float) -> None:
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


def _substitute_gc(rng: Rng, x: Codes, rate: Floats) -> None:
    """Per row, AT->GC substitutions at ``rate`` where it is positive, GC->AT at ``-rate`` where negative."""
    u = rng.random(x.shape)
    strong = (x == C) | (x == G)
    to_gc, to_at = ~strong & (u < rate[:, None]), strong & (u < -rate[:, None])
    x[to_gc] = np.array([C, G], dtype=np.uint8)[rng.integers(0, 2, int(to_gc.sum()))]
    x[to_at] = np.array([A, T], dtype=np.uint8)[rng.integers(0, 2, int(to_at.sum()))]


def _composition_drift(rng: Rng, x: Codes, sd: float) -> None:
    """Class-independent per-row GC drift (isochores): makes GC content the dominant nuisance axis."""
    _substitute_gc(rng, x, np.asarray(rng.normal(0.0, sd, x.shape[0]), dtype=np.float64))


def _match_gc(rng: Rng, x: Codes, lengths: Ints, y: Labels) -> None:
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
    _substitute_gc(rng, x, rate)


_REPEAT_UNITS = ("CA", "AAC", "AAAG", "AGC", "AATG")  # none A/T-only: that axis is GC's


def _nuisance(
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
    group = rng.integers(0, len(_REPEAT_UNITS) * len(sizes), owners.size)
    for j, unit in enumerate(_REPEAT_UNITS):
        for k, size in enumerate(sizes):
            sel = owners[group == j * len(sizes) + k]
            _implant(rng, x, sel, _sample_motif(rng, (unit * size)[:size], sel.size, 0.05), lengths)
    tails = _rows(rng.random(n) < poly_a)
    for size in sizes:
        sel = tails[rng.random(tails.size) < 1 / len(sizes)]
        _implant(rng, x, sel, _sample_motif(rng, "A" * size, sel.size, 0.05), lengths)
    _composition_drift(rng, x, drift)


def _sample_motif(rng: Rng, motif: str, k: int, mutation: float) -> Codes:
    """``k`` instances of an IUPAC motif, each base then replaced by a random one with prob. ``mutation``."""
    probs = np.array([[float(b in _IUPAC[ch]) for b in "ACGT"] for ch in motif])
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)[:, :-1]
    u = rng.random((k, len(motif)))
    inst: Codes = (u[:, :, None] >= cum[None]).sum(axis=2).astype(np.uint8)
    mutate = rng.random(inst.shape) < mutation
    inst[mutate] = rng.integers(0, 4, size=int(mutate.sum()))
    return inst


def _revcomp(inst: Codes) -> Codes:
    out: Codes = (3 - inst[:, ::-1]).astype(np.uint8)
    return out


def _implant(
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
        inst[flip] = _revcomp(inst[flip])
    if pos is None:
        pos = (rng.random(k) * (lengths[rows] - m + 1)).astype(np.int64)
    x[rows[:, None], pos[:, None] + np.arange(m)] = inst


def _scatter_motifs(
    rng: Rng, x: Codes, rows: Ints, counts: Ints, motifs: tuple[str, ...], lengths: Ints, mutation: float
) -> None:
    """Plant ``counts[i]`` motifs (each drawn uniformly from ``motifs``) into row ``rows[i]``."""
    owners = np.repeat(rows, counts)
    which = rng.integers(0, len(motifs), size=owners.size)
    for j, motif in enumerate(motifs):
        sel = owners[which == j]
        _implant(rng, x, sel, _sample_motif(rng, motif, sel.size, mutation), lengths)


def _lengths(rng: Rng, n: int, lo: int, hi: int) -> Ints:
    return rng.integers(lo, hi + 1, size=n).astype(np.int64)


def _codons(rng: Rng, n: int, n_codons: int, table: Floats) -> Codes:
    """``n`` reading frames of ``n_codons`` codons drawn from ``table`` (64 probabilities)."""
    cum = np.cumsum(table)[:-1]
    idx = np.searchsorted(cum, rng.random((n, n_codons)), side="right")
    bases = np.stack([idx // 16, (idx // 4) % 4, idx % 4], axis=2)
    return bases.reshape(n, 3 * n_codons).astype(np.uint8)


def _rows(mask: npt.ArrayLike) -> Ints:
    return np.flatnonzero(mask).astype(np.int64)


def _subset(rng: Rng, rows: Ints, frac: float) -> Ints:
    """A random fraction of ``rows`` (Bernoulli per row)."""
    return rows[rng.random(rows.size) < frac]


# --------------------------------------------------------------------------- task generators
# Each takes (rng, true labels, min length, max length) and returns (codes padded to the max length,
# per-row lengths). Signals are planted from the true labels; label noise comes later.

Generated = tuple[Codes, Ints]


def _at(rows: Ints, start: int | Ints) -> Ints:
    """Fixed start positions for ``rows`` (for signals tied to a TSS, splice junction or centre)."""
    return np.broadcast_to(np.asarray(start, dtype=np.int64), rows.shape).copy()


def _gen_histone(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n = y.size
    lengths = _lengths(rng, n, lo, hi)
    occupied = y == 1
    x = _background(rng, n, hi, rng.normal(0.39, 0.03, n) + 0.02 * occupied)
    # occupied: AA/TT/TA every ~10 bp (one helical turn) with a random phase, GC dinucleotides in between;
    # how strongly a sequence positions its nucleosome varies
    phase = rng.integers(0, 10, n)[:, None]
    strength = rng.uniform(0.4, 1.0, n)[:, None] * occupied[:, None]
    col = np.arange(hi - 1)[None, :]
    for offset, pairs, rate in ((0, ((A, A), (T, T), (T, A)), 0.7), (5, ((G, C), (C, G), (G, G)), 0.5)):
        hit = ((col - phase) % 10 == offset) & (rng.random((n, hi - 1)) < rate * strength)
        r, c = np.nonzero(hit)
        pick = rng.integers(0, len(pairs), r.size)
        first, second = np.array(pairs, dtype=np.uint8).T
        x[r, c], x[r, c + 1] = first[pick], second[pick]
    # poly(dA:dT) tracts (slightly mutated) in ~60% of depleted rows; a short decoy tract in 15% of occupied
    for rows, tract, frac in (
        (_rows(~occupied), 10, 0.35),
        (_rows(~occupied), 8, 0.35),
        (_rows(occupied), 7, 0.15),
    ):
        sel = _subset(rng, rows, frac)
        _implant(rng, x, sel, _sample_motif(rng, "A" * tract, sel.size, 0.1), lengths)
    _nuisance(rng, x, lengths, repeats=1.0, poly_a=0.0)  # poly(A) is this task's signal, not noise
    return x, lengths


def _gen_promoter_tata(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n, length = y.size, hi
    tss = 100  # window -100..+49 around the transcription start site
    full = np.full(n, length, dtype=np.int64)
    gc = rng.normal(0.48, 0.04, n)
    x = _background(rng, n, length, gc)
    prom = _rows(y == 1)
    x[prom, :tss] = _background(rng, prom.size, tss, gc[prom] + 0.04)  # GC-richer upstream
    elements = (  # (IUPAC, fraction of promoters, start relative to the TSS, jitter)
        ("TATAWAWR", 0.8, -31, 3),  # TATA box
        ("SSRCGCC", 0.25, -38, 3),  # TFIIB recognition element, just upstream of TATA
        ("YYANWYY", 0.7, -2, 0),  # initiator, A at +1
        ("RGWYV", 0.3, 28, 0),  # downstream promoter element
        ("CCAAT", 0.45, -80, 15),  # CCAAT box (NF-Y)
        ("GGGCGG", 0.35, -60, 10),  # GC box (Sp1)
    )
    for motif, frac, start, jitter in elements:
        sel = _subset(rng, prom, frac)
        pos = tss + start + rng.integers(-jitter, jitter + 1, sel.size)
        _implant(rng, x, sel, _sample_motif(rng, motif, sel.size, 0.06), full, pos, both_strands=False)
    # further upstream activator sites (Sp1, NF-Y, CREB) anywhere in -100..-40
    _scatter_motifs(
        rng, x, prom, rng.poisson(2.5, prom.size), ("GGGCGG", "CCAAT", "TGACGTCA"), np.full(n, 60), 0.1
    )
    decoy = _subset(rng, _rows(y == 0), 0.15)  # AT-rich TATA-like words occur in any genomic DNA
    _implant(rng, x, decoy, _sample_motif(rng, "TATAWAWR", decoy.size, 0.15), full)
    _match_gc(rng, x, full, y)  # the GC-richer upstream stays: the rest of the window pays for it
    _nuisance(rng, x, full, drift=0.04, repeats=0.3, poly_a=0.2)
    return x, full


def _gen_promoter_cpg(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n = y.size
    lengths = _lengths(rng, n, lo, hi)
    prom = y == 1
    x = _background(rng, n, hi, rng.normal(0.55, 0.05, n))  # GC-matched negatives
    _deplete_cpg(rng, x, np.where(prom, rng.uniform(0.55, 0.9, n), rng.uniform(0.15, 0.4, n)))
    rows = _rows(prom)
    motifs = ("GGGCGG", "GCGCATGCGC", "CCGGAAGT", "CCAAT")  # Sp1 GC box, NRF1, ETS/GABPA, NF-Y
    _scatter_motifs(rng, x, rows, rng.poisson(1.2, rows.size), motifs, lengths, 0.1)
    _match_gc(rng, x, lengths, y)
    _nuisance(rng, x, lengths, repeats=0.6, poly_a=0.5)
    return x, lengths


def _gen_enhancer(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n = y.size
    lengths = _lengths(rng, n, lo, hi)
    x = _background(rng, n, hi, rng.normal(0.42, 0.04, n))
    # AP-1, E-box (bHLH), GATA, ETS, C/EBP, RUNX
    motifs = ("TGASTCA", "CACGTG", "WGATAR", "ACCGGAAGT", "TTGCGCAA", "TGTGGTT")
    # enhancers: homotypic clusters of two factors' sites; background: sparse chance sites of any factor
    enh = _rows(y == 1)
    pair = np.stack([rng.integers(0, len(motifs), enh.size), rng.integers(0, len(motifs), enh.size)], axis=1)
    counts = rng.poisson(4.5, enh.size) + 1
    owners = np.repeat(enh, counts)
    which = pair[np.repeat(np.arange(enh.size), counts), rng.integers(0, 2, owners.size)]
    for j, motif in enumerate(motifs):
        sel = owners[which == j]
        _implant(rng, x, sel, _sample_motif(rng, motif, sel.size, 0.1), lengths)
    bg = _rows(y == 0)
    _scatter_motifs(rng, x, bg, rng.poisson(0.7, bg.size), motifs, lengths, 0.1)
    _match_gc(rng, x, lengths, y)
    _nuisance(rng, x, lengths, drift=0.03, repeats=0.1, poly_a=0.1)
    return x, lengths


def _gen_6ma(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n, length = y.size, hi
    centre = length // 2
    full = np.full(n, length, dtype=np.int64)
    x = _background(rng, n, length, rng.normal(0.45, 0.04, n))
    methylated = y == 1
    # AG-rich flanks (+-10 nt) around methylated adenines
    flank = np.zeros((n, length), dtype=bool)
    flank[:, centre - 10 : centre + 11] = True
    r, c = np.nonzero(flank & methylated[:, None] & (rng.random((n, length)) < 0.25))
    x[r, c] = np.array([A, G], dtype=np.uint8)[rng.integers(0, 2, r.size)]
    # context motifs with the methylated A at the centre: GATC (Dam-like) and GAGG
    kind = rng.random(n)
    for motif, rows in (
        ("GATC", _rows(methylated & (kind < 0.55))),
        ("GAGG", _rows(methylated & (kind >= 0.55) & (kind < 0.9))),
        ("GATC", _rows(~methylated & (kind < 0.08))),  # unmethylated GATC/GAGG sites exist too
        ("GAGG", _rows(~methylated & (kind >= 0.08) & (kind < 0.14))),
    ):
        inst = _sample_motif(rng, motif, rows.size, 0.05)
        _implant(rng, x, rows, inst, full, _at(rows, centre - 1), both_strands=False)
    _match_gc(rng, x, full, y)
    _nuisance(rng, x, full, drift=0.05, repeats=0.15, poly_a=0.1)
    x[:, centre] = A
    return x, full


def _gen_splice(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n, length = y.size, hi
    b = length // 2  # exon/intron boundary between bases b-1 and b
    full = np.full(n, length, dtype=np.int64)
    exon_gc, intron_gc = rng.normal(0.52, 0.04, n), rng.normal(0.39, 0.04, n)
    neither, donor, acceptor = _rows(y == 0), _rows(y == 1), _rows(y == 2)
    x = _background(rng, n, length, rng.normal(0.45, 0.04, n))
    x[donor, :b] = _background(rng, donor.size, b, exon_gc[donor])
    x[donor, b:] = _background(rng, donor.size, length - b, intron_gc[donor])
    x[acceptor, :b] = _background(rng, acceptor.size, b, intron_gc[acceptor])
    x[acceptor, b:] = _background(rng, acceptor.size, length - b, exon_gc[acceptor])
    # donor: MAG|GTRAGT with the GT invariant
    _implant(rng, x, donor, _sample_motif(rng, "MAGGTRAGT", donor.size, 0.05), full, _at(donor, b - 3), False)
    # acceptor: branch point YTNAY 22-40 nt upstream, polypyrimidine tract, then YAG|G with the AG invariant
    bp = _subset(rng, acceptor, 0.7)
    pos = b - rng.integers(26, 41, bp.size)
    _implant(rng, x, bp, _sample_motif(rng, "YTNAY", bp.size, 0.1), full, pos, both_strands=False)
    strength = rng.uniform(0.6, 0.95, acceptor.size)[:, None]
    tract = rng.random((acceptor.size, 18)) < strength
    pyrimidines = np.array([C, T, T], dtype=np.uint8)[rng.integers(0, 3, tract.shape)]
    x[acceptor, b - 21 : b - 3] = np.where(tract, pyrimidines, x[acceptor, b - 21 : b - 3])
    _implant(
        rng, x, acceptor, _sample_motif(rng, "YAGG", acceptor.size, 0.1), full, _at(acceptor, b - 3), False
    )
    _nuisance(rng, x, full, drift=0.05)
    # the invariant GT and AG, set last so no noise touches them; negatives get a decoy GT or AG there
    gt = np.union1d(donor, neither[rng.random(neither.size) < 0.5])
    ag = np.union1d(acceptor, np.setdiff1d(neither, gt))
    x[gt, b], x[gt, b + 1] = G, T
    x[ag, b - 2], x[ag, b - 1] = A, G
    return x, full


def _codon_probs(usage_tcag: tuple[float, ...]) -> Floats:
    """Sense-codon probabilities indexed ACGT-major (16*b1 + 4*b2 + b3) from a TCAG-ordered usage table."""
    tcag = (T, C, A, G)
    w = np.zeros(64)
    for i, usage in enumerate(usage_tcag):
        w[16 * tcag[i // 16] + 4 * tcag[(i // 4) % 4] + tcag[i % 4]] = usage
    for b1, b2, b3 in ((T, A, A), (T, A, G), (T, G, A)):
        w[16 * b1 + 4 * b2 + b3] = 0.0  # stop-free reading frame
    return np.asarray(w / w.sum(), dtype=np.float64)


# Codon usage per thousand codons (Kazusa codon usage database), rows TCAG x TCAG x TCAG as printed there.
_HUMAN_CODONS = _codon_probs((
    17.6, 20.3, 7.7, 12.9, 15.2, 17.7, 12.2, 4.4, 12.2, 15.3, 1.0, 0.8, 10.6, 12.6, 1.6, 13.2,
    13.2, 19.6, 7.2, 39.6, 17.5, 19.8, 16.9, 6.9, 10.9, 15.1, 12.3, 34.2, 4.5, 10.4, 6.2, 11.4,
    16.0, 20.8, 7.5, 22.0, 13.1, 18.9, 15.1, 6.1, 17.0, 19.1, 24.4, 31.9, 12.1, 19.5, 12.2, 12.0,
    11.0, 14.5, 7.1, 28.1, 18.4, 27.7, 15.8, 7.4, 21.8, 25.1, 29.0, 39.6, 10.8, 22.2, 16.5, 16.5,
))  # fmt: skip
_ECOLI_CODONS = _codon_probs((
    22.1, 16.6, 13.8, 13.7, 8.4, 8.6, 7.1, 8.9, 16.1, 12.2, 2.0, 0.2, 5.1, 6.4, 0.9, 15.3,
    11.0, 11.0, 3.9, 52.6, 7.0, 5.5, 8.4, 23.2, 12.9, 9.7, 15.3, 28.9, 20.9, 22.0, 3.6, 5.4,
    30.3, 25.0, 4.4, 27.8, 9.0, 23.4, 7.1, 14.4, 17.7, 21.6, 33.6, 10.3, 8.8, 16.1, 2.1, 1.2,
    18.3, 15.3, 10.9, 26.4, 15.3, 25.5, 20.3, 33.7, 32.1, 19.1, 39.6, 17.8, 24.7, 29.6, 8.0, 11.1,
))  # fmt: skip


def _reading_frames(rng: Rng, n: int, length: int, table: Floats, antisense: float) -> Codes:
    """Stop-free coding fragments: random frame offset, a fraction read from the other strand."""
    x = _codons(rng, n, length // 3 + 2, table)
    x = np.take_along_axis(x, rng.integers(0, 3, n)[:, None] + np.arange(length)[None, :], axis=1)
    flip = rng.random(n) < antisense
    x[flip] = _revcomp(x[flip])
    return x


def _shuffled(rng: Rng, x: Codes) -> Codes:
    """Each row's bases in random order: same composition, no order (the usual null in coding-potential work)."""
    return np.take_along_axis(x, np.argsort(rng.random(x.shape), axis=1), axis=1)


def _gen_lncrna(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n = y.size
    lengths = _lengths(rng, n, lo, hi)
    cds = _reading_frames(rng, n, hi, _HUMAN_CODONS, antisense=0.0)  # transcripts are stranded
    x = _shuffled(rng, cds)  # transcript background with coding-like composition, stops at chance rate
    # mRNA: a long stop-free ORF covering 60-100% of the window, the rest UTR
    mrna, lnc = _rows(y == 0), _rows(y == 1)
    cover = rng.uniform(0.6, 1.0, mrna.size)
    start = (rng.random(mrna.size) * (1 - cover) * lengths[mrna]).astype(np.int64)
    col = np.arange(hi)[None, :]
    in_cds = (col >= start[:, None]) & (col < (start + (cover * lengths[mrna]).astype(np.int64))[:, None])
    shifted = np.take_along_axis(cds[mrna], np.clip(col - start[:, None], 0, hi - 1), axis=1)
    x[mrna] = np.where(in_cds, shifted, x[mrna])
    # lncRNA: 30% carry a short ORF (20-40 codons) with the same codon usage
    sorf = _subset(rng, lnc, 0.3)
    _implant(
        rng, x, sorf, _codons(rng, sorf.size, int(rng.integers(20, 41)), _HUMAN_CODONS), lengths, None, False
    )
    _match_gc(rng, x, lengths, y)
    _nuisance(rng, x, lengths)
    return x, lengths


def _gen_mouse_enhancer(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n = y.size
    lengths = _lengths(rng, n, lo, hi)
    x = _background(rng, n, hi, rng.normal(0.42, 0.04, n))
    _deplete_cpg(rng, x, 0.2)  # mouse bulk DNA is CpG-poor
    enh = _subset(rng, _rows(y == 1), 0.9)
    motifs = ("CATTGTT", "ATGCAAAT", "CATTGTTATGCAAAT")  # SOX2, OCT4, SOX2-OCT4 composite
    _scatter_motifs(rng, x, enh, rng.integers(2, 6, enh.size), motifs, lengths, 0.1)
    decoy = _subset(rng, _rows(y == 0), 0.2)
    _scatter_motifs(rng, x, decoy, np.ones(decoy.size, np.int64), motifs[:2], lengths, 0.15)
    _match_gc(rng, x, lengths, y)
    _nuisance(rng, x, lengths, drift=0.05, repeats=0.3, poly_a=0.2)
    return x, lengths


def _gen_ctcf(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n = y.size
    lengths = _lengths(rng, n, lo, hi)
    x = _background(rng, n, hi, rng.normal(0.42, 0.04, n))
    _deplete_cpg(rng, x, 0.25)
    # every row gets a core-sized insert; bound rows keep it (90%), the rest get it base-scrambled, so
    # composition is matched and only the motif's order tells the classes apart
    inst = _sample_motif(rng, "CCGCGNGGNGGCAG", n, 0.08)
    scramble = (y == 0) | (rng.random(n) >= 0.9)
    inst[scramble] = _shuffled(rng, inst[scramble])
    _implant(rng, x, np.arange(n, dtype=np.int64), inst, lengths)
    # a second, weaker site in 60% of rows (scrambled again in unbound ones)
    second = _subset(rng, np.arange(n, dtype=np.int64), 0.6)
    inst = _sample_motif(rng, "CCGCGNGGNGGCAG", second.size, 0.15)
    unbound = y[second] == 0
    inst[unbound] = _shuffled(rng, inst[unbound])
    _implant(rng, x, second, inst, lengths)
    _match_gc(rng, x, lengths, y)
    _nuisance(rng, x, lengths, drift=0.04, repeats=0.15, poly_a=0.1)
    return x, lengths


def _gen_species(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n = y.size
    lengths = _lengths(rng, n, lo, hi)
    vert, yeast, bact = _rows(y == 0), _rows(y == 1), _rows(y == 2)
    x = np.empty((n, hi), dtype=np.uint8)
    # vertebrate-like: GC ~41%, CpG at ~22% of expectation (methylation-driven deamination)
    vert_x = _background(rng, vert.size, hi, rng.normal(0.41, 0.05, vert.size))
    _deplete_cpg(rng, vert_x, 0.22)
    x[vert] = vert_x
    # yeast-like: GC ~38%, no CpG depletion, frequent A/T homopolymer runs
    x[yeast] = _background(rng, yeast.size, hi, rng.normal(0.38, 0.04, yeast.size))
    runs = _subset(rng, yeast, 0.8)
    _scatter_motifs(rng, x, runs, rng.integers(1, 4, runs.size), ("AAAAAAA", "TTTTTTT"), lengths, 0.1)
    # bacteria-like: gene-dense, so mostly coding fragments with E. coli codon usage, GC ~51%
    x[bact] = _background(rng, bact.size, hi, rng.normal(0.51, 0.04, bact.size))
    coding = _subset(rng, bact, 0.85)
    x[coding] = _reading_frames(rng, coding.size, hi, _ECOLI_CODONS, antisense=0.5)
    _match_gc(rng, x, lengths, y)  # GC alone would be too easy: the k-mer texture has to do it
    _nuisance(rng, x, lengths, drift=0.05, repeats=0.5, poly_a=0.0)  # A/T runs are the yeast signal
    return x, lengths


def _gen_cpg_island(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n = y.size
    lengths = _lengths(rng, n, lo, hi)
    island = y == 1
    # GC-matched negatives (GC-rich isochores, still CpG-depleted): the CpG o/e ratio is the signal
    x = _background(rng, n, hi, rng.normal(0.55, 0.05, n))
    _deplete_cpg(rng, x, np.where(island, rng.uniform(0.6, 0.95, n), rng.uniform(0.15, 0.35, n)))
    _match_gc(rng, x, lengths, y)
    _nuisance(rng, x, lengths, poly_a=0.4)
    return x, lengths


def _phage_tables(rng: Rng) -> tuple[Floats, Floats]:
    """Second-order (trinucleotide) transition tables: a host and a phage modestly perturbed from it."""
    host = rng.dirichlet(np.full(4, 12.0), size=16)
    phage = host * np.exp(0.22 * rng.standard_normal(host.shape))
    return host, phage / phage.sum(axis=1, keepdims=True)


def _gen_phage(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n = y.size
    lengths = _lengths(rng, n, lo, hi)
    host, phage = _phage_tables(rng)
    # 20% of phage fragments are host-ameliorated (long-resident prophages): drawn from the host chain
    like_phage = (y == 1) & (rng.random(n) >= 0.2)
    x = np.where(like_phage[:, None], _markov(rng, n, hi, phage), _markov(rng, n, hi, host)).astype(np.uint8)
    _match_gc(rng, x, lengths, y)
    _nuisance(rng, x, lengths)
    return x, lengths


def _gen_coding(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n = y.size
    lengths = _lengths(rng, n, lo, hi)
    x = _reading_frames(rng, n, hi, _HUMAN_CODONS, antisense=0.5)
    # non-coding: the same bases in random order, so composition is matched exactly per row and only
    # the codon structure (usage, 3-periodicity, no in-frame stops) tells the classes apart
    nc = _rows(y == 0)
    x[nc] = _shuffled(rng, x[nc])
    _match_gc(rng, x, lengths, y)
    _nuisance(rng, x, lengths)
    return x, lengths


def _gen_chromatin(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n = y.size
    lengths = _lengths(rng, n, lo, hi)
    is_open = y == 1
    x = _background(rng, n, hi, rng.normal(0.43, 0.05, n))  # GC-matched, as DNase-seq negative sets are
    _deplete_cpg(rng, x, np.where(is_open, rng.uniform(0.45, 0.8, n), rng.uniform(0.15, 0.35, n)))
    rows = _rows(is_open)
    motifs = ("CCRCKNGGNGGCAG", "TGASTCA", "GGGCGG", "CCGGAAGT")  # CTCF, AP-1, Sp1, ETS
    _scatter_motifs(rng, x, rows, rng.poisson(4.0, rows.size), motifs, lengths, 0.1)
    # closed: extra tandem repeats and retrotransposon poly(A) in some rows
    closed = _subset(rng, _rows(~is_open), 0.15)
    for unit in ("CA", "AT", "AAT", "AAAT", "A"):
        sel = closed[rng.random(closed.size) < 0.2]
        size = int(rng.integers(24, 37))
        _implant(rng, x, sel, _sample_motif(rng, (unit * size)[:size], sel.size, 0.08), lengths)
    _match_gc(rng, x, lengths, y)
    _nuisance(rng, x, lengths)
    return x, lengths


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class _Recipe:
    spec: TaskSpec
    label_names: tuple[str, ...]
    lengths: tuple[int, int]
    make: Callable[[Rng, Labels, int, int], Generated]
    n_train: int = 800
    n_test: int = 400
    label_noise: float = 0.03


def _recipe(
    task_id: str,
    category: str,
    description: str,
    label_names: tuple[str, ...],
    lengths: tuple[int, int],
    make: Callable[[Rng, Labels, int, int], Generated],
    n_train: int = 800,
    n_test: int = 400,
    label_noise: float = 0.03,
) -> _Recipe:
    spec = TaskSpec(task_id, category, SOURCE, description, len(label_names))
    return _Recipe(spec, label_names, lengths, make, n_train, n_test, label_noise)


_RECIPES: tuple[_Recipe, ...] = (
    _recipe("lite_histone_h3_occupancy", "Histone Mod.",
            "Nucleosome occupancy: ~10-bp periodic AA/TT/TA and GC dinucleotides vs nucleosome-excluding poly(dA:dT) tracts.",
            ("nucleosome_depleted", "nucleosome_occupied"), (150, 250), _gen_histone),
    _recipe("lite_promoter_tata", "Promoters",
            "TATA promoters: TATA box at -31, Inr at the TSS, BRE, DPE and upstream CCAAT/GC-box/CRE sites vs background.",
            ("non_promoter", "promoter"), (150, 150), _gen_promoter_tata),
    _recipe("lite_promoter_cpg", "Promoters",
            "CpG-island promoters: high CpG o/e with GC-box, NRF1, ETS and CCAAT sites vs GC-matched CpG-depleted DNA.",
            ("non_promoter", "promoter"), (200, 300), _gen_promoter_cpg),
    _recipe("lite_enhancer_tf_cluster", "Enhancers",
            "Enhancers as homotypic clusters of AP-1, E-box, GATA, ETS, C/EBP or RUNX sites vs sparse chance sites.",
            ("background", "enhancer"), (150, 250), _gen_enhancer),
    _recipe("lite_6ma_context", "DNA Methyl.",
            "N6-methyladenine: 41-nt windows centred on an A with GATC/GAGG context and AG-rich flanks vs random context.",
            ("unmethylated", "methylated"), (41, 41), _gen_6ma),
    _recipe("lite_splice_sites", "Splice Sites",
            "Splice junctions: MAG|GTRAGT donors, branch point + polypyrimidine tract + YAG|G acceptors, decoy GT/AG.",
            ("neither", "donor", "acceptor"), (140, 140), _gen_splice, n_train=810, n_test=405, label_noise=0.02),
    _recipe("lite_lncrna_orf", "lncRNA",
            "mRNA vs lncRNA: a long stop-free ORF with human codon usage vs composition-matched sequence with short ORFs.",
            ("mRNA", "lncRNA"), (200, 300), _gen_lncrna),
    _recipe("lite_mouse_enhancer_soxoct", "Mouse Enh.",
            "Mouse ES-cell enhancers: SOX (CATTGTT), OCT (ATGCAAAT) and composite SOX-OCT sites in CpG-poor DNA.",
            ("background", "enhancer"), (150, 250), _gen_mouse_enhancer),
    _recipe("lite_tf_ctcf", "TF Binding",
            "CTCF binding: mutated CTCF cores (CCGCGNGGNGGCAG) vs the same bases scrambled, in CpG-depleted DNA.",
            ("background", "ctcf_bound"), (80, 120), _gen_ctcf),
    _recipe("lite_species_composition", "Species Clf.",
            "Genome of origin from composition: CpG-depleted vertebrate, A/T-run-rich yeast, E. coli-codon bacterial DNA.",
            ("vertebrate_like", "yeast_like", "bacteria_like"), (100, 200), _gen_species, n_train=810, n_test=405),
    _recipe("lite_cpg_island", "Regulatory",
            "CpG islands (CpG o/e 0.6-0.95) vs GC-matched CpG-depleted bulk DNA (o/e 0.15-0.35).",
            ("bulk_genome", "cpg_island"), (200, 300), _gen_cpg_island),
    _recipe("lite_phage_host", "Virus/Phage",
            "Phage vs bacterial-host fragments differing modestly in trinucleotide usage; some prophages are ameliorated.",
            ("bacterial_host", "phage"), (200, 300), _gen_phage),
    _recipe("lite_coding_codon", "Coding/NC",
            "Coding vs non-coding: human codon usage in a stop-free 3-periodic frame vs the same bases shuffled.",
            ("noncoding", "coding"), (150, 250), _gen_coding),
    _recipe("lite_chromatin_open", "Chromatin Acc.",
            "Open chromatin (CpG, dense CTCF/AP-1/Sp1/ETS sites) vs GC-matched closed DNA with extra repeats and poly(A).",
            ("closed", "open"), (200, 300), _gen_chromatin),
)  # fmt: skip

_BY_ID: dict[str, _Recipe] = {r.spec.task_id: r for r in _RECIPES}
LITE_TASKS: tuple[TaskSpec, ...] = tuple(r.spec for r in _RECIPES)
LITE_LENGTHS: Mapping[str, tuple[int, int]] = MappingProxyType({r.spec.task_id: r.lengths for r in _RECIPES})


def lite_task_ids() -> list[str]:
    return [s.task_id for s in LITE_TASKS]


def task_seed(task_id: str) -> int:
    """Stable across processes and platforms (unlike ``hash``): CRC-32 of the id."""
    return zlib.crc32(task_id.encode("utf-8"))


def _balanced(rng: Rng, n: int, n_classes: int) -> Labels:
    return rng.permutation(np.arange(n, dtype=np.int64) % n_classes).astype(np.int64)


def _label_noise(rng: Rng, y: Labels, rate: float) -> Labels:
    """Relabel a random ``rate`` of rows by permuting their labels among themselves.

    Class counts stay exactly balanced: a strongly regularised probe (raw k-mer frequencies, C = 1) then
    thresholds at the median score instead of collapsing onto the majority class of a noisy split.
    """
    chosen = _rows(rng.random(y.size) < rate * len(np.unique(y)) / max(len(np.unique(y)) - 1, 1))
    out = y.copy()
    out[chosen] = y[rng.permutation(chosen)]
    return out


def _decode(x: Codes, lengths: Ints) -> tuple[str, ...]:
    chars = _ASCII[x]
    return tuple(chars[i, : lengths[i]].tobytes().decode("ascii") for i in range(x.shape[0]))


def _generate(task_id: str) -> TaskData:
    """Build a task from scratch (uncached): sequences from the true labels, then label noise, then split."""
    try:
        recipe = _BY_ID[task_id]
    except KeyError:
        raise ValueError(f"unknown lite task {task_id!r}; known: {', '.join(_BY_ID)}") from None
    rng = np.random.default_rng(task_seed(task_id))
    n_classes = len(recipe.label_names)
    y = np.concatenate([_balanced(rng, recipe.n_train, n_classes), _balanced(rng, recipe.n_test, n_classes)])
    x, lengths = recipe.make(rng, y, *recipe.lengths)
    observed = np.concatenate(
        [
            _label_noise(rng, y[: recipe.n_train], recipe.label_noise),
            _label_noise(rng, y[recipe.n_train :], recipe.label_noise),
        ]
    )
    seqs = _decode(x, lengths)
    k = recipe.n_train
    observed.flags.writeable = False  # the loader caches: nobody may edit the shared labels in place
    return TaskData(
        spec=recipe.spec,
        train_sequences=seqs[:k],
        train_labels=observed[:k],
        test_sequences=seqs[k:],
        test_labels=observed[k:],
        label_names=recipe.label_names,
        revision=LITE_VERSION,
    )


@functools.cache
def load_lite_task(task_id: str) -> TaskData:
    """The lite task ``task_id``, generated once per process (deterministic, so caching is safe)."""
    return _generate(task_id)
