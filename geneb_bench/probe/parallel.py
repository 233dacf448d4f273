"""Running distinct probe fits side by side without oversubscribing the machine.

The rule is BLAS threads x fit workers <= the cores this process may use. Under pytest-xdist each worker
process owns ``cores // PYTEST_XDIST_WORKER_COUNT`` of them (the session already caps BLAS there), so the
probe counts only its own share. Warnings are captured per thread: ``warnings.catch_warnings`` is process
global and not thread safe, so concurrent fits each using it would lose or print each other's warnings.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TextIO, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def available_cores() -> int:
    """Cores this process may use: its CPU affinity, divided among xdist workers."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or "1")
    return max(1, cores // max(1, workers))


_local = threading.local()


def _record_per_thread(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """``showwarning`` replacement: into the calling thread's list when it keeps one, else shown as usual."""
    log: list[tuple[type[Warning], str]] | None = getattr(_local, "log", None)
    if log is not None:
        log.append((category, str(message)))
    else:
        _original_showwarning(message, category, filename, lineno, file, line)


_original_showwarning = warnings.showwarning


@contextmanager
def thread_warning_capture(*categories: type[Warning]) -> Iterator[None]:
    """Entered once, in the calling thread, around a batch of concurrent fits (see ``record_warnings``)."""
    global _original_showwarning
    with warnings.catch_warnings():
        for category in categories:
            warnings.simplefilter("always", category)  # "always": the per-module registry never hides one
        _original_showwarning = warnings.showwarning
        warnings.showwarning = _record_per_thread
        yield


@contextmanager
def record_warnings() -> Iterator[list[tuple[type[Warning], str]]]:
    """(category, message) of each warning the current thread raises inside the block; none is printed."""
    log: list[tuple[type[Warning], str]] = []
    previous = getattr(_local, "log", None)
    _local.log = log
    try:
        yield log
    finally:
        _local.log = previous


def run_all(func: Callable[[T], R], items: Sequence[T], workers: int) -> list[R]:
    """``[func(i) for i in items]``, on up to ``workers`` threads when there are several items.

    BLAS is capped to ``cores // workers`` threads for the duration, so threads x BLAS <= cores.
    """
    workers = max(1, min(workers, len(items)))
    if workers == 1:
        return [func(item) for item in items]
    from threadpoolctl import threadpool_limits

    blas: Any = threadpool_limits(limits=max(1, available_cores() // workers))
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="geneb-probe") as pool:
            return list(pool.map(func, items))
    finally:
        blas.restore_original_limits()
