"""File-system rules shared by every writer: atomic writes, path-safe keys, the results-root rule.

One module, so that results, tables, cache entries and reports are all written the same way: to a temporary
file in the target's directory, flushed and fsync'd, then renamed into place. A crash, a full disk or a
concurrent writer never leaves a half-written or interleaved file, only the old one or the new one.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

__all__ = ["atomic_write", "atomic_write_text", "results_root", "safe_key"]

_UMASK = os.umask(0)  # read once (the call sets it), restored on the next line
os.umask(_UMASK)


def atomic_write(path: Path, write: Callable[[IO[bytes]], None], what: str = "") -> Path:
    """Call ``write(handle)`` on a temporary file and rename it to ``path``.

    A failed write raises ``OSError`` naming ``path`` (a bare ``No space left on device`` names no file);
    ``what`` says what the file is ("embedding cache entry"), for that message.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if hasattr(os, "fchmod"):  # POSIX: what open() would give, not mkstemp's owner-only 0600
            os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        label = f"{what} " if what else ""
        raise OSError(exc.errno, f"cannot write {label}{path}: {exc.strerror or exc}") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: Path, text: str) -> Path:
    """``atomic_write`` of UTF-8 text."""
    data = text.encode("utf-8")

    def write(handle: IO[bytes]) -> None:
        handle.write(data)

    return atomic_write(path, write)


def safe_key(text: str) -> str:
    """A key usable in item ids and file names: no path separators, nothing that escapes a directory."""
    cleaned = re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9._+-]+", "__", text)).strip("._")
    return cleaned or "model"


def results_root(directory: Path) -> Path:
    """Where a results directory keeps its per-item files: ``DIR/results`` when present, else ``DIR``."""
    root = Path(directory)
    return root / "results" if (root / "results").is_dir() else root
