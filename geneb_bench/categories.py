"""The 13 GENEB functional categories: names as the paper prints them, slugs for ids, markers and paths.

Fixed here and nowhere else, so task ids, pytest markers and report columns never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    name: str  # as in the GENEB leaderboard columns, e.g. "Mouse Enh."
    slug: str  # pytest marker and ``-k`` keyword, e.g. "mouse_enhancers"
    geneb_tasks: int  # number of tasks in the published 100-task suite


CATEGORIES: tuple[Category, ...] = (
    Category("Histone Mod.", "histone_modification", 30),
    Category("Promoters", "promoters", 22),
    Category("Enhancers", "enhancers", 8),
    Category("DNA Methyl.", "dna_methylation", 8),
    Category("Splice Sites", "splice_sites", 7),
    Category("lncRNA", "lncrna", 6),
    Category("Mouse Enh.", "mouse_enhancers", 5),
    Category("TF Binding", "tf_binding", 5),
    Category("Species Clf.", "species_classification", 3),
    Category("Regulatory", "regulatory", 2),
    Category("Virus/Phage", "virus_phage", 2),
    Category("Coding/NC", "coding_noncoding", 1),
    Category("Chromatin Acc.", "chromatin_accessibility", 1),
)

CATEGORY_NAMES: tuple[str, ...] = tuple(c.name for c in CATEGORIES)
_BY_KEY: dict[str, Category] = {c.name.lower(): c for c in CATEGORIES} | {c.slug: c for c in CATEGORIES}


def get_category(name_or_slug: str) -> Category:
    """Look a category up by its GENEB name or its slug (case-insensitive)."""
    try:
        return _BY_KEY[name_or_slug.strip().lower()]
    except KeyError:
        known = ", ".join(f"{c.name!r} ({c.slug})" for c in CATEGORIES)
        raise ValueError(f"unknown GENEB category {name_or_slug!r}; known: {known}") from None
