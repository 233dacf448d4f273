"""A set of results read once, checked to belong in one table: what every table, figure and report reads.

``geneb report``, the end-of-run tables, the release gate, the HTML report, comparisons and submissions all
start from a ``ResultSet``, so a directory is read once per command and every consumer sees the same
check: results measured differently (``results.provenance``) are refused before any number is shown.

It is also what a notebook holds (``geneb_bench.run`` returns one): its repr is the leaderboard, and
``leaderboard``, ``compare_published``, ``per_task`` and ``report`` give the numbers ``geneb report`` prints
(same functions, so the same numbers).
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

    from geneb_bench.reports.matched import MatchedComparison


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

    @property
    def directory(self) -> Path:
        """The results directory these files were written under (``DIR/results/<scope>/<model>/<task>/...``)."""
        roots = set()
        for result, path in self.entries:
            root = Path(path).parents[3 if scope_name(result.suite, result.protocol) else 2]
            roots.add(root.parent if root.name == "results" else root)
        if len(roots) != 1:
            raise ValueError(f"these results are not from one directory: {sorted(map(str, roots)) or 'none'}")
        return roots.pop()

    def leaderboard(self, regime: str = "full", metric: str = "mcc") -> pd.DataFrame:
        """Models x categories with macro, micro, coverage and rank for one regime (``geneb report``'s table)."""
        from geneb_bench.results.aggregate import leaderboard

        self._check_regime(regime)
        return leaderboard(self.frame, regime, metric)

    def compare_published(self, regime: str = "full") -> MatchedComparison:
        """Your models among the 40 published ones on the tasks you ran (``reports.matched``); ValueError,
        with the reason, for results that are never placed (lite, custom suites, protocol variants)."""
        from geneb_bench.reports.matched import matched_comparison, not_placed_reason

        reason = not_placed_reason(self.results)
        if reason is not None:
            raise ValueError(f"not placed among the published models: {reason}")
        self._check_regime(regime)
        comparison = matched_comparison(self.results, regime)
        if comparison is None:
            raise ValueError(f"no task that every model ran in the {regime} regime: nothing to compare")
        return comparison

    def per_task(self, regime: str = "full", published: Sequence[str] = ()) -> pd.DataFrame:
        """Each task's MCC per model; for GENEB results with the published median, best and the published
        models named in ``published`` beside it (``geneb report --per-task``)."""
        from geneb_bench.reports.matched import not_placed_reason

        if not_placed_reason(self.results) is None:
            return self.compare_published(regime).per_task_wide(published)
        self._check_regime(regime)
        sub = self.frame[self.frame["regime"] == regime]
        wide = sub.pivot_table(index=["task_id", "category"], columns="model", values="mcc")
        return wide.reset_index().rename_axis(columns=None)

    def report(self, path: Path | str | None = None) -> Path:
        """Write report.html (``reports.html``, as ``geneb report --html``) for the results directory these
        results are in, this suite's results only; ``path`` defaults to ``DIR/report.html``."""
        from geneb_bench.reports.html import write_html

        scopes = {_scope(r) for r in self.results}
        suite = scopes.pop() if len(scopes) == 1 else None
        return write_html(self.directory, Path(path) if path else None, suite=suite)

    def _check_regime(self, regime: str) -> None:
        present = sorted(set(self.frame["regime"])) if len(self) else []
        if regime not in present:
            raise ValueError(f"no results in the {regime!r} regime; there: {', '.join(present) or 'none'}")

    def _summary(self) -> str:
        frame = self.frame
        if frame.empty:
            return (
                f"ResultSet: no results ({len(self.problems)} problems)"
                if self.problems
                else "ResultSet: empty"
            )
        from geneb_bench.results.aggregate import describe_suite

        text = (
            f"ResultSet: {len(self)} results, {frame['model'].nunique()} models, {frame['task_id'].nunique()} "
            f"tasks; suite {describe_suite(frame)}"
        )
        if self.problems:
            kinds = sorted({p.kind for p in self.problems})
            text += f"; {len(self.problems)} items without a result ({', '.join(kinds)}: see .problems)"
        return text

    def __repr__(self) -> str:
        if self.frame.empty:
            return self._summary()
        from geneb_bench.results.render import render_text

        text = f"{self._summary()}\n\n{render_text(self.frame, transpose=True)}"
        return text + self._hint()

    def _hint(self) -> str:
        """Where the placement among the published models is: ``compare_published`` or why there is none."""
        from geneb_bench.reports.matched import not_placed_reason

        reason = not_placed_reason(self.results)
        if reason is not None:
            return f"\nnot placed among the published models: {reason}"
        return "\namong the 40 published models on the same tasks: .compare_published(regime)"

    def _repr_html_(self) -> str:
        import html

        parts = [f"<p>{html.escape(self._summary())}</p>"]
        if not self.frame.empty:
            from geneb_bench.results.aggregate import leaderboards
            from geneb_bench.results.render import ranking_note

            for regime, table in leaderboards(self.frame).items():
                shown = table.drop(columns="rank") if table["rank"].isna().all() else table
                parts.append(
                    f"<h4>MCC - {html.escape(regime)}</h4><p><small>{html.escape(ranking_note(table))}</small></p>"
                )
                parts.append(shown.to_html(float_format=lambda v: f"{v:.4f}", na_rep=""))
            parts.append(f"<p><small>{html.escape(self._hint().strip())}</small></p>")
        return "\n".join(parts)
