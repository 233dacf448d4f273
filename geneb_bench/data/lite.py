"""The built-in ``lite`` suite: small, deterministic, synthetic DNA tasks, one or more per GENEB category.

Why synthetic: the harness must be testable end to end in about two minutes on two CPU cores, offline,
with numbers that mean something. Each task plants a documented biological signal into a noisy
background (motif mutations, motifs in only a fraction of positives, decoys in negatives, per-sequence
composition variation, a few percent label noise), so a 4-mer + logistic-regression baseline beats
chance clearly but not perfectly, and shuffled labels give MCC ~ 0.

Every task is generated from ``numpy.random.default_rng(zlib.crc32(task_id))``: the same bytes in every
process and on every platform. Change any generator and bump :data:`LITE_VERSION` (it is the
``TaskData.revision`` that cache and result keys include).

=================================  ===============  ======================================  ==========================================================================  =================================================
task id                            category         classes                                 signal                                                                      after
=================================  ===============  ======================================  ==========================================================================  =================================================
lite_histone_h3_occupancy          Histone Mod.     nucleosome_depleted / occupied          ~10-bp periodic AA/TT/TA + GC in occupied; poly(dA:dT) tracts in depleted   Segal et al. 2006 Nature; Segal & Widom 2009
lite_promoter_tata                 Promoters        non_promoter / promoter                 TATAWAWR at -31 +- 3, Inr YYANWYY at the TSS, GC-richer upstream             Smale & Kadonaga 2003 Annu Rev Biochem
lite_promoter_cpg                  Promoters        non_promoter / promoter                 CpG-island promoters (CpG o/e, GC box, NRF1, ETS, CCAAT) vs GC-rich bulk     Deaton & Bird 2011 Genes Dev
lite_enhancer_tf_cluster           Enhancers        background / enhancer                   clusters of AP-1, E-box, GATA, ETS, C/EBP, RUNX sites                        Spitz & Furlong 2012 Nat Rev Genet
lite_6ma_context                   DNA Methyl.      unmethylated / methylated               41-nt windows on an A; GATC / GAGG context and AG-rich flanks for 6mA        Chen et al. 2019 (i6mA-Pred) Bioinformatics
lite_splice_sites                  Splice Sites     neither / donor / acceptor              MAG|GTRAGT donor; branch point + polypyrimidine tract + CAG|G acceptor       Shapiro & Senapathy 1987 NAR
lite_lncrna_orf                    lncRNA           mRNA / lncRNA                           long stop-free codon-biased ORF in mRNA; short ORFs, more stops in lncRNA   Kong et al. 2007 (CPC) NAR
lite_mouse_enhancer_soxoct         Mouse Enh.       background / enhancer                   SOX (CATTGTT), OCT (ATGCAAAT), SOX-OCT composite in CpG-poor mouse DNA      Chen et al. 2008 Cell (ES-cell enhancers)
lite_tf_ctcf                       TF Binding       background / ctcf_bound                 CTCF core CCRCKNGGNGGCAG vs composition-matched scrambled core              Kim et al. 2007 Cell
lite_species_markov                Species Clf.     vertebrate_like / yeast_like / bacteria  GC, CpG depletion and dinucleotide preferences of three genomes            Karlin & Burge 1995 Trends Genet
lite_cpg_island                    Regulatory       bulk_genome / cpg_island                CpG islands (GC > 50%, CpG o/e > 0.6) vs CpG-depleted bulk and GC-rich DNA  Gardiner-Garden & Frommer 1987 J Mol Biol
lite_phage_host                    Virus/Phage      bacterial_host / phage                  trinucleotide (2nd-order Markov) usage differing modestly; some ameliorated Pride et al. 2006 Genome Res
lite_coding_gc3                    Coding/NC        noncoding / coding                      3-periodic codon-position bias (RNY, GC3), stop-free frame, either strand    Fickett 1982 NAR
lite_chromatin_open                Chromatin Acc.   closed / open                           open: GC, CpG, TF sites; closed: AT-rich, tandem repeats, poly(A)            Thurman et al. 2012 Nature (DNase I HS)
=================================  ===============  ======================================  ==========================================================================  =================================================

Sequence lengths per task are in :data:`LITE_LENGTHS` (41 bp for the 6mA windows, otherwise 80-300 bp);
sequences are upper-case ACGT.
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


def _composition_drift(rng: Rng, x: Codes, sd: float) -> None:
    """Class-independent per-row GC drift (isochore-like): AT->GC or GC->AT substitutions at rate |s|.

    It makes composition the dominant nuisance axis, as in real genomes, so a classifier fitted to
    shuffled labels does not land on the class axis by accident.
    """
    n, length = x.shape
    s = rng.normal(0.0, sd, n)[:, None]
    u = rng.random((n, length))
    strong = (x == C) | (x == G)
    to_gc, to_at = ~strong & (u < s), strong & (u < -s)
    x[to_gc] = np.array([C, G], dtype=np.uint8)[rng.integers(0, 2, int(to_gc.sum()))]
    x[to_at] = np.array([A, T], dtype=np.uint8)[rng.integers(0, 2, int(to_at.sum()))]


_REPEAT_UNITS = ("CA", "AAT", "AAC", "AAAG", "AGC")


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
    inst = (u[:, :, None] >= cum[None]).sum(axis=2).astype(np.uint8)
    mutate = rng.random(inst.shape) < mutation
    inst[mutate] = rng.integers(0, 4, size=int(mutate.sum()))
    return inst


def _revcomp(inst: Codes) -> Codes:
    return (3 - inst[:, ::-1]).astype(np.uint8)


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


def _rows(mask: npt.NDArray[np.bool_]) -> Ints:
    return np.flatnonzero(mask).astype(np.int64)


def _subset(rng: Rng, rows: Ints, frac: float) -> Ints:
    """A random fraction of ``rows`` (Bernoulli per row)."""
    return rows[rng.random(rows.size) < frac]


# --------------------------------------------------------------------------- task generators
# Each takes (rng, true labels) and returns (codes padded to the task's max length, per-row lengths).

Generated = tuple[Codes, Ints]


def _at(rows: Ints, start: int | Ints) -> Ints:
    return np.broadcast_to(np.asarray(start, dtype=np.int64), rows.shape).copy()


def _gen_histone(rng: Rng, y: Labels) -> Generated:
    n, lo, hi = y.size, *LITE_LENGTHS["lite_histone_h3_occupancy"]
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
    # poly(dA:dT) tracts (slightly mutated) in ~75% of depleted rows; a short decoy tract in 15% of occupied
    for rows, tract, frac in ((_rows(~occupied), 10, 0.35), (_rows(~occupied), 8, 0.35), (_rows(occupied), 7, 0.15)):
        sel = _subset(rng, rows, frac)
        _implant(rng, x, sel, _sample_motif(rng, "A" * tract, sel.size, 0.1), lengths)
    _nuisance(rng, x, lengths, repeats=1.0, poly_a=0.0)  # poly(A) is this task's signal, not noise
    return x, lengths


def _gen_promoter_tata(rng: Rng, y: Labels) -> Generated:
    n, (_, length) = y.size, LITE_LENGTHS["lite_promoter_tata"]
    tss = 100  # window -100..+49 around the transcription start site
    full = np.full(n, length, dtype=np.int64)
    gc = rng.normal(0.42, 0.04, n)
    x = _background(rng, n, length, gc)
    prom = _rows(y == 1)
    x[prom, :tss] = _background(rng, prom.size, tss, gc[prom] + 0.08)  # GC-richer upstream
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
    decoy = _subset(rng, _rows(y == 0), 0.15)  # AT-rich TATA-like words occur in any genomic DNA
    _implant(rng, x, decoy, _sample_motif(rng, "TATAWAWR", decoy.size, 0.15), full)
    _nuisance(rng, x, full, drift=0.04, repeats=0.15, poly_a=0.1)
    return x, full


def _gen_promoter_cpg(rng: Rng, y: Labels) -> Generated:
    n, lo, hi = y.size, *LITE_LENGTHS["lite_promoter_cpg"]
    lengths = _lengths(rng, n, lo, hi)
    prom = y == 1
    x = _background(rng, n, hi, rng.normal(0.55, 0.05, n))  # GC-matched negatives
    _deplete_cpg(rng, x, np.where(prom, rng.uniform(0.5, 0.9, n), rng.uniform(0.2, 0.45, n)))
    rows = _rows(prom)
    motifs = ("GGGCGG", "GCGCATGCGC", "CCGGAAGT", "CCAAT")  # Sp1 GC box, NRF1, ETS/GABPA, NF-Y
    _scatter_motifs(rng, x, rows, rng.poisson(1.2, rows.size), motifs, lengths, 0.1)
    _nuisance(rng, x, lengths, poly_a=0.4)
    return x, lengths


def _gen_enhancer(rng: Rng, y: Labels) -> Generated:
    n, lo, hi = y.size, *LITE_LENGTHS["lite_enhancer_tf_cluster"]
    lengths = _lengths(rng, n, lo, hi)
    x = _background(rng, n, hi, rng.normal(0.42, 0.04, n))
    motifs = ("TGASTCA", "CACGTG", "WGATAR", "ACCGGAAGT", "TTGCGCAA", "TGTGGTT")  # AP-1 E-box GATA ETS CEBP RUNX
    # enhancers: homotypic clusters of two factors' sites; background: sparse chance sites of any factor
    enh = _rows(y == 1)
    pair = np.stack([rng.integers(0, len(motifs), enh.size), rng.integers(0, len(motifs), enh.size)], axis=1)
    counts = rng.poisson(3.5, enh.size) + 1
    owners = np.repeat(enh, counts)
    which = pair[np.repeat(np.arange(enh.size), counts), rng.integers(0, 2, owners.size)]
    for j, motif in enumerate(motifs):
        sel = owners[which == j]
        _implant(rng, x, sel, _sample_motif(rng, motif, sel.size, 0.1), lengths)
    bg = _rows(y == 0)
    _scatter_motifs(rng, x, bg, rng.poisson(0.7, bg.size), motifs, lengths, 0.1)
    _nuisance(rng, x, lengths, drift=0.04, repeats=0.15, poly_a=0.1)
    return x, lengths


def _gen_6ma(rng: Rng, y: Labels) -> Generated:
    n, (_, length) = y.size, LITE_LENGTHS["lite_6ma_context"]
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
        ("GATC", _rows(methylated & (kind < 0.5))),
        ("GAGG", _rows(methylated & (kind >= 0.5) & (kind < 0.8))),
        ("GATC", _rows(~methylated & (kind < 0.08))),  # unmethylated GATC/GAGG sites exist too
        ("GAGG", _rows(~methylated & (kind >= 0.08) & (kind < 0.14))),
    ):
        inst = _sample_motif(rng, motif, rows.size, 0.05)
        _implant(rng, x, rows, inst, full, _at(rows, centre - 1), both_strands=False)
    _nuisance(rng, x, full, drift=0.05, repeats=0.15, poly_a=0.1)
    x[:, centre] = A
    return x, full


def _gen_splice(rng: Rng, y: Labels) -> Generated:
    n, (_, length) = y.size, LITE_LENGTHS["lite_splice_sites"]
    b = length // 2  # exon/intron boundary between bases b-1 and b
    full = np.full(n, length, dtype=np.int64)
    exon_gc, intron_gc = rng.normal(0.52, 0.04, n), rng.normal(0.38, 0.04, n)
    neither, donor, acceptor = _rows(y == 0), _rows(y == 1), _rows(y == 2)
    x = _background(rng, n, length, rng.normal(0.45, 0.04, n))
    x[donor, :b] = _background(rng, donor.size, b, exon_gc[donor])
    x[donor, b:] = _background(rng, donor.size, length - b, intron_gc[donor])
    x[acceptor, :b] = _background(rng, acceptor.size, b, intron_gc[acceptor])
    x[acceptor, b:] = _background(rng, acceptor.size, length - b, exon_gc[acceptor])
    # donor: MAG|GTRAGT with the GT invariant
    _implant(rng, x, donor, _sample_motif(rng, "MAGGTRAGT", donor.size, 0.1), full, _at(donor, b - 3), False)
    x[donor, b], x[donor, b + 1] = G, T
    # acceptor: branch point YTNAY 20-35 nt upstream, polypyrimidine tract, then YAG|G with the AG invariant
    bp = _subset(rng, acceptor, 0.7)
    pos = b - rng.integers(22, 36, bp.size)
    _implant(rng, x, bp, _sample_motif(rng, "YTNAY", bp.size, 0.1), full, pos, both_strands=False)
    strength = rng.uniform(0.5, 0.9, acceptor.size)[:, None]
    tract = rng.random((acceptor.size, 18)) < strength
    pyrimidines = np.array([C, T, T], dtype=np.uint8)[rng.integers(0, 3, tract.shape)]
    x[acceptor, b - 21 : b - 3] = np.where(tract, pyrimidines, x[acceptor, b - 21 : b - 3])
    _implant(rng, x, acceptor, _sample_motif(rng, "YAGG", acceptor.size, 0.1), full, _at(acceptor, b - 3), False)
    x[acceptor, b - 2], x[acceptor, b - 1] = A, G
    # neither: a decoy GT or AG at the boundary, as in real negative sets
    gt = neither[rng.random(neither.size) < 0.5]
    ag = np.setdiff1d(neither, gt)
    x[gt, b], x[gt, b + 1] = G, T
    x[ag, b - 2], x[ag, b - 1] = A, G
    _nuisance(rng, x, full, drift=0.04, repeats=0.15, poly_a=0.1)
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


def _gen_lncrna(rng: Rng, y: Labels) -> Generated:
    n, lo, hi = y.size, *LITE_LENGTHS["lite_lncrna_orf"]
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
    _implant(rng, x, sorf, _codons(rng, sorf.size, int(rng.integers(20, 41)), _HUMAN_CODONS), lengths, None, False)
    _nuisance(rng, x, lengths)
    return x, lengths


def _gen_mouse_enhancer(rng: Rng, y: Labels) -> Generated:
    n, lo, hi = y.size, *LITE_LENGTHS["lite_mouse_enhancer_soxoct"]
    lengths = _lengths(rng, n, lo, hi)
    x = _background(rng, n, hi, rng.normal(0.42, 0.04, n))
    _deplete_cpg(rng, x, 0.2)  # mouse bulk DNA is CpG-poor
    enh = _subset(rng, _rows(y == 1), 0.9)
    motifs = ("CATTGTT", "ATGCAAAT", "CATTGTTATGCAAAT")  # SOX2, OCT4, SOX2-OCT4 composite
    _scatter_motifs(rng, x, enh, rng.integers(2, 6, enh.size), motifs, lengths, 0.1)
    decoy = _subset(rng, _rows(y == 0), 0.2)
    _scatter_motifs(rng, x, decoy, np.ones(decoy.size, np.int64), motifs[:2], lengths, 0.15)
    _nuisance(rng, x, lengths)
    return x, lengths


def _gen_ctcf(rng: Rng, y: Labels) -> Generated:
    n, lo, hi = y.size, *LITE_LENGTHS["lite_tf_ctcf"]
    lengths = _lengths(rng, n, lo, hi)
    x = _background(rng, n, hi, rng.normal(0.42, 0.04, n))
    _deplete_cpg(rng, x, 0.25)
    # every row gets a core-sized insert; bound rows keep it (90%), the rest get it base-scrambled, so
    # composition is matched and only the motif's order tells the classes apart
    inst = _sample_motif(rng, "CCGCGNGGNGGCAG", n, 0.08)
    scramble = (y == 0) | (rng.random(n) >= 0.9)
    inst[scramble] = _shuffled(rng, inst[scramble])
    _implant(rng, x, np.arange(n, dtype=np.int64), inst, lengths)
    second = _subset(rng, _rows(y == 1), 0.6)  # a second, weaker site in some peaks
    _implant(rng, x, second, _sample_motif(rng, "CCGCGNGGNGGCAG", second.size, 0.15), lengths)
    _nuisance(rng, x, lengths, drift=0.04, repeats=0.15, poly_a=0.1)
    return x, lengths


def _gen_species(rng: Rng, y: Labels) -> Generated:
    n, lo, hi = y.size, *LITE_LENGTHS["lite_species_markov"]
    lengths = _lengths(rng, n, lo, hi)
    vert, yeast, bact = _rows(y == 0), _rows(y == 1), _rows(y == 2)
    x = np.empty((n, hi), dtype=np.uint8)
    # vertebrate-like: GC ~41%, CpG at ~22% of expectation (methylation-driven deamination)
    vert_x = _background(rng, vert.size, hi, rng.normal(0.41, 0.05, vert.size))
    _deplete_cpg(rng, vert_x, 0.22)
    x[vert] = vert_x
    # yeast-like: GC ~38%, no CpG depletion, frequent A/T homopolymer runs
    x[yeast] = _background(rng, yeast.size, hi, rng.normal(0.38, 0.04, yeast.size))
    runs = _subset(rng, yeast, 0.7)
    _scatter_motifs(rng, x, runs, rng.integers(1, 4, runs.size), ("AAAAAAA", "TTTTTTT"), lengths, 0.1)
    # bacteria-like: gene-dense, so mostly coding fragments with E. coli codon usage, GC ~51%
    x[bact] = _background(rng, bact.size, hi, rng.normal(0.51, 0.04, bact.size))
    coding = _subset(rng, bact, 0.85)
    x[coding] = _reading_frames(rng, coding.size, hi, _ECOLI_CODONS, antisense=0.5)
    _nuisance(rng, x, lengths, drift=0.09, repeats=0.8, poly_a=0.4)
    return x, lengths


def _gen_cpg_island(rng: Rng, y: Labels) -> Generated:
    n, lo, hi = y.size, *LITE_LENGTHS["lite_cpg_island"]
    lengths = _lengths(rng, n, lo, hi)
    island = y == 1
    # GC-matched negatives (GC-rich isochores, still CpG-depleted): the CpG o/e ratio is the signal
    x = _background(rng, n, hi, rng.normal(0.55, 0.05, n))
    _deplete_cpg(rng, x, np.where(island, rng.uniform(0.55, 0.9, n), rng.uniform(0.2, 0.45, n)))
    _nuisance(rng, x, lengths, poly_a=0.4)
    return x, lengths


def _phage_tables(rng: Rng) -> tuple[Floats, Floats]:
    """Second-order (trinucleotide) transition tables: a host and a phage modestly perturbed from it."""
    host = rng.dirichlet(np.full(4, 12.0), size=16)
    phage = host * np.exp(0.22 * rng.standard_normal(host.shape))
    return host, phage / phage.sum(axis=1, keepdims=True)


def _gen_phage(rng: Rng, y: Labels) -> Generated:
    n, lo, hi = y.size, *LITE_LENGTHS["lite_phage_host"]
    lengths = _lengths(rng, n, lo, hi)
    host, phage = _phage_tables(rng)
    # 20% of phage fragments are host-ameliorated (long-resident prophages): drawn from the host chain
    like_phage = (y == 1) & (rng.random(n) >= 0.2)
    x = np.where(like_phage[:, None], _markov(rng, n, hi, phage), _markov(rng, n, hi, host)).astype(np.uint8)
    _nuisance(rng, x, lengths)
    return x, lengths


def _gen_coding(rng: Rng, y: Labels) -> Generated:
    n, lo, hi = y.size, *LITE_LENGTHS["lite_coding_codon"]
    lengths = _lengths(rng, n, lo, hi)
    x = _reading_frames(rng, n, hi, _HUMAN_CODONS, antisense=0.5)
    # non-coding: the same bases in random order, so composition is matched exactly per row and only
    # the codon structure (usage, 3-periodicity, no in-frame stops) tells the classes apart
    nc = _rows(y == 0)
    x[nc] = _shuffled(rng, x[nc])
    _nuisance(rng, x, lengths)
    return x, lengths


def _gen_chromatin(rng: Rng, y: Labels) -> Generated:
    n, lo, hi = y.size, *LITE_LENGTHS["lite_chromatin_open"]
    lengths = _lengths(rng, n, lo, hi)
    is_open = y == 1
    x = _background(rng, n, hi, np.where(is_open, rng.normal(0.44, 0.05, n), rng.normal(0.42, 0.05, n)))
    _deplete_cpg(rng, x, np.where(is_open, rng.uniform(0.3, 0.8, n), rng.uniform(0.15, 0.4, n)))
    rows = _rows(is_open)
    motifs = ("CCRCKNGGNGGCAG", "TGASTCA", "GGGCGG", "CCGGAAGT")  # CTCF, AP-1, Sp1, ETS
    _scatter_motifs(rng, x, rows, rng.poisson(2.0, rows.size), motifs, lengths, 0.1)
    # closed: extra tandem repeats and retrotransposon poly(A) in some rows
    closed = _subset(rng, _rows(~is_open), 0.15)
    for unit in ("CA", "AT", "AAT", "AAAT", "A"):
        sel = closed[rng.random(closed.size) < 0.2]
        size = int(rng.integers(24, 37))
        _implant(rng, x, sel, _sample_motif(rng, (unit * size)[:size], sel.size, 0.08), lengths)
    _nuisance(rng, x, lengths)
    return x, lengths


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class _Recipe:
    spec: TaskSpec
    label_names: tuple[str, ...]
    lengths: tuple[int, int]
    make: Callable[[Rng, Labels], Generated]
    n_train: int = 600
    n_test: int = 300
    label_noise: float = 0.03


def _recipe(
    task_id: str,
    category: str,
    description: str,
    label_names: tuple[str, ...],
    lengths: tuple[int, int],
    make: Callable[[Rng, Labels], Generated],
    **kw: int | float,
) -> _Recipe:
    spec = TaskSpec(task_id, category, SOURCE, description, len(label_names))
    return _Recipe(spec, label_names, lengths, make, **kw)  # type: ignore[arg-type]


_RECIPES: tuple[_Recipe, ...] = (
    _recipe("lite_histone_h3_occupancy", "Histone Mod.",
            "Nucleosome occupancy: ~10-bp periodic AA/TT/TA and GC dinucleotides vs nucleosome-excluding poly(dA:dT) tracts.",
            ("nucleosome_depleted", "nucleosome_occupied"), (150, 250), _gen_histone),
    _recipe("lite_promoter_tata", "Promoters",
            "Core promoters: a TATA box ~31 bp upstream and an Inr element at the TSS in a GC-richer upstream region.",
            ("non_promoter", "promoter"), (150, 150), _gen_promoter_tata),
    _recipe("lite_promoter_cpg", "Promoters",
            "CpG-island promoters (high CpG o/e with GC-box, NRF1, ETS and CCAAT sites) vs GC-matched CpG-depleted DNA.",
            ("non_promoter", "promoter"), (200, 300), _gen_promoter_cpg),
    _recipe("lite_enhancer_tf_cluster", "Enhancers",
            "Enhancers as clusters of AP-1, E-box, GATA, ETS, C/EBP and RUNX sites vs sparse chance occurrences.",
            ("background", "enhancer"), (150, 250), _gen_enhancer),
    _recipe("lite_6ma_context", "DNA Methyl.",
            "N6-methyladenine: 41-nt windows centred on an A with GATC/GAGG context and AG-rich flanks vs random context.",
            ("unmethylated", "methylated"), (41, 41), _gen_6ma, n_train=800, n_test=400),
    _recipe("lite_splice_sites", "Splice Sites",
            "Splice junctions: MAG|GTRAGT donors, branch point + polypyrimidine tract + CAG|G acceptors, decoy GT/AG.",
            ("neither", "donor", "acceptor"), (140, 140), _gen_splice, n_train=720, n_test=360, label_noise=0.02),
    _recipe("lite_lncrna_orf", "lncRNA",
            "lncRNA vs mRNA: mRNAs carry a long stop-free codon-biased ORF, lncRNAs only short ORFs and frequent stops.",
            ("mRNA", "lncRNA"), (200, 300), _gen_lncrna),
    _recipe("lite_mouse_enhancer_soxoct", "Mouse Enh.",
            "Mouse ES-cell enhancers: SOX (CATTGTT), OCT (ATGCAAAT) and composite SOX-OCT sites in CpG-poor DNA.",
            ("background", "enhancer"), (150, 250), _gen_mouse_enhancer),
    _recipe("lite_tf_ctcf", "TF Binding",
            "CTCF binding: a mutated CTCF core (CCRCKNGGNGGCAG) vs the same bases scrambled, in CpG-depleted DNA.",
            ("background", "ctcf_bound"), (80, 120), _gen_ctcf),
    _recipe("lite_species_markov", "Species Clf.",
            "Genome of origin from composition: CpG-depleted vertebrate, A/T-run-rich yeast, codon-periodic bacterial DNA.",
            ("vertebrate_like", "yeast_like", "bacteria_like"), (100, 200), _gen_species, n_train=720, n_test=360),
    _recipe("lite_cpg_island", "Regulatory",
            "CpG islands (GC > 50%, CpG o/e > 0.6) vs CpG-depleted bulk DNA including GC-rich isochores.",
            ("bulk_genome", "cpg_island"), (200, 300), _gen_cpg_island),
    _recipe("lite_phage_host", "Virus/Phage",
            "Phage vs bacterial-host fragments differing modestly in trinucleotide usage; some prophages are ameliorated.",
            ("bacterial_host", "phage"), (200, 300), _gen_phage),
    _recipe("lite_coding_codon", "Coding/NC",
            "Coding vs non-coding: 3-periodic codon-position composition (purine-first, GC3) in a stop-free frame.",
            ("noncoding", "coding"), (150, 250), _gen_coding),
    _recipe("lite_chromatin_open", "Chromatin Acc.",
            "Open chromatin (GC, CpG, CTCF/AP-1/SP1/ETS sites) vs closed AT-rich DNA with tandem repeats and poly(A).",
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
    x, lengths = recipe.make(rng, y)
    observed = np.concatenate([_label_noise(rng, y[: recipe.n_train], recipe.label_noise),
                               _label_noise(rng, y[recipe.n_train :], recipe.label_noise)])
    seqs = _decode(x, lengths)
    k = recipe.n_train
    return TaskData(
        spec=recipe.spec,
        train_sequences=seqs[:k],
        train_labels=observed[:k],
        test_sequences=seqs[k:],
        test_labels=observed[k:],
        label_names=recipe.label_names,
        revision=LITE_VERSION,
    )


@functools.lru_cache(maxsize=None)
def load_lite_task(task_id: str) -> TaskData:
    """The lite task ``task_id``, generated once per process (deterministic, so caching is safe)."""
    return _generate(task_id)
