"""Task metadata and loaded task data, with the content fingerprint used in cache and result keys."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from geneb_bench.categories import get_category

Labels = npt.NDArray[np.int64]


@dataclass(frozen=True)
class DatasetLocation:
    """Where a task's files live on the hub: pinned, so a run always reads the same bytes."""

    repo_id: str  # e.g. "darlednik/geneb-tasks"
    revision: str  # a commit hash, never a branch
    path: str  # folder inside the dataset, e.g. "tasks/<task_id>/"

    def __str__(self) -> str:
        return f"{self.repo_id}@{self.revision}:{self.path}"


@dataclass(frozen=True)
class TaskSpec:
    """What is known about a task before its data is read (cheap: used at collection time)."""

    task_id: str
    category: str  # GENEB category name, e.g. "Promoters"
    source: str = ""
    description: str = ""
    n_classes: int | None = None
    location: DatasetLocation | None = None  # published tasks: hub id, pinned revision, folder
    approx_length: str = ""  # declared length, e.g. "500 bp" (the measured range: ``geneb tasks --check``)

    def __post_init__(self) -> None:
        # an empty id names no result folder (its results would land in the model's folder itself)
        if not isinstance(self.task_id, str) or not self.task_id.strip():
            raise ValueError(f"task id {self.task_id!r} is empty: give every task a name")
        if self.task_id != self.task_id.strip():
            raise ValueError(f"task id {self.task_id!r} starts or ends with white space: remove it")
        get_category(self.category)  # reject unknown categories at definition time

    @property
    def slug(self) -> str:
        return get_category(self.category).slug


@dataclass(frozen=True)
class TaskData:
    """A loaded task: normalised sequences and labels mapped to 0..C-1."""

    spec: TaskSpec
    train_sequences: Sequence[str]
    train_labels: Labels
    test_sequences: Sequence[str]
    test_labels: Labels
    label_names: tuple[str, ...]  # label_names[i] is the original label that became class i
    revision: str | None = None  # dataset revision or generator version
    _fingerprint: list[str] = field(default_factory=list, init=False, repr=False, compare=False)

    @property
    def n_classes(self) -> int:
        return len(self.label_names)

    def fingerprint(self) -> str:
        """sha256 over both splits' sequences and labels: changes whenever one base or label does."""
        if not self._fingerprint:
            digest = hashlib.sha256()
            for name, seqs, labels in (
                ("train", self.train_sequences, self.train_labels),
                ("test", self.test_sequences, self.test_labels),
            ):
                digest.update(f"{name}:{len(seqs)}\n".encode())
                for seq in seqs:
                    digest.update(seq.encode("ascii"))
                    digest.update(b"\n")
                digest.update(np.ascontiguousarray(labels, dtype=np.int64).tobytes())
            self._fingerprint.append(digest.hexdigest())
        return self._fingerprint[0]
