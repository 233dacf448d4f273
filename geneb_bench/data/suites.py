"""Suites: named lists of tasks with the loader that reads them.

``lite`` (built-in synthetic tasks, no download), ``geneb`` (the 100 published tasks, read from a local
copy -- published or flat layout -- or else from the hub at the pinned revision) or a path to a TOML/YAML
suite file listing your own tasks (see ``user_tasks``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from geneb_bench.data.csv_tasks import (
    TaskUnavailable,
    flat_file,
    load_flat_layout,
    load_published_layout,
    load_split_pair,
)
from geneb_bench.data.registry import GENEB_DATASET, GENEB_REVISION, GENEB_TASKS, check_unique, location
from geneb_bench.data.sequences import SequenceError
from geneb_bench.data.task import TaskData, TaskSpec

__all__ = [
    "GENEB_DATASET",
    "GENEB_REVISION",
    "Suite",
    "geneb_task_specs",
    "get_suite",
    "load_geneb_task",
    "register_suite",
]

Loader = Callable[[TaskSpec, "Path | None"], TaskData]


@dataclass(frozen=True)
class Suite:
    name: str
    tasks: tuple[TaskSpec, ...]
    loader: Loader

    def __post_init__(self) -> None:
        check_unique(self.tasks, f"suite {self.name!r}")

    def task(self, task_id: str) -> TaskSpec:
        for spec in self.tasks:
            if spec.task_id == task_id:
                return spec
        raise KeyError(f"suite {self.name!r} has no task {task_id!r}")

    def select(self, task_ids: Sequence[str]) -> list[TaskSpec]:
        """The named tasks; an unknown id is a usage error naming it and the closest ids of the suite."""
        import difflib

        known = [spec.task_id for spec in self.tasks]
        unknown = [t for t in task_ids if t not in known]
        if unknown:
            close = sorted({m for t in unknown for m in difflib.get_close_matches(t, known, n=3)})
            hint = f"; did you mean {', '.join(close)}?" if close else f" (`geneb tasks --suite {self.name}`)"
            raise ValueError(f"suite {self.name!r} has no task {', '.join(map(repr, unknown))}{hint}")
        return [self.task(t) for t in task_ids]

    def load(self, task_id: str, data_dir: Path | None = None) -> TaskData:
        return self.loader(self.task(task_id), data_dir)


def _lite_suite() -> Suite:
    from geneb_bench.data.lite import LITE_TASKS, load_lite_task

    return Suite("lite", LITE_TASKS, lambda spec, _data_dir: load_lite_task(spec.task_id))


def geneb_task_specs() -> tuple[TaskSpec, ...]:
    """The 100 GENEB tasks, from the registry shipped in the package (no network look-up)."""
    return GENEB_TASKS


def load_geneb_task(spec: TaskSpec, data_dir: Path | None) -> TaskData:
    """A local copy when one is given (published layout, else the flat file), else the hub.

    A local copy records where it came from, not the pinned revision: it was not checked against it.
    Declared class counts are checked, so a wrong file under a task's name cannot pass as that task.
    """
    if data_dir is not None:
        data_dir = Path(data_dir).expanduser()
        published = data_dir / "tasks" / spec.task_id
        if (published / "train.csv").is_file() or (published / "test.csv").is_file():
            data = load_published_layout(spec, data_dir, f"local:{published}")
        elif (flat := flat_file(data_dir, spec.task_id)) is not None:
            data = load_flat_layout(spec, flat, f"local:{flat}")
        else:
            raise TaskUnavailable(
                f"{spec.task_id}: not in the data directory {data_dir} (looked for "
                f"tasks/{spec.task_id}/{{train,test}}.csv and {spec.task_id}.csv); get it from the hub dataset "
                f"{GENEB_DATASET} at revision {GENEB_REVISION}, or run without a data directory when online"
            )
    else:
        from geneb_bench.data.hub import download_task

        where = spec.location or location(spec.task_id)
        train, test = download_task(spec.task_id, where)
        data = load_split_pair(spec, train, test, f"{where.repo_id}@{where.revision}")
    if spec.n_classes is not None and data.n_classes != spec.n_classes:
        raise SequenceError(
            f"{spec.task_id}: {data.n_classes} classes in the data, {spec.n_classes} declared "
            f"in the GENEB registry (wrong file?)"
        )
    return data


def _geneb_suite() -> Suite:
    return Suite("geneb", geneb_task_specs(), load_geneb_task)


def _file_suite(path: Path) -> Suite:
    """A TOML or YAML suite file (or a single-task spec file): see ``user_tasks`` and docs/tasks.md."""
    from geneb_bench.data.user_tasks import read_spec_file

    name, tasks = read_spec_file(path)
    by_id = {t.spec.task_id: t for t in tasks}

    def load(task: TaskSpec, _data_dir: Path | None) -> TaskData:
        return by_id[task.task_id].load()

    return Suite(name, tuple(t.spec for t in tasks), load)


BUILTIN_SUITES: dict[str, Callable[[], Suite]] = {"lite": _lite_suite, "geneb": _geneb_suite}
_REGISTERED: dict[str, Suite] = {}  # a project's own suites (``register_suite``, the tasks hook)


def register_suite(suite: Suite | str | Path) -> Suite:
    """Make a suite selectable by name (``--geneb-suite NAME``): a ``Suite`` or a suite file's path.

    A built-in name cannot be taken; registering another suite under a registered name replaces it (a
    ``conftest.py`` run again).
    """
    if not isinstance(suite, Suite):
        suite = _file_suite(Path(suite).expanduser())
    if suite.name in BUILTIN_SUITES:
        raise ValueError(f"suite name {suite.name!r} is built in; give your suite another name")
    _REGISTERED[suite.name] = suite
    return suite


def missing_suite_file(name_or_path: str) -> str | None:
    """One line naming the file when ``name_or_path`` is meant as a suite file (a path or a .toml/.yaml
    name) that does not exist; None otherwise."""
    if name_or_path in BUILTIN_SUITES or name_or_path in _REGISTERED:
        return None
    path = Path(name_or_path).expanduser()
    meant_as_file = path.suffix.lower() in (".toml", ".yaml", ".yml") or "/" in name_or_path
    if not meant_as_file or path.is_file():
        return None
    return f"no such suite file: {path.resolve()} (suite {name_or_path!r}; built-in suites: lite, geneb)"


def get_suite(name_or_path: str) -> Suite:
    if name_or_path in BUILTIN_SUITES:
        return BUILTIN_SUITES[name_or_path]()
    if name_or_path in _REGISTERED:
        return _REGISTERED[name_or_path]
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return _file_suite(path)
    if (missing := missing_suite_file(name_or_path)) is not None:
        raise ValueError(missing)
    raise ValueError(
        f"unknown suite {name_or_path!r}: use one of {sorted([*BUILTIN_SUITES, *_REGISTERED])} or a path to a .toml/.yaml suite file"
    )
