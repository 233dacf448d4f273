"""Merge result directories (e.g. one per machine or GPU job) into one, without mixing incompatible runs.

A result only means something next to others measured the same way, so two files for the same
(model, task, regime) must agree on their whole provenance (``results.provenance``: model identity and
revision, task content, protocol, seeds, probe and implementation, harness version); otherwise the merge
stops and names both files and every differing field. Agreeing duplicates are collapsed: the first
one in argument order is kept (so the output never depends on file-system order), and a duplicate whose
scores differ (non-deterministic kernels) is reported, not silently averaged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from geneb_bench.io import results_root
from geneb_bench.results.provenance import IncompatibleResults, check_table, incompatibility
from geneb_bench.results.record import ItemResult, read_result, shown_apart, write_result

Key = tuple[str, str, str, str, str]  # suite, model (slot), its identity hash, task, regime


MergeConflict = IncompatibleResults  # two files for one item measured differently (see ``provenance``)


@dataclass
class MergeReport:
    written: list[Path] = field(default_factory=list)
    duplicates: int = 0
    differing_scores: list[str] = field(default_factory=list)  # "kept A over B" notes


def _result_files(directory: Path) -> list[Path]:
    return sorted(results_root(directory).rglob("*.json"))


def check_compatible(a: ItemResult, path_a: Path, b: ItemResult, path_b: Path) -> None:
    """Raise :class:`MergeConflict` naming both files and every differing provenance field."""
    conflict = incompatibility(a, path_a, b, path_b)
    if conflict is not None:
        raise MergeConflict(f"cannot merge {conflict}")


def collect(directories: Sequence[Path]) -> tuple[dict[Key, tuple[ItemResult, Path]], MergeReport]:
    """Read every result of ``directories`` (in the given order) and check all duplicates."""
    kept: dict[Key, tuple[ItemResult, Path]] = {}
    report = MergeReport()
    for directory in directories:
        if not Path(directory).is_dir():
            raise ValueError(f"not a directory: {directory}")
        for path in _result_files(Path(directory)):
            result = read_result(path)
            key = (result.suite, result.model, result.model_hash, result.task_id, result.regime)
            if key not in kept:
                kept[key] = (result, path)
                continue
            first, first_path = kept[key]
            check_compatible(first, first_path, result, path)
            report.duplicates += 1
            if first.mean != result.mean or first.per_seed != result.per_seed:
                report.differing_scores.append(f"kept {first_path} over {path} (scores differ)")
    by_suite: dict[str, list[tuple[ItemResult, Path]]] = {}
    for entry in kept.values():  # one suite's results form one table: no variant merged into the protocol's
        by_suite.setdefault(entry[0].suite, []).append(entry)
    for entries in by_suite.values():
        try:
            check_table(shown_apart(entries))  # one name, two identities: two rows, not a conflict
        except IncompatibleResults as exc:
            raise MergeConflict(f"cannot merge: {exc}") from None
    return kept, report


def merge_dirs(directories: Iterable[Path], output: Path) -> MergeReport:
    """Merge ``directories`` into ``output``; results already in ``output`` take part (and win) too.

    Everything is checked before anything is written, so a conflict leaves ``output`` untouched.
    """
    output = Path(output)
    sources = [Path(d) for d in directories]
    ordered = ([output] if output.is_dir() else []) + [d for d in sources if d.resolve() != output.resolve()]
    kept, report = collect(ordered)
    for key in sorted(kept):
        result, path = kept[key]
        if output.resolve() in path.resolve().parents:
            continue  # already there
        report.written.append(write_result(output, result))
    return report
