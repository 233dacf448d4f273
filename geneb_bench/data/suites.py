"""Suites: named lists of tasks with the loader that reads them.

``lite`` (built-in synthetic tasks, no download), ``geneb`` (the 100 published tasks, read from a local
copy in the published layout) or a path to a TOML suite file listing your own CSV tasks.
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from geneb_bench.data.csv_tasks import load_published_layout, load_split_pair
from geneb_bench.data.task import TaskData, TaskSpec

GENEB_DATASET = "darlednik/geneb-tasks"
GENEB_REVISION = "4edd705be573e48c585c2cf79dc320f9f43c7b04"

Loader = Callable[[TaskSpec, "Path | None"], TaskData]


@dataclass(frozen=True)
class Suite:
    name: str
    tasks: tuple[TaskSpec, ...]
    loader: Loader

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for spec in self.tasks:
            if spec.task_id in seen:
                raise ValueError(f"suite {self.name!r}: duplicate task id {spec.task_id!r}")
            seen.add(spec.task_id)

    def task(self, task_id: str) -> TaskSpec:
        for spec in self.tasks:
            if spec.task_id == task_id:
                return spec
        raise KeyError(f"suite {self.name!r} has no task {task_id!r}")

    def load(self, task_id: str, data_dir: Path | None = None) -> TaskData:
        return self.loader(self.task(task_id), data_dir)


def _lite_suite() -> Suite:
    from geneb_bench.data.lite import LITE_TASKS, load_lite_task

    return Suite("lite", LITE_TASKS, lambda spec, _data_dir: load_lite_task(spec.task_id))


def geneb_task_specs() -> tuple[TaskSpec, ...]:
    """The 100 GENEB tasks, from the table shipped in the package (no network look-up)."""
    text = resources.files("geneb_bench.data").joinpath("geneb_tasks.csv").read_text()
    return tuple(
        TaskSpec(
            task_id=row["task_id"],
            category=row["category"],
            source=row["source"],
            description=row["notes"],
            n_classes=int(row["n_classes"]) if row["n_classes"].isdigit() else None,
        )
        for row in csv.DictReader(text.splitlines())
    )


def _geneb_suite() -> Suite:
    return Suite(
        "geneb",
        geneb_task_specs(),
        lambda spec, data_dir: load_published_layout(spec, data_dir, f"{GENEB_DATASET}@{GENEB_REVISION}"),
    )


def _file_suite(path: Path) -> Suite:
    """A TOML suite file: ``name`` and ``[[task]]`` tables with id, category, train, test (paths relative)."""
    try:
        spec = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: cannot read suite file: {exc}") from exc
    tasks, files = [], {}
    for number, entry in enumerate(spec.get("task", []), start=1):
        missing = [k for k in ("id", "category", "train", "test") if k not in entry]
        if missing:
            raise ValueError(f"{path}: [[task]] number {number} lacks {missing}")
        task = TaskSpec(str(entry["id"]), str(entry["category"]), source=str(path), description=entry.get("description", ""))
        tasks.append(task)
        files[task.task_id] = (path.parent / entry["train"], path.parent / entry["test"])

    def load(task: TaskSpec, _data_dir: Path | None) -> TaskData:
        train, test = files[task.task_id]
        return load_split_pair(task, train, test, revision=None)

    return Suite(str(spec.get("name", path.stem)), tuple(tasks), load)


BUILTIN_SUITES: dict[str, Callable[[], Suite]] = {"lite": _lite_suite, "geneb": _geneb_suite}


def get_suite(name_or_path: str) -> Suite:
    if name_or_path in BUILTIN_SUITES:
        return BUILTIN_SUITES[name_or_path]()
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return _file_suite(path)
    raise ValueError(f"unknown suite {name_or_path!r}: use one of {sorted(BUILTIN_SUITES)} or a path to a .toml file")
