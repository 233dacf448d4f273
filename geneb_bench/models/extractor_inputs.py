"""What a ``python:file.py:function`` extractor reads, so its identity covers more than its source file.

An extractor that loads ``W.npy`` computes other vectors when ``W.npy`` changes, yet its source is the
same: the cache would serve the old vectors. An extractor module declares its inputs at top level,

    GENEB_INPUTS = ["W.npy", "vocab/"]   # files or folders, relative to the module's folder
    GENEB_VERSION = "2024-05-rc2"       # any string: bump it when something undeclared changed

and their contents (and the version) are hashed into its identity. They are read from the source without
importing it (resolution happens at collection, on every worker). While the extractor is imported and
called, an audit hook (``sys.addaudithook``, one dictionary lookup per ``open`` when idle) records the files
it opens for reading; one it did not declare gets an ``UndeclaredInputWarning`` naming it, since a change to
it would go unnoticed. Files of the Python installation and its packages are not reported.
"""

from __future__ import annotations

import ast
import hashlib
import os
import site
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INPUTS_NAME = "GENEB_INPUTS"
VERSION_NAME = "GENEB_VERSION"


class UndeclaredInputWarning(UserWarning):
    """An extractor read a file that is not part of its identity (``GENEB_INPUTS``)."""


@dataclass(frozen=True)
class Declared:
    """The inputs an extractor module declares: resolved paths and an optional version string."""

    paths: tuple[Path, ...] = ()
    version: str | None = None

    def covers(self, path: Path) -> bool:
        return any(path == p or p in path.parents for p in self.paths)


def declared_inputs(source: Path) -> Declared:
    """``GENEB_INPUTS`` / ``GENEB_VERSION`` of the module file ``source``, read from its syntax tree.

    A declaration that is not a literal list of strings (or a string version), or a declared path that
    does not exist, is a ``ValueError`` naming the file and line."""
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    paths: tuple[Path, ...] = ()
    version: str | None = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, expression = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, expression = node.target, node.value
        else:
            continue
        if not isinstance(target, ast.Name) or target.id not in (INPUTS_NAME, VERSION_NAME):
            continue
        where = f"{source}, line {node.lineno}: {target.id}"
        try:
            value = ast.literal_eval(expression)
        except ValueError:
            raise ValueError(f"{where} must be a literal (read without running the module)") from None
        if target.id == VERSION_NAME:
            if not isinstance(value, str):
                raise ValueError(f"{where} must be a string, got {value!r}")
            version = value
            continue
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{where} must be a list of file or folder paths, got {value!r}")
        resolved = [(source.parent / Path(v).expanduser()).resolve() for v in value]
        for typed, path in zip(value, resolved, strict=True):
            if not path.exists():
                raise ValueError(f"{where}: declared input {typed!r} ({path}) does not exist")
        paths = tuple(resolved)
    return Declared(paths, version)


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and not any(part.startswith(".") or part == "__pycache__" for part in p.parts)
    )


def inputs_digest(declared: Declared) -> str:
    """sha256 over the declared version and every declared file's relative name and content."""
    digest = hashlib.sha256(f"version={declared.version}\n".encode())
    for root in declared.paths:
        for file in _files(root):
            digest.update(f"{root.name}/{file.relative_to(root) if file != root else ''}\n".encode())
            with file.open("rb") as handle:
                digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


# -- reads while the extractor runs -------------------------------------------------------------------
_LOCK = threading.Lock()
_ACTIVE: list[set[str]] = []  # the open read-sets (one per tracked call in progress)
_HOOKED = False
_WARNED: set[str] = set()


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event != "open" or not _ACTIVE:
        return
    path, mode, flags = ((*tuple(args), None, None, None))[:3]
    if isinstance(mode, str) and any(c in mode for c in "wax+"):
        return
    if isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR):
        return
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if isinstance(path, str | os.PathLike):
        for reads in _ACTIVE:
            reads.add(os.fspath(path))


@contextmanager
def track_reads() -> Iterator[set[str]]:
    """Collect the paths opened for reading (in any thread) while the block runs."""
    global _HOOKED
    with _LOCK:
        if not _HOOKED:
            sys.addaudithook(_hook)  # cannot be removed: it returns at once while nothing is tracked
            _HOOKED = True
    reads: set[str] = set()
    _ACTIVE.append(reads)
    try:
        yield reads
    finally:
        _ACTIVE.remove(reads)


def _installation() -> tuple[Path, ...]:
    roots = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        *site.getsitepackages(),
        site.getusersitepackages(),
    }
    package = Path(__file__).resolve().parents[1]  # geneb_bench itself (an editable install lives outside)
    return (*(Path(r).resolve() for r in roots if r), package, Path("/proc"), Path("/sys"), Path("/dev"))


def warn_undeclared(reads: set[str], source: Path, declared: Declared, what: str) -> list[Path]:
    """Warn once per file about each read file outside the declared inputs, the extractor's own source
    and the Python installation; returns them."""
    ignored = _installation()
    found = []
    for raw in sorted(reads):
        path = Path(raw).resolve()
        if (
            path == source
            or path.suffix == ".pyc"
            or declared.covers(path)
            or any(path == r or r in path.parents for r in ignored)
            or not path.is_file()
        ):
            continue
        found.append(path)
        if str(path) not in _WARNED:
            _WARNED.add(str(path))
            warnings.warn(
                f"{what} read {path}, which it does not declare: a change to that file would not change its "
                f"identity, and cached vectors would be reused. Fix: add it to {INPUTS_NAME} in {source} "
                "(docs/identity.md); --geneb-reembed recomputes the vectors meanwhile",
                UndeclaredInputWarning,
                stacklevel=2,
            )
    return found
