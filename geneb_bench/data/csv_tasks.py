"""Tasks stored as CSV: the published layout ``tasks/<task_id>/{train,test}.csv`` (columns ``text,label``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geneb_bench.data.sequences import SequenceError, normalise
from geneb_bench.data.task import TaskData, TaskSpec


class TaskUnavailable(RuntimeError):
    """The task's data is not on this machine: its items are skipped with this message."""


def read_split(path: Path, text_column: str = "text", label_column: str = "label") -> tuple[list[str], list[int]]:
    """Read one split; every problem names the file and the 1-based data row."""
    try:
        frame = pd.read_csv(path, dtype={text_column: "string"}, keep_default_na=False, na_values=[""])
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, EOFError) as exc:
        raise SequenceError(f"{path}: cannot read: {exc}") from exc
    missing = [c for c in (text_column, label_column) if c not in frame.columns]
    if missing:
        raise SequenceError(f"{path}: missing column(s) {missing}; found {list(frame.columns)}")
    if frame.empty:
        raise SequenceError(f"{path}: no rows")
    sequences = [
        normalise(None if pd.isna(raw) else raw, f"{path} row {row}")
        for row, raw in enumerate(frame[text_column], start=1)
    ]
    labels = []
    for row, raw in enumerate(frame[label_column], start=1):
        if pd.isna(raw):
            raise SequenceError(f"{path} row {row}: label is missing")
        try:
            value = float(raw)
            if not value.is_integer():
                raise ValueError
        except (TypeError, ValueError):
            raise SequenceError(f"{path} row {row}: label {raw!r} is not an integer") from None
        labels.append(int(value))
    return sequences, labels


def load_split_pair(spec: TaskSpec, train_path: Path, test_path: Path, revision: str | None) -> TaskData:
    """Build TaskData; labels map to 0..C-1 in sorted order of the training labels."""
    train_x, train_y = read_split(train_path)
    test_x, test_y = read_split(test_path)
    classes = sorted(set(train_y))
    if len(classes) < 2:
        raise SequenceError(f"{train_path}: only one class ({classes[0]}) in the training split")
    unseen = sorted(set(test_y) - set(classes))
    if unseen:
        raise SequenceError(f"{test_path}: label(s) {unseen} appear in test but never in train")
    if len(set(test_y)) < 2:
        raise SequenceError(f"{test_path}: the test split has one class only; MCC would be undefined")
    index = {c: i for i, c in enumerate(classes)}
    return TaskData(
        spec=spec,
        train_sequences=train_x,
        train_labels=np.array([index[v] for v in train_y], dtype=np.int64),
        test_sequences=test_x,
        test_labels=np.array([index[v] for v in test_y], dtype=np.int64),
        label_names=tuple(str(c) for c in classes),
        revision=revision,
    )


def load_published_layout(spec: TaskSpec, data_dir: Path | None, revision: str | None) -> TaskData:
    if data_dir is None:
        raise TaskUnavailable(
            f"{spec.task_id}: no local copy of the GENEB data; pass --geneb-data-dir or set GENEB_DATA_DIR "
            "to a folder with tasks/<task_id>/{train,test}.csv"
        )
    folder = Path(data_dir) / "tasks" / spec.task_id
    train, test = folder / "train.csv", folder / "test.csv"
    if not (train.is_file() and test.is_file()):
        raise TaskUnavailable(f"{spec.task_id}: {train} / {test} not found in the data directory")
    return load_split_pair(spec, train, test, revision)
