"""Your own tasks: a suite or task spec file (TOML or YAML) naming data files and their columns.

Each task is read from CSV/TSV/parquet/FASTA files (gzip fine), capped at 100,000 rows a split and, when it
has no test split, split once with a seeded stratified draw. Seeds and sizes go into ``TaskData.revision``
(and so into every result), because the split and the cap are part of what was measured.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from geneb_bench.data.csv_tasks import build_task, cap_rows
from geneb_bench.data.formats import FORMATS, Rows, read_file
from geneb_bench.data.registry import check_unique
from geneb_bench.data.sequences import SequenceError
from geneb_bench.data.splits import MAX_ROWS, SPLIT_SEED, SUBSAMPLE_SEED, TEST_FRACTION, stratified_split
from geneb_bench.data.task import TaskData, TaskSpec

TASK_KEYS = frozenset(
    {
        "id",
        "category",
        "description",
        "source",
        "train",
        "test",
        "file",
        "format",
        "columns",
        "header_label",
        "test_fraction",
        "split_seed",
        "subsample_seed",
        "max_rows",
        "allow_overlap",
    }
)
MAX_OVERLAP = 0.5  # more of the test sequences than this also in train: an error unless allow_overlap
COLUMN_KEYS = frozenset({"text", "label", "split"})


@dataclass(frozen=True)
class DataFile:
    path: Path
    format: str | None = None  # None: from the suffix
    label: int | None = None  # FASTA file per class: every record has this label


@dataclass(frozen=True)
class UserTask:
    """A task as its spec file declared it (paths resolved); ``load`` reads and validates the data."""

    spec: TaskSpec
    train: tuple[DataFile, ...]
    test: tuple[DataFile, ...] = ()  # empty: rows of a split column, else a seeded stratified split
    text_column: str = "text"
    label_column: str = "label"
    split_column: str | None = None
    header_label: str | None = None
    test_fraction: float = TEST_FRACTION
    split_seed: int = SPLIT_SEED
    subsample_seed: int = SUBSAMPLE_SEED
    max_rows: int = MAX_ROWS
    allow_overlap: bool = False  # train and test may share most sequences (the spec file says so)

    def _read(self, files: tuple[DataFile, ...]) -> Rows:
        rows = Rows()
        for f in files:
            rows.extend(
                read_file(
                    f.path,
                    f.format,
                    self.text_column,
                    self.label_column,
                    self.split_column,
                    f.label,
                    self.header_label,
                )
            )
        return rows

    def load(self) -> TaskData:
        train_rows = self._read(self.train)
        train_name = ", ".join(str(f.path) for f in self.train)
        test_name = ", ".join(str(f.path) for f in self.test)
        if self.test:
            self._check_not_the_same_files()
        test_rows = self._read(self.test) if self.test else None
        dropped = train_rows.dropped + (test_rows.dropped if test_rows is not None else 0)
        if test_rows is not None:
            if self.split_column:  # split columns in separate train/test files: keep each file's own rows
                train_rows, test_rows = _only(train_rows, "train"), _only(test_rows, "test")
        elif self.split_column:
            test_rows = _only(train_rows, "test")
            train_rows = _only(train_rows, "train")
            train_name, test_name = f"{train_name} (split=train)", f"{train_name} (split=test)"
            if not test_rows.sequences:  # no test rows in the file: fall back to the seeded split
                test_rows = None
        notes: list[str] = [n for n in [Rows(dropped=dropped).dropped_note(self.split_column)] if n]
        if test_rows is None:
            tr, te = stratified_split(train_rows.labels, self.test_fraction, self.split_seed, train_name)
            test_rows = Rows([train_rows.sequences[i] for i in te], [train_rows.labels[i] for i in te])
            train_rows = Rows([train_rows.sequences[i] for i in tr], [train_rows.labels[i] for i in tr])
            test_name = f"{train_name} (held-out test)"
            notes.append(
                f"stratified split test_fraction={self.test_fraction} seed={self.split_seed} "
                f"({len(tr)}/{len(te)})"
            )
        splits = []
        for name, rows in (("train", train_rows), ("test", test_rows)):
            x, y, note = cap_rows(rows.sequences, rows.labels, self.max_rows, self.subsample_seed, name)
            notes += [note] if note else []
            splits.append((x, y))
        data = build_task(self.spec, splits[0], splits[1], (train_name, test_name), "; ".join(notes) or None)
        overlap = self._check_overlap(data.train_sequences, data.test_sequences, train_name, test_name)
        return replace(data, revision="; ".join([*notes, overlap])) if overlap else data

    def _check_not_the_same_files(self) -> None:
        """The same file as train and test scores a perfect, meaningless MCC: refused unless allowed."""
        same = {f.path.resolve() for f in self.train} & {f.path.resolve() for f in self.test}
        if same and not self.split_column and not self.allow_overlap:
            raise SequenceError(
                f"task {self.spec.task_id!r}: {', '.join(sorted(map(str, same)))} is both a train and a test file: "
                "the probe would be tested on its training rows. Fix: give the held-out file as test (or omit "
                "test for a seeded split); allow_overlap = true in the task's table if this is intended"
            )

    def _check_overlap(
        self, train: Sequence[str], test: Sequence[str], train_name: str, test_name: str
    ) -> str | None:
        """Test sequences also in train: more than half is a leak, not a benchmark (refused unless allowed);
        any share at all is said in the task's provenance note, so a reader sees it beside the numbers."""
        if not test:
            return None
        seen = set(train)
        shared = sum(seq in seen for seq in test)
        if shared > MAX_OVERLAP * len(test) and not self.allow_overlap:
            raise SequenceError(
                f"task {self.spec.task_id!r}: {shared} of the {len(test)} test sequences "
                f"({test_name}) are also in train ({train_name}); more than {MAX_OVERLAP:.0%} overlap makes "
                "the score a memory test. Fix: deduplicate the splits (geneb tasks --check shows the leak); "
                "allow_overlap = true in the task's table if this is intended"
            )
        if not shared:
            return None
        allowed = " (allow_overlap = true)" if shared > MAX_OVERLAP * len(test) else ""
        return (
            f"{shared} of the {len(test)} test sequences ({shared / len(test):.1%}) are also in train{allowed}: "
            f"the score partly measures memory (refused above {MAX_OVERLAP:.0%})"
        )


def _only(rows: Rows, split: str) -> Rows:
    keep = [i for i, s in enumerate(rows.splits) if s == split]
    return Rows([rows.sequences[i] for i in keep], [rows.labels[i] for i in keep], [split] * len(keep))


def _files(value: object, base: Path, fmt: str | None, where: str) -> tuple[DataFile, ...]:
    """``"a.csv"``, ``["a.fa", "b.fa"]`` or ``[{path = "a.fa", label = 1}, ...]`` -> DataFiles."""
    items = value if isinstance(value, list) else [value]
    files = []
    for item in items:
        if isinstance(item, str):
            files.append(DataFile(base / item, fmt))
        elif isinstance(item, Mapping) and isinstance(item.get("path"), str):
            unknown = set(item) - {"path", "label", "format"}
            if unknown:
                raise ValueError(f"{where}: unknown key(s) {sorted(unknown)} in a file entry")
            label = item.get("label")
            if label is not None and (isinstance(label, bool) or not isinstance(label, int)):
                raise ValueError(f"{where}: label {label!r} of {item['path']} is not an integer")
            files.append(DataFile(base / item["path"], item.get("format", fmt), label))
        else:
            raise ValueError(f"{where}: a file is a path or a table with 'path' (and 'label'), got {item!r}")
    if not files:
        raise ValueError(f"{where}: no files listed")
    return tuple(files)


def parse_task(entry: Mapping[str, Any], base: Path, where: str, source: str) -> UserTask:
    """One task table of a spec file; ``where`` (file and task number) prefixes every error."""
    unknown = set(entry) - TASK_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(TASK_KEYS)}")
    missing = [k for k in ("id", "category") if k not in entry]
    if "train" not in entry and "file" not in entry:
        missing.append("train (or file)")
    if missing:
        raise ValueError(f"{where} lacks {missing}")
    if "train" in entry and "file" in entry:
        raise ValueError(f"{where}: give either 'file' (all rows) or 'train' (and 'test'), not both")
    fmt = entry.get("format")
    if fmt is not None and fmt not in FORMATS:
        raise ValueError(f"{where}: format {fmt!r} is not one of {list(FORMATS)}")
    columns = entry.get("columns", {})
    if not isinstance(columns, Mapping) or set(columns) - COLUMN_KEYS:
        raise ValueError(
            f"{where}: columns is a table with keys among {sorted(COLUMN_KEYS)}, got {columns!r}"
        )
    header_label = entry.get("header_label")
    if header_label is not None:
        try:
            re.compile(str(header_label))
        except re.error as exc:
            raise ValueError(f"{where}: header_label {header_label!r} is not a valid regex: {exc}") from exc
    try:
        spec = TaskSpec(
            str(entry["id"]),
            str(entry["category"]),
            source=str(entry.get("source", source)),
            description=str(entry.get("description", "")),
        )
        max_rows = _integer(entry.get("max_rows", MAX_ROWS), "max_rows")
        if max_rows < 1:
            raise ValueError(f"max_rows must be at least 1, got {max_rows}")
        return UserTask(
            spec=spec,
            train=_files(entry.get("train", entry.get("file")), base, fmt, where),
            test=_files(entry["test"], base, fmt, where) if "test" in entry else (),
            text_column=str(columns.get("text", "text")),
            label_column=str(columns.get("label", "label")),
            split_column=str(columns["split"]) if "split" in columns else None,
            header_label=None if header_label is None else str(header_label),
            test_fraction=float(entry.get("test_fraction", TEST_FRACTION)),
            split_seed=_integer(entry.get("split_seed", SPLIT_SEED), "split_seed"),
            subsample_seed=_integer(entry.get("subsample_seed", SUBSAMPLE_SEED), "subsample_seed"),
            max_rows=max_rows,
            allow_overlap=_flag(entry.get("allow_overlap", False), "allow_overlap"),
        )
    except (TypeError, ValueError) as exc:
        if str(exc).startswith(where):
            raise
        raise ValueError(f"{where}: {exc}") from exc


def _integer(value: object, name: str) -> int:
    """An integer as written: ``int(1.7)`` would quietly run seed 1, a split nobody asked for."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} is an integer, got {value!r}")
    return value


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} is true or false, got {value!r}")
    return value


def read_spec_file(path: Path) -> tuple[str, tuple[UserTask, ...]]:
    """A suite file (``name`` + ``[[task]]`` tables / a YAML ``task:`` list) or a single-task spec file."""
    try:
        text = path.read_text()
        if path.suffix.lower() in {".yaml", ".yml"}:
            import yaml

            data = yaml.safe_load(text)
        else:
            data = tomllib.loads(text)
    except Exception as exc:  # OSError, TOML or YAML syntax: one message with the file
        raise ValueError(f"{path}: cannot read suite file: {exc}") from exc
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: a suite file is a table/mapping, got {type(data).__name__}")
    entries = data.get("task", data.get("tasks"))
    if entries is None and "id" in data:  # a single task spec
        return str(data["id"]), (parse_task(data, path.parent, f"{path}: task", str(path)),)
    if isinstance(entries, Mapping):
        entries = [entries]
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{path}: no tasks (add [[task]] tables, or a 'task:' list in YAML)")
    tasks = tuple(
        parse_task(
            e if isinstance(e, Mapping) else {}, path.parent, f"{path}: [[task]] number {i}", str(path)
        )
        for i, e in enumerate(entries, start=1)
    )
    check_unique((t.spec for t in tasks), str(path))  # here, where the error can name the file
    return str(data.get("name", path.stem)), tasks
