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
from geneb_bench.results.provenance import IncompatibleResults, check_table
from geneb_bench.results.record import ItemResult, read_result, scope_name, shown_apart

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Problem:
    """An item of a run that produced no result: skipped (model or task unavailable) or failed."""

    item: str
    kind: str  # "skipped" or "failed"
    message: str


def _scope(result: ItemResult) -> str:
    return scope_name(result.suite, result.protocol) or "(no suite recorded)"


class ResultSet:
    def __init__(self, entries: Sequence[tuple[ItemResult, Path]], problems: Sequence[Problem] = ()) -> None:
        entries = shown_apart(entries)  # one slot, two identities: two rows, never one
        check_table(entries)
        self.entries = list(entries)
        self.problems = list(problems)

    @classmethod
    def from_paths(cls, paths: Iterable[Path | str], problems: Sequence[Problem] = ()) -> ResultSet:
        """The results in ``paths`` (each read once, sorted, duplicates dropped)."""
        unique = sorted({Path(p) for p in paths})
        return cls([(read_result(p), p) for p in unique], problems)

    @classmethod
    def load(cls, directory: Path | str, suite: str | None = None) -> ResultSet:
        """The result files under ``directory`` (or its ``results/`` folder) of one suite (or variant).

        ``suite``: a suite name (its protocol results) or a folder name like ``lite+seeds=1,2,3``; None
        means "the only one there", and a directory holding several is refused, naming them.
        """
        paths = sorted(set(results_root(Path(directory)).rglob("*.json")))
        return cls.of_suite([(read_result(p), p) for p in paths], directory, suite)

    @classmethod
    def of_suite(
        cls, entries: Sequence[tuple[ItemResult, Path]], directory: Path | str, suite: str | None = None
    ) -> ResultSet:
        """``entries`` (read from ``directory``) of one suite or variant, chosen as :meth:`load` does."""
        scopes = sorted({_scope(r) for r, _ in entries})
        if suite is not None:
            wanted = {suite, scope_name(suite)}
            chosen = [(r, p) for r, p in entries if _scope(r) in wanted]
            if entries and not chosen:
                raise ValueError(
                    f"no results of suite {suite!r} under {directory}; there: {', '.join(scopes)}"
                )
            entries = chosen
        elif len(scopes) > 1:
            raise IncompatibleResults(
                f"{directory} holds results of {len(scopes)} suites or protocol variants ({', '.join(scopes)}); "
                "they are never averaged into one table (their tasks, categories or protocol differ): "
                "choose one with --suite NAME"
            )
        return cls(entries)

    @staticmethod
    def suites(directory: Path | str) -> list[str]:
        """The suites (and protocol variants) with results under ``directory``, as ``--suite`` accepts them."""
        paths = results_root(Path(directory)).rglob("*.json")
        return sorted({_scope(read_result(p)) for p in paths})

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
