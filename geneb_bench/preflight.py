"""Pre-flight checks: everything about a run's options that can be known wrong before any work starts.

Why: a bad output location, an impossible seed or a missing GPU used to surface only after every item had
embedded and probed (a raw ``OSError`` per item, or sklearn's complaint per seed). Each check here raises
``PreflightError`` naming the option and the fix; the plugin turns it into a usage error (exit 4) before
collection. Checks never create or leave anything: a writable directory is probed with a file that is
removed at once, a missing one is checked through its nearest existing parent.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from geneb_bench.runner.settings import Settings

__all__ = [
    "MAX_SEED",
    "PreflightError",
    "check_device",
    "check_directory",
    "check_result_names",
    "check_seeds",
    "check_settings",
]

MAX_SEED = 2**32 - 1  # numpy.random.RandomState (the probe's sampler) takes 0 <= seed < 2**32
TMP_NAME_EXTRA = len(".") + len(".12345678.tmp")  # geneb_bench.io.atomic_write's temporary name around a file


class PreflightError(ValueError):
    """An option that cannot work, found before the run starts; the message names the option and the fix."""


def check_seeds(seeds: Iterable[int]) -> None:
    for seed in seeds:
        if not 0 <= seed <= MAX_SEED:
            raise PreflightError(
                f"--geneb-seeds: {seed} is not a valid probe seed (numpy's RandomState takes 0 <= seed < 2**32). "
                "Fix: non-negative integers below 4294967296, e.g. the protocol's --geneb-seeds=13,17,42,123,997"
            )


def _existing_ancestor(path: Path) -> Path:
    for parent in (path, *path.parents):
        if parent.exists():
            return parent
    return Path(path.anchor or "/")


def check_directory(path: Path, option: str) -> None:
    """``path`` is a writable directory, or can be created as one (without creating it)."""
    if path.exists():
        if not path.is_dir():
            raise PreflightError(f"{option}: {path} is a file, not a directory. Fix: pass a directory path")
        try:
            with tempfile.TemporaryFile(dir=path, prefix=".geneb-probe-"):
                pass
        except OSError as exc:
            raise PreflightError(
                f"{option}: cannot write in {path} ({exc.strerror or exc}). Fix: make it writable, or pass "
                f"another {option}"
            ) from None
        return
    base = _existing_ancestor(path)
    if not base.is_dir():
        raise PreflightError(
            f"{option}: cannot create {path}: {base} is a file, not a directory. Fix: pass another {option}"
        )
    if not os.access(base, os.W_OK | os.X_OK):
        raise PreflightError(
            f"{option}: cannot create {path}: {base} is not writable. Fix: make it writable, or pass another {option}"
        )


def _limits(path: Path) -> tuple[int, int]:
    """(longest file name, longest path) on the filesystem holding ``path``; POSIX defaults where unknown."""
    base = _existing_ancestor(path)
    try:
        return os.pathconf(base, "PC_NAME_MAX"), os.pathconf(base, "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):  # no pathconf (Windows) or no answer
        return 255, 4096


def check_result_names(results_dir: Path, paths: Iterable[tuple[str, Path]]) -> None:
    """Every result file (``(what, path)`` pairs, e.g. a task id and its result path) fits the filesystem's
    name limits, its temporary twin included."""
    name_max, path_max = _limits(results_dir)
    for what, path in paths:
        parts = path.relative_to(results_dir).parts
        for i, part in enumerate(parts):
            length = len(os.fsencode(part)) + (TMP_NAME_EXTRA if i == len(parts) - 1 else 0)
            if length > name_max:
                raise PreflightError(
                    f"--geneb-results-dir / --geneb-suite: {what} makes a result path component of {length} "
                    f"bytes ({part[:40]}...), over this filesystem's limit of {name_max}. Fix: shorten it "
                    "(task ids in the suite file, model names) below that"
                )
        if len(os.fsencode(str(path))) + TMP_NAME_EXTRA >= path_max:
            raise PreflightError(
                f"--geneb-results-dir: the result path for {what} is longer than this filesystem's limit of "
                f"{path_max} bytes. Fix: a shorter --geneb-results-dir, or shorter task ids"
            )


def check_device(device: str) -> None:
    """``--geneb-device cuda`` needs a CUDA build of torch and a visible GPU."""
    if device != "cuda":
        return
    import torch

    if not torch.cuda.is_available():
        built = torch.version.cuda or "no CUDA (a CPU-only build)"
        raise PreflightError(
            f"--geneb-device cuda: no CUDA device is available here (torch {torch.__version__}, built with "
            f"{built}; CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', 'unset')}). "
            "Fix: --geneb-device auto or cpu, or run on a machine with a GPU and a CUDA build of torch"
        )


def check_settings(settings: Settings) -> None:
    """All of the above for one run's settings (the controller's, before collection).

    Result names are checked for suite files only: the built-in suites' task ids are short, and reading a
    suite imports pandas, which a pytest run that is not a benchmark must not pay for."""

    if not settings.seeds or not settings.regimes:  # the plugin says so while parsing its options already
        raise PreflightError("--geneb-seeds and --geneb-regimes must not be empty")
    check_seeds(settings.seeds)
    if not settings.lock_timeout_s > 0:
        raise PreflightError(
            f"--geneb-lock-timeout: {settings.lock_timeout_s} is not a positive number of seconds"
        )
    check_directory(settings.results_dir, "--geneb-results-dir")
    check_directory(settings.cache_dir, "--geneb-cache-dir")
    check_device(settings.device)
    if not Path(settings.suite).expanduser().is_file():
        return
    from geneb_bench.data.suites import get_suite
    from geneb_bench.results.record import result_path

    suite = get_suite(settings.suite)
    check_result_names(
        settings.results_dir,
        (
            (
                f"task id {task.task_id!r} (model {model.slot!r})",
                result_path(
                    settings.results_dir, model.slot, task.task_id, regime.name, "", model.identity()
                ),
            )
            for model in settings.specs
            for task in suite.tasks
            for regime in settings.regimes
        ),
    )
