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

from geneb_bench.data.lite.generators import (
    Generated,
    gen_6ma,
    gen_chromatin,
    gen_coding,
    gen_cpg_island,
    gen_ctcf,
    gen_enhancer,
    gen_histone,
    gen_lncrna,
    gen_mouse_enhancer,
    gen_phage,
    gen_promoter_cpg,
    gen_promoter_tata,
    gen_species,
    gen_splice,
)
from geneb_bench.data.lite.primitives import ASCII, Codes, Ints, Rng, rows_where
from geneb_bench.data.task import Labels, TaskData, TaskSpec

LITE_VERSION = "lite-1"
SOURCE = "geneb-bench lite (synthetic)"


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
            ("nucleosome_depleted", "nucleosome_occupied"), (150, 250), gen_histone),
    _recipe("lite_promoter_tata", "Promoters",
            "TATA promoters: TATA box at -31, Inr at the TSS, BRE, DPE and upstream CCAAT/GC-box/CRE sites vs background.",
            ("non_promoter", "promoter"), (150, 150), gen_promoter_tata),
    _recipe("lite_promoter_cpg", "Promoters",
            "CpG-island promoters: high CpG o/e with GC-box, NRF1, ETS and CCAAT sites vs GC-matched CpG-depleted DNA.",
            ("non_promoter", "promoter"), (200, 300), gen_promoter_cpg),
    _recipe("lite_enhancer_tf_cluster", "Enhancers",
            "Enhancers as homotypic clusters of AP-1, E-box, GATA, ETS, C/EBP or RUNX sites vs sparse chance sites.",
            ("background", "enhancer"), (150, 250), gen_enhancer),
    _recipe("lite_6ma_context", "DNA Methyl.",
            "N6-methyladenine: 41-nt windows centred on an A with GATC/GAGG context and AG-rich flanks vs random context.",
            ("unmethylated", "methylated"), (41, 41), gen_6ma),
    _recipe("lite_splice_sites", "Splice Sites",
            "Splice junctions: MAG|GTRAGT donors, branch point + polypyrimidine tract + YAG|G acceptors, decoy GT/AG.",
            ("neither", "donor", "acceptor"), (140, 140), gen_splice, n_train=810, n_test=405, label_noise=0.02),
    _recipe("lite_lncrna_orf", "lncRNA",
            "mRNA vs lncRNA: a long stop-free ORF with human codon usage vs composition-matched sequence with short ORFs.",
            ("mRNA", "lncRNA"), (200, 300), gen_lncrna),
    _recipe("lite_mouse_enhancer_soxoct", "Mouse Enh.",
            "Mouse ES-cell enhancers: SOX (CATTGTT), OCT (ATGCAAAT) and composite SOX-OCT sites in CpG-poor DNA.",
            ("background", "enhancer"), (150, 250), gen_mouse_enhancer),
    _recipe("lite_tf_ctcf", "TF Binding",
            "CTCF binding: mutated CTCF cores (CCGCGNGGNGGCAG) vs the same bases scrambled, in CpG-depleted DNA.",
            ("background", "ctcf_bound"), (80, 120), gen_ctcf),
    _recipe("lite_species_composition", "Species Clf.",
            "Genome of origin from composition: CpG-depleted vertebrate, A/T-run-rich yeast, E. coli-codon bacterial DNA.",
            ("vertebrate_like", "yeast_like", "bacteria_like"), (100, 200), gen_species, n_train=810, n_test=405),
    _recipe("lite_cpg_island", "Regulatory",
            "CpG islands (CpG o/e 0.6-0.95) vs GC-matched CpG-depleted bulk DNA (o/e 0.15-0.35).",
            ("bulk_genome", "cpg_island"), (200, 300), gen_cpg_island),
    _recipe("lite_phage_host", "Virus/Phage",
            "Phage vs bacterial-host fragments differing modestly in trinucleotide usage; some prophages are ameliorated.",
            ("bacterial_host", "phage"), (200, 300), gen_phage),
    _recipe("lite_coding_codon", "Coding/NC",
            "Coding vs non-coding: human codon usage in a stop-free 3-periodic frame vs the same bases shuffled.",
            ("noncoding", "coding"), (150, 250), gen_coding),
    _recipe("lite_chromatin_open", "Chromatin Acc.",
            "Open chromatin (CpG, dense CTCF/AP-1/Sp1/ETS sites) vs GC-matched closed DNA with extra repeats and poly(A).",
            ("closed", "open"), (200, 300), gen_chromatin),
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
    chosen = rows_where(rng.random(y.size) < rate * len(np.unique(y)) / max(len(np.unique(y)) - 1, 1))
    out = y.copy()
    out[chosen] = y[rng.permutation(chosen)]
    return out


def _decode(x: Codes, lengths: Ints) -> tuple[str, ...]:
    chars = ASCII[x]
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
