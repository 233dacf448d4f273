"""The lite suite's task generators, one per task: each plants a documented biological signal (see the
table in ``geneb_bench.data.lite``) from the true labels into a noisy background.

Each takes (rng, true labels, min length, max length) and returns (codes padded to the max length, per-row
lengths). Signals are planted from the true labels; label noise comes later.
"""

from __future__ import annotations

import numpy as np

from geneb_bench.data.lite.primitives import (
    A,
    C,
    Codes,
    Floats,
    G,
    Ints,
    Rng,
    T,
    background,
    codons,
    deplete_cpg,
    implant,
    markov,
    match_gc,
    nuisance,
    random_lengths,
    revcomp,
    rows_where,
    sample_motif,
    scatter_motifs,
    subset,
)
from geneb_bench.data.task import Labels

Generated = tuple[Codes, Ints]


def fixed_starts(rows: Ints, start: int | Ints) -> Ints:
    """Fixed start positions for ``rows`` (for signals tied to a TSS, splice junction or centre)."""
    return np.broadcast_to(np.asarray(start, dtype=np.int64), rows.shape).copy()


def gen_histone(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n = y.size
    lengths = random_lengths(rng, n, lo, hi)
    occupied = y == 1
    x = background(rng, n, hi, rng.normal(0.39, 0.03, n) + 0.02 * occupied)
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
        (rows_where(~occupied), 10, 0.35),
        (rows_where(~occupied), 8, 0.35),
        (rows_where(occupied), 7, 0.15),
    ):
        sel = subset(rng, rows, frac)
        implant(rng, x, sel, sample_motif(rng, "A" * tract, sel.size, 0.1), lengths)
    nuisance(rng, x, lengths, repeats=1.0, poly_a=0.0)  # poly(A) is this task's signal, not noise
    return x, lengths


def gen_promoter_tata(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n, length = y.size, hi
    tss = 100  # window -100..+49 around the transcription start site
    full = np.full(n, length, dtype=np.int64)
    gc = rng.normal(0.48, 0.04, n)
    x = background(rng, n, length, gc)
    prom = rows_where(y == 1)
    x[prom, :tss] = background(rng, prom.size, tss, gc[prom] + 0.04)  # GC-richer upstream
    elements = (  # (IUPAC, fraction of promoters, start relative to the TSS, jitter)
        ("TATAWAWR", 0.8, -31, 3),  # TATA box
        ("SSRCGCC", 0.25, -38, 3),  # TFIIB recognition element, just upstream of TATA
        ("YYANWYY", 0.7, -2, 0),  # initiator, A at +1
        ("RGWYV", 0.3, 28, 0),  # downstream promoter element
        ("CCAAT", 0.45, -80, 15),  # CCAAT box (NF-Y)
        ("GGGCGG", 0.35, -60, 10),  # GC box (Sp1)
    )
    for motif, frac, start, jitter in elements:
        sel = subset(rng, prom, frac)
        pos = tss + start + rng.integers(-jitter, jitter + 1, sel.size)
        implant(rng, x, sel, sample_motif(rng, motif, sel.size, 0.06), full, pos, both_strands=False)
    # further upstream activator sites (Sp1, NF-Y, CREB) anywhere in -100..-40
    scatter_motifs(
        rng, x, prom, rng.poisson(2.5, prom.size), ("GGGCGG", "CCAAT", "TGACGTCA"), np.full(n, 60), 0.1
    )
    decoy = subset(rng, rows_where(y == 0), 0.15)  # AT-rich TATA-like words occur in any genomic DNA
    implant(rng, x, decoy, sample_motif(rng, "TATAWAWR", decoy.size, 0.15), full)
    match_gc(rng, x, full, y)  # the GC-richer upstream stays: the rest of the window pays for it
    nuisance(rng, x, full, drift=0.04, repeats=0.3, poly_a=0.2)
    return x, full


def gen_promoter_cpg(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n = y.size
    lengths = random_lengths(rng, n, lo, hi)
    prom = y == 1
    x = background(rng, n, hi, rng.normal(0.55, 0.05, n))  # GC-matched negatives
    deplete_cpg(rng, x, np.where(prom, rng.uniform(0.55, 0.9, n), rng.uniform(0.15, 0.4, n)))
    rows = rows_where(prom)
    motifs = ("GGGCGG", "GCGCATGCGC", "CCGGAAGT", "CCAAT")  # Sp1 GC box, NRF1, ETS/GABPA, NF-Y
    scatter_motifs(rng, x, rows, rng.poisson(1.2, rows.size), motifs, lengths, 0.1)
    match_gc(rng, x, lengths, y)
    nuisance(rng, x, lengths, repeats=0.6, poly_a=0.5)
    return x, lengths


def gen_enhancer(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n = y.size
    lengths = random_lengths(rng, n, lo, hi)
    x = background(rng, n, hi, rng.normal(0.42, 0.04, n))
    # AP-1, E-box (bHLH), GATA, ETS, C/EBP, RUNX
    motifs = ("TGASTCA", "CACGTG", "WGATAR", "ACCGGAAGT", "TTGCGCAA", "TGTGGTT")
    # enhancers: homotypic clusters of two factors' sites; background: sparse chance sites of any factor
    enh = rows_where(y == 1)
    pair = np.stack([rng.integers(0, len(motifs), enh.size), rng.integers(0, len(motifs), enh.size)], axis=1)
    counts = rng.poisson(4.5, enh.size) + 1
    owners = np.repeat(enh, counts)
    which = pair[np.repeat(np.arange(enh.size), counts), rng.integers(0, 2, owners.size)]
    for j, motif in enumerate(motifs):
        sel = owners[which == j]
        implant(rng, x, sel, sample_motif(rng, motif, sel.size, 0.1), lengths)
    bg = rows_where(y == 0)
    scatter_motifs(rng, x, bg, rng.poisson(0.7, bg.size), motifs, lengths, 0.1)
    match_gc(rng, x, lengths, y)
    nuisance(rng, x, lengths, drift=0.03, repeats=0.1, poly_a=0.1)
    return x, lengths


def gen_6ma(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n, length = y.size, hi
    centre = length // 2
    full = np.full(n, length, dtype=np.int64)
    x = background(rng, n, length, rng.normal(0.45, 0.04, n))
    methylated = y == 1
    # AG-rich flanks (+-10 nt) around methylated adenines
    flank = np.zeros((n, length), dtype=bool)
    flank[:, centre - 10 : centre + 11] = True
    r, c = np.nonzero(flank & methylated[:, None] & (rng.random((n, length)) < 0.25))
    x[r, c] = np.array([A, G], dtype=np.uint8)[rng.integers(0, 2, r.size)]
    # context motifs with the methylated A at the centre: GATC (Dam-like) and GAGG
    kind = rng.random(n)
    for motif, rows in (
        ("GATC", rows_where(methylated & (kind < 0.55))),
        ("GAGG", rows_where(methylated & (kind >= 0.55) & (kind < 0.9))),
        ("GATC", rows_where(~methylated & (kind < 0.08))),  # unmethylated GATC/GAGG sites exist too
        ("GAGG", rows_where(~methylated & (kind >= 0.08) & (kind < 0.14))),
    ):
        inst = sample_motif(rng, motif, rows.size, 0.05)
        implant(rng, x, rows, inst, full, fixed_starts(rows, centre - 1), both_strands=False)
    match_gc(rng, x, full, y)
    nuisance(rng, x, full, drift=0.05, repeats=0.15, poly_a=0.1)
    x[:, centre] = A
    return x, full


def gen_splice(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n, length = y.size, hi
    b = length // 2  # exon/intron boundary between bases b-1 and b
    full = np.full(n, length, dtype=np.int64)
    exon_gc, intron_gc = rng.normal(0.52, 0.04, n), rng.normal(0.39, 0.04, n)
    neither, donor, acceptor = rows_where(y == 0), rows_where(y == 1), rows_where(y == 2)
    x = background(rng, n, length, rng.normal(0.45, 0.04, n))
    x[donor, :b] = background(rng, donor.size, b, exon_gc[donor])
    x[donor, b:] = background(rng, donor.size, length - b, intron_gc[donor])
    x[acceptor, :b] = background(rng, acceptor.size, b, intron_gc[acceptor])
    x[acceptor, b:] = background(rng, acceptor.size, length - b, exon_gc[acceptor])
    # donor: MAG|GTRAGT with the GT invariant
    implant(
        rng,
        x,
        donor,
        sample_motif(rng, "MAGGTRAGT", donor.size, 0.05),
        full,
        fixed_starts(donor, b - 3),
        False,
    )
    # acceptor: branch point YTNAY 22-40 nt upstream, polypyrimidine tract, then YAG|G with the AG invariant
    bp = subset(rng, acceptor, 0.7)
    pos = b - rng.integers(26, 41, bp.size)
    implant(rng, x, bp, sample_motif(rng, "YTNAY", bp.size, 0.1), full, pos, both_strands=False)
    strength = rng.uniform(0.6, 0.95, acceptor.size)[:, None]
    tract = rng.random((acceptor.size, 18)) < strength
    pyrimidines = np.array([C, T, T], dtype=np.uint8)[rng.integers(0, 3, tract.shape)]
    x[acceptor, b - 21 : b - 3] = np.where(tract, pyrimidines, x[acceptor, b - 21 : b - 3])
    implant(
        rng,
        x,
        acceptor,
        sample_motif(rng, "YAGG", acceptor.size, 0.1),
        full,
        fixed_starts(acceptor, b - 3),
        False,
    )
    nuisance(rng, x, full, drift=0.05)
    # the invariant GT and AG, set last so no noise touches them; negatives get a decoy GT or AG there
    gt = np.union1d(donor, neither[rng.random(neither.size) < 0.5])
    ag = np.union1d(acceptor, np.setdiff1d(neither, gt))
    x[gt, b], x[gt, b + 1] = G, T
    x[ag, b - 2], x[ag, b - 1] = A, G
    return x, full


def codon_probs(usage_tcag: tuple[float, ...]) -> Floats:
    """Sense-codon probabilities indexed ACGT-major (16*b1 + 4*b2 + b3) from a TCAG-ordered usage table."""
    tcag = (T, C, A, G)
    w = np.zeros(64)
    for i, usage in enumerate(usage_tcag):
        w[16 * tcag[i // 16] + 4 * tcag[(i // 4) % 4] + tcag[i % 4]] = usage
    for b1, b2, b3 in ((T, A, A), (T, A, G), (T, G, A)):
        w[16 * b1 + 4 * b2 + b3] = 0.0  # stop-free reading frame
    return np.asarray(w / w.sum(), dtype=np.float64)


# Codon usage per thousand codons (Kazusa codon usage database), rows TCAG x TCAG x TCAG as printed there.
HUMAN_CODONS = codon_probs((
    17.6, 20.3, 7.7, 12.9, 15.2, 17.7, 12.2, 4.4, 12.2, 15.3, 1.0, 0.8, 10.6, 12.6, 1.6, 13.2,
    13.2, 19.6, 7.2, 39.6, 17.5, 19.8, 16.9, 6.9, 10.9, 15.1, 12.3, 34.2, 4.5, 10.4, 6.2, 11.4,
    16.0, 20.8, 7.5, 22.0, 13.1, 18.9, 15.1, 6.1, 17.0, 19.1, 24.4, 31.9, 12.1, 19.5, 12.2, 12.0,
    11.0, 14.5, 7.1, 28.1, 18.4, 27.7, 15.8, 7.4, 21.8, 25.1, 29.0, 39.6, 10.8, 22.2, 16.5, 16.5,
))  # fmt: skip
ECOLI_CODONS = codon_probs((
    22.1, 16.6, 13.8, 13.7, 8.4, 8.6, 7.1, 8.9, 16.1, 12.2, 2.0, 0.2, 5.1, 6.4, 0.9, 15.3,
    11.0, 11.0, 3.9, 52.6, 7.0, 5.5, 8.4, 23.2, 12.9, 9.7, 15.3, 28.9, 20.9, 22.0, 3.6, 5.4,
    30.3, 25.0, 4.4, 27.8, 9.0, 23.4, 7.1, 14.4, 17.7, 21.6, 33.6, 10.3, 8.8, 16.1, 2.1, 1.2,
    18.3, 15.3, 10.9, 26.4, 15.3, 25.5, 20.3, 33.7, 32.1, 19.1, 39.6, 17.8, 24.7, 29.6, 8.0, 11.1,
))  # fmt: skip


def reading_frames(rng: Rng, n: int, length: int, table: Floats, antisense: float) -> Codes:
    """Stop-free coding fragments: random frame offset, a fraction read from the other strand."""
    x = codons(rng, n, length // 3 + 2, table)
    x = np.take_along_axis(x, rng.integers(0, 3, n)[:, None] + np.arange(length)[None, :], axis=1)
    flip = rng.random(n) < antisense
    x[flip] = revcomp(x[flip])
    return x


def shuffled(rng: Rng, x: Codes) -> Codes:
    """Each row's bases in random order: same composition, no order (the usual null in coding-potential work)."""
    return np.take_along_axis(x, np.argsort(rng.random(x.shape), axis=1), axis=1)


def gen_lncrna(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n = y.size
    lengths = random_lengths(rng, n, lo, hi)
    cds = reading_frames(rng, n, hi, HUMAN_CODONS, antisense=0.0)  # transcripts are stranded
    x = shuffled(rng, cds)  # transcript background with coding-like composition, stops at chance rate
    # mRNA: a long stop-free ORF covering 60-100% of the window, the rest UTR
    mrna, lnc = rows_where(y == 0), rows_where(y == 1)
    cover = rng.uniform(0.6, 1.0, mrna.size)
    start = (rng.random(mrna.size) * (1 - cover) * lengths[mrna]).astype(np.int64)
    col = np.arange(hi)[None, :]
    in_cds = (col >= start[:, None]) & (col < (start + (cover * lengths[mrna]).astype(np.int64))[:, None])
    shifted = np.take_along_axis(cds[mrna], np.clip(col - start[:, None], 0, hi - 1), axis=1)
    x[mrna] = np.where(in_cds, shifted, x[mrna])
    # lncRNA: 30% carry a short ORF (20-40 codons) with the same codon usage
    sorf = subset(rng, lnc, 0.3)
    implant(
        rng, x, sorf, codons(rng, sorf.size, int(rng.integers(20, 41)), HUMAN_CODONS), lengths, None, False
    )
    match_gc(rng, x, lengths, y)
    nuisance(rng, x, lengths)
    return x, lengths


def gen_mouse_enhancer(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n = y.size
    lengths = random_lengths(rng, n, lo, hi)
    x = background(rng, n, hi, rng.normal(0.42, 0.04, n))
    deplete_cpg(rng, x, 0.2)  # mouse bulk DNA is CpG-poor
    enh = subset(rng, rows_where(y == 1), 0.9)
    motifs = ("CATTGTT", "ATGCAAAT", "CATTGTTATGCAAAT")  # SOX2, OCT4, SOX2-OCT4 composite
    scatter_motifs(rng, x, enh, rng.integers(2, 6, enh.size), motifs, lengths, 0.1)
    decoy = subset(rng, rows_where(y == 0), 0.2)
    scatter_motifs(rng, x, decoy, np.ones(decoy.size, np.int64), motifs[:2], lengths, 0.15)
    match_gc(rng, x, lengths, y)
    nuisance(rng, x, lengths, drift=0.05, repeats=0.3, poly_a=0.2)
    return x, lengths


def gen_ctcf(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n = y.size
    lengths = random_lengths(rng, n, lo, hi)
    x = background(rng, n, hi, rng.normal(0.42, 0.04, n))
    deplete_cpg(rng, x, 0.25)
    # every row gets a core-sized insert; bound rows keep it (90%), the rest get it base-scrambled, so
    # composition is matched and only the motif's order tells the classes apart
    inst = sample_motif(rng, "CCGCGNGGNGGCAG", n, 0.08)
    scramble = (y == 0) | (rng.random(n) >= 0.9)
    inst[scramble] = shuffled(rng, inst[scramble])
    implant(rng, x, np.arange(n, dtype=np.int64), inst, lengths)
    # a second, weaker site in 60% of rows (scrambled again in unbound ones)
    second = subset(rng, np.arange(n, dtype=np.int64), 0.6)
    inst = sample_motif(rng, "CCGCGNGGNGGCAG", second.size, 0.15)
    unbound = y[second] == 0
    inst[unbound] = shuffled(rng, inst[unbound])
    implant(rng, x, second, inst, lengths)
    match_gc(rng, x, lengths, y)
    nuisance(rng, x, lengths, drift=0.04, repeats=0.15, poly_a=0.1)
    return x, lengths


def gen_species(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n = y.size
    lengths = random_lengths(rng, n, lo, hi)
    vert, yeast, bact = rows_where(y == 0), rows_where(y == 1), rows_where(y == 2)
    x = np.empty((n, hi), dtype=np.uint8)
    # vertebrate-like: GC ~41%, CpG at ~22% of expectation (methylation-driven deamination)
    vert_x = background(rng, vert.size, hi, rng.normal(0.41, 0.05, vert.size))
    deplete_cpg(rng, vert_x, 0.22)
    x[vert] = vert_x
    # yeast-like: GC ~38%, no CpG depletion, frequent A/T homopolymer runs
    x[yeast] = background(rng, yeast.size, hi, rng.normal(0.38, 0.04, yeast.size))
    runs = subset(rng, yeast, 0.8)
    scatter_motifs(rng, x, runs, rng.integers(1, 4, runs.size), ("AAAAAAA", "TTTTTTT"), lengths, 0.1)
    # bacteria-like: gene-dense, so mostly coding fragments with E. coli codon usage, GC ~51%
    x[bact] = background(rng, bact.size, hi, rng.normal(0.51, 0.04, bact.size))
    coding = subset(rng, bact, 0.85)
    x[coding] = reading_frames(rng, coding.size, hi, ECOLI_CODONS, antisense=0.5)
    match_gc(rng, x, lengths, y)  # GC alone would be too easy: the k-mer texture has to do it
    nuisance(rng, x, lengths, drift=0.05, repeats=0.5, poly_a=0.0)  # A/T runs are the yeast signal
    return x, lengths


def gen_cpg_island(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n = y.size
    lengths = random_lengths(rng, n, lo, hi)
    island = y == 1
    # GC-matched negatives (GC-rich isochores, still CpG-depleted): the CpG o/e ratio is the signal
    x = background(rng, n, hi, rng.normal(0.55, 0.05, n))
    deplete_cpg(rng, x, np.where(island, rng.uniform(0.6, 0.95, n), rng.uniform(0.15, 0.35, n)))
    match_gc(rng, x, lengths, y)
    nuisance(rng, x, lengths, poly_a=0.4)
    return x, lengths


def phage_tables(rng: Rng) -> tuple[Floats, Floats]:
    """Second-order (trinucleotide) transition tables: a host and a phage modestly perturbed from it."""
    host = rng.dirichlet(np.full(4, 12.0), size=16)
    phage = host * np.exp(0.22 * rng.standard_normal(host.shape))
    return host, phage / phage.sum(axis=1, keepdims=True)


def gen_phage(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n = y.size
    lengths = random_lengths(rng, n, lo, hi)
    host, phage = phage_tables(rng)
    # 20% of phage fragments are host-ameliorated (long-resident prophages): drawn from the host chain
    like_phage = (y == 1) & (rng.random(n) >= 0.2)
    x = np.where(like_phage[:, None], markov(rng, n, hi, phage), markov(rng, n, hi, host)).astype(np.uint8)
    match_gc(rng, x, lengths, y)
    nuisance(rng, x, lengths)
    return x, lengths


def gen_coding(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n = y.size
    lengths = random_lengths(rng, n, lo, hi)
    x = reading_frames(rng, n, hi, HUMAN_CODONS, antisense=0.5)
    # non-coding: the same bases in random order, so composition is matched exactly per row and only
    # the codon structure (usage, 3-periodicity, no in-frame stops) tells the classes apart
    nc = rows_where(y == 0)
    x[nc] = shuffled(rng, x[nc])
    match_gc(rng, x, lengths, y)
    nuisance(rng, x, lengths)
    return x, lengths


def gen_chromatin(rng: Rng, y: Labels, lo: int, hi: int) -> Generated:
    n = y.size
    lengths = random_lengths(rng, n, lo, hi)
    is_open = y == 1
    x = background(rng, n, hi, rng.normal(0.43, 0.05, n))  # GC-matched, as DNase-seq negative sets are
    deplete_cpg(rng, x, np.where(is_open, rng.uniform(0.45, 0.8, n), rng.uniform(0.15, 0.35, n)))
    rows = rows_where(is_open)
    motifs = ("CCRCKNGGNGGCAG", "TGASTCA", "GGGCGG", "CCGGAAGT")  # CTCF, AP-1, Sp1, ETS
    scatter_motifs(rng, x, rows, rng.poisson(4.0, rows.size), motifs, lengths, 0.1)
    # closed: extra tandem repeats and retrotransposon poly(A) in some rows
    closed = subset(rng, rows_where(~is_open), 0.15)
    for unit in ("CA", "AT", "AAT", "AAAT", "A"):
        sel = closed[rng.random(closed.size) < 0.2]
        size = int(rng.integers(24, 37))
        implant(rng, x, sel, sample_motif(rng, (unit * size)[:size], sel.size, 0.08), lengths)
    match_gc(rng, x, lengths, y)
    nuisance(rng, x, lengths)
    return x, lengths
