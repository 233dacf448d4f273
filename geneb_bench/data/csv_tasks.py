"""Tasks stored as CSV: the published layout ``tasks/<task_id>/{train,test}.csv`` (columns ``text,label``)
and the authors' flat ``<task_id>.csv`` (columns ``text,label,split``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from geneb_bench.data.formats import read_table
from geneb_bench.data.sequences import SequenceError
from geneb_bench.data.splits import MAX_ROWS, SUBSAMPLE_SEED, subsample
from geneb_bench.data.task import TaskData, TaskSpec


class TaskUnavailable(RuntimeError):
    """The task's data is not on this machine: its items are skipped with this message."""


def read_split(
    path: Path, text_column: str = "text", label_column: str = "label"
) -> tuple[list[str], list[int]]:
    """Read one CSV/TSV/parquet split (gzip fine); every problem names the file and the 1-based data row."""
    rows = read_table(path, text_column, label_column)
    return rows.sequences, rows.labels


def build_task(
    spec: TaskSpec,
    train: tuple[list[str], list[int]],
    test: tuple[list[str], list[int]],
    names: tuple[str, str],
    revision: str | None,
) -> TaskData:
    """TaskData from parsed splits; labels map to 0..C-1 in sorted order of the training labels.

    ``names`` (train, test) are what the errors cite: a file, or a description of several.
    """
    (train_x, train_y), (test_x, test_y) = train, test
    train_name, test_name = names
    if not train_y:
        raise SequenceError(f"{train_name}: the training split is empty")
    if not test_y:
        raise SequenceError(f"{test_name}: the test split is empty")
    classes = sorted(set(train_y))
    if len(classes) < 2:
        raise SequenceError(f"{train_name}: only one class ({classes[0]}) in the training split")
    unseen = sorted(set(test_y) - set(classes))
    if unseen:
        raise SequenceError(f"{test_name}: label(s) {unseen} appear in test but never in train")
    if len(set(test_y)) < 2:
        raise SequenceError(f"{test_name}: the test split has one class only; MCC would be undefined")
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


def load_split_pair(spec: TaskSpec, train_path: Path, test_path: Path, revision: str | None) -> TaskData:
    """Build TaskData from two files; labels map to 0..C-1 in sorted order of the training labels."""
    return build_task(
        spec, read_split(train_path), read_split(test_path), (str(train_path), str(test_path)), revision
    )


def cap_rows(
    sequences: list[str], labels: list[int], max_rows: int, seed: int, name: str
) -> tuple[list[str], list[int], str | None]:
    """Apply the 100,000-row cap to one split; returns a note for TaskData.revision when rows were dropped."""
    keep = subsample(len(sequences), max_rows, seed)
    if keep is None:
        return sequences, labels, None
    note = f"{name} subsampled {len(sequences)}->{max_rows} (seed={seed})"
    return [sequences[i] for i in keep], [labels[i] for i in keep], note


def load_published_layout(spec: TaskSpec, data_dir: Path | None, revision: str | None) -> TaskData:
    """``<data_dir>/tasks/<task_id>/{train,test}.csv``: the hub dataset's layout, read from a local folder."""
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


def flat_file(data_dir: Path, task_id: str) -> Path | None:
    """The authors' flat ``<task_id>.csv`` (or ``.csv.gz``) in ``data_dir``, if there is one."""
    for name in (f"{task_id}.csv", f"{task_id}.csv.gz"):
        if (Path(data_dir) / name).is_file():
            return Path(data_dir) / name
    return None


def load_flat_layout(
    spec: TaskSpec, path: Path, revision: str | None, max_rows: int = MAX_ROWS, seed: int = SUBSAMPLE_SEED
) -> TaskData:
    """``<task_id>.csv`` with a ``split`` column (train/test; dev rows dropped), capped at ``max_rows`` a split.

    A flat file is a copy made outside the published dataset, so the cap applies (it is a no-op on
    published data, which is already subsampled); what was dropped goes into the revision.
    """
    rows = read_table(path, split_column="split")
    notes = [revision] if revision else []
    notes += [n for n in [rows.dropped_note("split")] if n]
    splits = {}
    for name in ("train", "test"):
        x = [s for s, split in zip(rows.sequences, rows.splits, strict=True) if split == name]
        y = [v for v, split in zip(rows.labels, rows.splits, strict=True) if split == name]
        x, y, note = cap_rows(x, y, max_rows, seed, name)
        notes += [note] if note else []
        splits[name] = (x, y)
    return build_task(
        spec,
        splits["train"],
        splits["test"],
        (f"{path} (split=train)", f"{path} (split=test)"),
        "; ".join(notes) or None,
    )
