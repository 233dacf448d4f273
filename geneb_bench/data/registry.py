"""The 100 GENEB tasks, declared once: id, category, source collection and pinned hub location.

Read from ``geneb_tasks.csv`` shipped in the package, so collecting the suite never touches the network.
Checked at import (unique ids, known categories, the paper's per-category counts): a bad edit of the table
fails loudly instead of silently dropping or doubling a task in every leaderboard.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable
from importlib import resources

from geneb_bench.categories import CATEGORIES, get_category
from geneb_bench.data.task import DatasetLocation, TaskSpec

GENEB_DATASET = "darlednik/geneb-tasks"
GENEB_REVISION = "4edd705be573e48c585c2cf79dc320f9f43c7b04"
TABLE = "geneb_tasks.csv"


def location(task_id: str) -> DatasetLocation:
    """The published folder of a task: ``tasks/<task_id>/`` at the pinned revision."""
    return DatasetLocation(GENEB_DATASET, GENEB_REVISION, f"tasks/{task_id}/")


def check_unique(specs: Iterable[TaskSpec], where: str) -> None:
    """Duplicate ids would run (and weigh) a task twice: reject them. So are ids that differ but become the
    same file name once made path-safe (``a/b`` and ``a__b``): one's results would overwrite the other's."""
    from geneb_bench.io import safe_key

    ids = [s.task_id for s in specs]
    counts = Counter(ids)
    duplicates = sorted(task_id for task_id, n in counts.items() if n > 1)
    if duplicates:
        raise ValueError(f"{where}: duplicate task id(s) {duplicates}")
    by_file: dict[str, list[str]] = {}
    for task_id in ids:
        by_file.setdefault(safe_key(task_id), []).append(task_id)
    clashes = sorted(sorted(group) for group in by_file.values() if len(group) > 1)
    if clashes:
        raise ValueError(
            f"{where}: task ids {clashes[0]} differ only in characters that are not safe in a "
            f"file name; they would share the result folder {safe_key(clashes[0][0])!r}: rename one"
        )


def check_category_counts(specs: Iterable[TaskSpec], where: str) -> None:
    """The published suite has a fixed number of tasks per category (30/22/8/...): keep it so."""
    counts = Counter(get_category(s.category).name for s in specs)
    wrong = {
        c.name: (counts.get(c.name, 0), c.geneb_tasks)
        for c in CATEGORIES
        if counts.get(c.name, 0) != c.geneb_tasks
    }
    if wrong:
        detail = ", ".join(f"{name}: {got} (expected {want})" for name, (got, want) in wrong.items())
        raise ValueError(f"{where}: category counts differ from GENEB's: {detail}")


def parse_table(text: str, where: str = TABLE) -> tuple[TaskSpec, ...]:
    """Rows ``task_id,category,source,n_classes,approx_length,notes`` -> specs, validated."""
    specs = []
    for row_number, row in enumerate(csv.DictReader(text.splitlines()), start=1):
        try:
            specs.append(
                TaskSpec(
                    task_id=row["task_id"].strip(),
                    category=row["category"],
                    source=row["source"],
                    description=row["notes"],
                    n_classes=int(row["n_classes"]) if row["n_classes"].strip().isdigit() else None,
                    location=location(row["task_id"].strip()),
                    approx_length=row.get("approx_length") or "",
                )
            )
        except (KeyError, ValueError) as exc:
            raise ValueError(f"{where} row {row_number}: {exc}") from exc
    check_unique(specs, where)
    return tuple(specs)


def _load() -> tuple[TaskSpec, ...]:
    specs = parse_table(resources.files("geneb_bench.data").joinpath(TABLE).read_text())
    check_category_counts(specs, TABLE)
    return specs


GENEB_TASKS: tuple[TaskSpec, ...] = _load()
