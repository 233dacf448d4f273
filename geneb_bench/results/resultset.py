"""A set of results read once, checked to belong in one table: what every table, figure and report reads.

``geneb report``, the end-of-run tables, the release gate, the HTML report, comparisons and submissions all
start from a ``ResultSet``, so a directory is read once per command and every consumer sees the same
check: results measured differently (``results.provenance``) are refused before any number is shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from geneb_bench.io import results_root
from geneb_bench.results.provenance import check_table
from geneb_bench.results.record import ItemResult, read_result

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Problem:
    """An item of a run that produced no result: skipped (model or task unavailable) or failed."""

    item: str
    kind: str  # "skipped" or "failed"
    message: str


class ResultSet:
    def __init__(self, entries: Sequence[tuple[ItemResult, Path]], problems: Sequence[Problem] = ()) -> None:
        check_table(entries)
        self.entries = list(entries)
        self.problems = list(problems)

    @classmethod
    def from_paths(cls, paths: Iterable[Path | str], problems: Sequence[Problem] = ()) -> ResultSet:
        """The results in ``paths`` (each read once, sorted, duplicates dropped)."""
        unique = sorted({Path(p) for p in paths})
        return cls([(read_result(p), p) for p in unique], problems)

    @classmethod
    def load(cls, directory: Path | str) -> ResultSet:
        """Every result file under ``directory`` (or its ``results/`` folder)."""
        return cls.from_paths(results_root(Path(directory)).rglob("*.json"))

    @property
    def results(self) -> list[ItemResult]:
        return [result for result, _ in self.entries]

    def __iter__(self) -> Iterator[ItemResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.entries)

    @cached_property
    def frame(self) -> pd.DataFrame:
        """One row per (model, task, regime): seed means and stds (``aggregate.tidy``)."""
        from geneb_bench.results.aggregate import tidy

        return tidy(self.results)
