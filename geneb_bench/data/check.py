"""``geneb tasks --check``: what a task really holds, and whether its test set leaks into training.

Exact train/test duplicates inflate a frozen-embedding probe's score (a memorised sequence needs no
biology), so the check counts them per task; sizes, balance and lengths catch a wrong or truncated file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from geneb_bench.data.csv_tasks import TaskUnavailable
from geneb_bench.data.sequences import SequenceError
from geneb_bench.data.suites import Suite
from geneb_bench.data.task import TaskData


@dataclass(frozen=True)
class TaskCheck:
    """One task's numbers; ``status`` is ok, unavailable (no data here) or error (bad data)."""

    task_id: str
    category: str
    status: str = "ok"
    message: str = ""
    n_train: int = 0
    n_test: int = 0
    classes: tuple[str, ...] = ()
    train_per_class: tuple[int, ...] = ()
    test_per_class: tuple[int, ...] = ()
    min_length: int = 0
    max_length: int = 0
    train_duplicates: int = 0  # rows repeating an earlier train row
    test_duplicates: int = 0
    test_in_train: int = 0  # test rows whose exact sequence is in train: the leak
    test_in_train_other_label: int = 0  # ... with a different label there (contradictory)
    fingerprint: str = ""
    revision: str | None = None

    @property
    def balance(self) -> float:
        """Smallest over largest training class (1.0 = balanced)."""
        return min(self.train_per_class) / max(self.train_per_class) if self.train_per_class else float("nan")

    @property
    def leak_fraction(self) -> float:
        return self.test_in_train / self.n_test if self.n_test else 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"balance": self.balance, "leak_fraction": self.leak_fraction}


def check_data(data: TaskData) -> TaskCheck:
    lengths = [len(s) for s in (*data.train_sequences, *data.test_sequences)]
    train_labels: dict[str, set[int]] = {}
    for seq, label in zip(data.train_sequences, data.train_labels.tolist(), strict=True):
        train_labels.setdefault(seq, set()).add(label)
    leaked = other = 0
    for seq, label in zip(data.test_sequences, data.test_labels.tolist(), strict=True):
        if seq in train_labels:
            leaked += 1
            other += label not in train_labels[seq]
    k = data.n_classes
    return TaskCheck(
        task_id=data.spec.task_id,
        category=data.spec.category,
        n_train=len(data.train_sequences),
        n_test=len(data.test_sequences),
        classes=data.label_names,
        train_per_class=tuple(int(n) for n in np.bincount(data.train_labels, minlength=k)),
        test_per_class=tuple(int(n) for n in np.bincount(data.test_labels, minlength=k)),
        min_length=min(lengths),
        max_length=max(lengths),
        train_duplicates=len(data.train_sequences) - len(train_labels),
        test_duplicates=sum(n - 1 for n in Counter(data.test_sequences).values()),
        test_in_train=leaked,
        test_in_train_other_label=other,
        fingerprint=data.fingerprint(),
        revision=data.revision,
    )


def check_suite(suite: Suite, data_dir: Path | None) -> Iterator[TaskCheck]:
    """Each task of the suite, loaded as the benchmark would load it; failures become rows, not crashes."""
    for spec in suite.tasks:
        try:
            yield check_data(suite.load(spec.task_id, data_dir))
        except TaskUnavailable as exc:
            yield TaskCheck(spec.task_id, spec.category, status="unavailable", message=str(exc))
        except (SequenceError, ValueError) as exc:
            yield TaskCheck(spec.task_id, spec.category, status="error", message=str(exc))


def render_checks(checks: list[TaskCheck]) -> str:
    """A table of the loaded tasks, then one line per leak, error and (summarised) unavailable task."""
    from tabulate import tabulate

    ok = [c for c in checks if c.status == "ok"]
    rows = [
        [
            c.task_id,
            c.category,
            c.n_train,
            c.n_test,
            len(c.classes),
            " ".join(map(str, c.train_per_class)),
            " ".join(map(str, c.test_per_class)),
            f"{c.balance:.2f}",
            f"{c.min_length}-{c.max_length}",
            c.train_duplicates,
            c.test_duplicates,
            f"{c.test_in_train} ({c.leak_fraction:.1%})" if c.test_in_train else 0,
        ]
        for c in ok
    ]
    lines = []
    if rows:
        lines.append(
            tabulate(
                rows,
                headers=[
                    "task_id",
                    "category",
                    "train",
                    "test",
                    "classes",
                    "train/class",
                    "test/class",
                    "balance",
                    "length",
                    "dup train",
                    "dup test",
                    "test in train",
                ],
            )
        )
    for c in ok:
        if c.test_in_train:
            conflict = (
                f", {c.test_in_train_other_label} with another label" if c.test_in_train_other_label else ""
            )
            lines.append(
                f"LEAK {c.task_id}: {c.test_in_train} of {c.n_test} test sequences "
                f"({c.leak_fraction:.1%}) also occur verbatim in train{conflict}"
            )
    lines += [f"SPLIT {c.task_id}: {c.revision}" for c in ok if c.revision]  # provenance, once per task
    lines += [f"ERROR {c.task_id}: {c.message}" for c in checks if c.status == "error"]
    missing = [c for c in checks if c.status == "unavailable"]
    if missing:
        lines.append(f"{len(missing)} task(s) unavailable, e.g. {missing[0].message}")
    leaks = sum(bool(c.test_in_train) for c in ok)
    lines.append(
        f"\n{len(ok)} checked, {leaks} with train/test duplicates, "
        f"{sum(c.status == 'error' for c in checks)} with errors, {len(missing)} unavailable"
    )
    return "\n".join(lines)


def run_check(suite: Suite, data_dir: Path | None, as_json: bool) -> int:
    """Print the check (table or JSON); exit status 1 when a task's data is malformed, else 0."""
    import json

    checks = list(check_suite(suite, data_dir))
    print(json.dumps([c.to_json() for c in checks], indent=2) if as_json else render_checks(checks))
    return int(any(c.status == "error" for c in checks))
