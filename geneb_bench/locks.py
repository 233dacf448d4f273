"""File locks that tell: who holds a lock after a few seconds of waiting, and a clear error at the timeout.

Shared by the embedding cache (one lock per entry) and the results folder's tables (``runner.finish``). The
holder writes who it is (PID, host, since when) next to the lock; a waiter says so after ``notice_after``
seconds and gives up after ``timeout_s`` with that holder in the error, so a suspended run (Ctrl-Z) never
makes another wait silently. A dead holder's lock is free: the operating system drops an ``flock`` with its
process, and filelock's soft-lock fallback breaks stale locks itself.

The timeout is a ``LockTimeout`` (a ``RuntimeError``), never filelock's ``Timeout``: that one is an
``OSError``, which callers treat as "cannot lock here" and would carry on without the lock.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

LOCK_NOTICE_S = 5.0  # say who holds a lock after waiting this long
HOLDER_SUFFIX = ".holder"  # <name>.lock.holder: JSON {pid, host, since} of the process holding the lock


class LockTimeout(RuntimeError):
    """Waited the timeout for a lock another process holds; the message names the holder and the fix."""


def lock_holder(lock_path: Path) -> dict[str, Any] | None:
    """Who holds ``lock_path`` as its holder wrote it (pid, host, since), or None when unknown."""
    try:
        data = json.loads(Path(str(lock_path) + HOLDER_SUFFIX).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def describe_holder(holder: dict[str, Any] | None) -> str:
    if holder is None:
        return "a process that left no holder record (an older geneb-bench, or one starting up)"
    since = holder.get("since")
    when = (
        time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since)) if isinstance(since, int | float) else "?"
    )
    held = f", {time.time() - since:.0f} s ago" if isinstance(since, int | float) else ""
    return f"PID {holder.get('pid')} on host {holder.get('host')} since {when}{held}"


def tell(message: str) -> None:
    print(f"geneb: {message}", file=sys.stderr, flush=True)


@contextmanager
def holding(
    lock_path: Path,
    *,
    what: str,
    timeout_s: float,
    fix: str,
    notice_after: float = LOCK_NOTICE_S,
    notify: Callable[[str], None] = tell,
    error: type[LockTimeout] = LockTimeout,
) -> Iterator[None]:
    """Hold ``lock_path`` (``what`` names it in messages), saying who holds it when waiting; ``error`` after
    ``timeout_s`` seconds, ending with ``fix``. An ``OSError`` of the lock file itself propagates."""
    lock = FileLock(str(lock_path))
    deadline = time.monotonic() + timeout_s
    told = False
    while True:
        remaining = deadline - time.monotonic()
        try:
            lock.acquire(
                timeout=max(0.0, remaining if told else min(notice_after, remaining)), poll_interval=0.05
            )
            break
        except Timeout:
            holder = describe_holder(lock_holder(lock_path))
            if time.monotonic() >= deadline:
                raise error(
                    f"gave up after {timeout_s:.0f} s waiting for {what} {lock_path}, held by {holder}. Is that "
                    f"run suspended (Ctrl-Z: resume it with fg) or stuck? {fix}"
                ) from None
            notify(
                f"waiting for {what} {lock_path}, held by {holder}; giving up after {timeout_s:.0f} s "
                "(--geneb-lock-timeout)"
            )
            told = True
    holder_path = Path(str(lock_path) + HOLDER_SUFFIX)
    try:
        with suppress(OSError):  # the record only informs waiters
            record = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
            holder_path.write_text(json.dumps(record))
        yield
    finally:
        holder_path.unlink(missing_ok=True)
        lock.release()
