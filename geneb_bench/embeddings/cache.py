"""Content-addressed on-disk embedding cache.

The file name is the sha256 of the full key (model identity and revision, recipe, task fingerprint,
protocol and harness version); the key is also stored *inside* the entry and compared on read, and a
checksum of the arrays detects truncated or corrupt files, which are recomputed, never used. Writes go
to a temporary file renamed into place; a file lock makes concurrent workers (xdist, several machines
on a shared filesystem) compute an entry once while the others wait and read. No pickle anywhere.

Locks tell (``geneb_bench.locks``): a waiter says who holds an entry after a few seconds and gives up after
``lock_timeout`` seconds with that holder in the error, so a suspended run (Ctrl-Z) never makes another wait
silently forever; a dead holder's lock is free.

The cache is an optimisation, never a reason to lose a result: when an entry cannot be written (full or
read-only disk, no permission for the lock), caching is off for the rest of the process, with one warning,
and the vectors are computed and used as if there were no cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from geneb_bench.io import atomic_write
from geneb_bench.locks import LOCK_NOTICE_S, LockTimeout, holding, tell

Array = npt.NDArray[np.float32]
CACHE_FORMAT = "geneb-embeddings-1"
DEFAULT_LOCK_TIMEOUT_S = 1800.0  # --geneb-lock-timeout: a real model x task embedding can take many minutes


class CacheLockTimeout(LockTimeout):  # not TimeoutError: that is an OSError, which turns caching off
    """Waited ``lock_timeout`` seconds for a cache entry another process holds."""


class CacheDisabledWarning(UserWarning):
    """The cache could not be written; caching is off for the rest of this process."""


def _remove(path: Path) -> None:
    with suppress(OSError):  # read-only: the bad entry stays, and is never used
        path.unlink(missing_ok=True)


def cache_key(parts: Mapping[str, Any]) -> str:
    """Stable hex digest of a JSON-able mapping (sorted keys, no whitespace)."""
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def array_checksum(arrays: Mapping[str, Any]) -> str:
    """sha256 over the named arrays (names, dtypes, shapes and bytes): a torn or flipped file never matches."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        arr = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}:{arr.dtype.str}:{arr.shape}".encode())
        digest.update(arr.tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class CacheEntry:
    path: Path
    size: int
    last_used: float
    key: dict[str, Any]

    @property
    def model(self) -> str:
        model = self.key.get("model", {})
        return str(model.get("key", "?")) if isinstance(model, dict) else "?"

    @property
    def task(self) -> str:
        return str(self.key.get("task_id", "?"))

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


SPARSE_FRACTION = 0.5  # entries with more zeros than this are stored compressed


def _mostly_zeros(arrays: Mapping[str, Array]) -> bool:
    """Sparse embeddings (k-mer spectra: 97.7% zeros for k=6) shrink ~20x compressed; a dense model's
    float vectors barely compress, so they stay uncompressed and fast to read. ``np.load`` reads both."""
    total = sum(a.size for a in arrays.values())
    zeros = sum(a.size - int(np.count_nonzero(a)) for a in arrays.values())
    return total > 0 and zeros / total > SPARSE_FRACTION


class Sized(Protocol):
    @property
    def size(self) -> int: ...


SizedT = TypeVar("SizedT", bound=Sized)


def over_budget(newest_first: list[SizedT], max_bytes: int) -> list[SizedT]:
    """Pop the least recently used items off ``newest_first`` until the rest fit ``max_bytes``; return them."""
    total = sum(e.size for e in newest_first)
    dropped = []
    while newest_first and total > max_bytes:
        oldest = newest_first.pop()
        total -= oldest.size
        dropped.append(oldest)
    return dropped


class Prunable(Sized, Protocol):
    """A cache entry or a store shard, as ``prune`` sees it."""

    @property
    def last_used(self) -> float: ...

    @property
    def model(self) -> str: ...

    def remove(self) -> None: ...


PrunableT = TypeVar("PrunableT", bound=Prunable)
LEFTOVER_AGE_S = 3600  # a temporary file this old is an interrupted write, not one in progress


def prune(
    newest_first: list[PrunableT],
    leftovers: Iterator[Path],
    *,
    broken: Callable[[PrunableT], bool],
    older_than_s: float | None,
    model: str | None,
    max_bytes: int | None,
) -> list[PrunableT]:
    """One pruning rule for the per-task cache and the sequence store: remove the ``broken`` items, those unused
    for ``older_than_s``, those of ``model``, then the least recently used until the rest fit ``max_bytes``;
    and the ``leftovers`` (temporary files) older than ``LEFTOVER_AGE_S``. Returns what was removed."""
    now = time.time()
    removed, kept = [], []
    for entry in newest_first:
        stale = older_than_s is not None and now - entry.last_used > older_than_s
        if broken(entry) or stale or (model is not None and entry.model == model):
            removed.append(entry)
        else:
            kept.append(entry)
    if max_bytes is not None:
        removed += over_budget(kept, max_bytes)
    for entry in removed:
        entry.remove()
    for leftover in leftovers:
        if now - leftover.stat().st_mtime > LEFTOVER_AGE_S:
            leftover.unlink(missing_ok=True)
    return removed


class EmbeddingCache:
    def __init__(
        self,
        root: Path,
        *,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT_S,
        notice_after: float = LOCK_NOTICE_S,
        notify: Callable[[str], None] = tell,
    ) -> None:
        self.root = Path(root)
        self.lock_timeout = lock_timeout
        self.notice_after = notice_after
        self.notify = notify  # how a waiting process says who it waits for (the plugin shows it live)
        self.disabled: str | None = None  # why caching is off for this process, once a write failed

    def path_for(self, digest: str) -> Path:
        return self.root / CACHE_FORMAT / digest[:2] / f"{digest}.npz"

    def read(self, parts: Mapping[str, Any]) -> dict[str, Array] | None:
        """The cached arrays for ``parts``, or None when absent, stale or corrupt (a corrupt file is removed)."""
        path = self.path_for(cache_key(parts))
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                stored_key = json.loads(str(data["__key__"]))
                stored_sum = str(data["__checksum__"])
                arrays = {name: data[name] for name in data.files if not name.startswith("__")}
        except Exception:  # truncated zip, bad header, missing member: all mean "recompute"
            _remove(path)
            return None
        expected = json.loads(json.dumps(parts, sort_keys=True, default=str))
        if stored_key != expected or stored_sum != array_checksum(arrays):
            _remove(path)
            return None
        with suppress(OSError):  # a read-only cache is still a cache
            os.utime(path)  # mark as recently used: ``prune --max-size`` drops the least recently used first
        return arrays

    def write(self, parts: Mapping[str, Any], arrays: Mapping[str, Array]) -> Path:
        path = self.path_for(cache_key(parts))
        payload: dict[str, Any] = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
        payload["__key__"] = np.array(json.dumps(parts, sort_keys=True, default=str))
        payload["__checksum__"] = np.array(array_checksum(arrays))
        save = np.savez_compressed if _mostly_zeros(arrays) else np.savez
        atomic_write(path, lambda handle: save(handle, **payload), "embedding cache entry")
        return path

    def entries(self) -> list[CacheEntry]:
        """Every entry, newest use first; an unreadable file is listed with an empty key (prune removes it)."""
        found = []
        for path in (self.root / CACHE_FORMAT).glob("*/*.npz"):
            stat = path.stat()
            try:
                with np.load(path, allow_pickle=False) as data:
                    key = json.loads(str(data["__key__"]))
            except Exception:
                key = {}
            found.append(CacheEntry(path, stat.st_size, stat.st_mtime, key))
        return sorted(found, key=lambda e: -e.last_used)

    def prune(
        self, *, older_than_s: float | None = None, model: str | None = None, max_bytes: int | None = None
    ) -> list[CacheEntry]:
        """Remove entries unused for ``older_than_s``, of ``model``, unreadable ones, and then the least
        recently used until the cache fits ``max_bytes``. Leftover temporary files go too."""
        return prune(
            self.entries(),
            (self.root / CACHE_FORMAT).glob("*/*.tmp"),
            broken=lambda entry: not entry.key,
            older_than_s=older_than_s,
            model=model,
            max_bytes=max_bytes,
        )

    def verify(self) -> Iterator[tuple[CacheEntry, str | None]]:
        """Every entry with its problem (None: healthy): its arrays re-read and checked against the checksum
        and key stored in it. Reads every byte, unlike ``entries``."""
        for entry in self.entries():
            try:
                with np.load(entry.path, allow_pickle=False) as data:
                    stored_sum = str(data["__checksum__"])
                    key = json.loads(str(data["__key__"]))
                    arrays = {name: data[name] for name in data.files if not name.startswith("__")}
            except Exception as exc:
                yield entry, f"unreadable: {type(exc).__name__}: {exc}"
                continue
            if stored_sum != array_checksum(arrays):
                yield entry, "checksum mismatch: the arrays changed after they were written"
            elif cache_key(key) != entry.path.stem:
                yield entry, "stored key does not match the file name"
            else:
                yield entry, None

    def _disable(self, exc: OSError) -> None:
        self.disabled = str(exc)
        warnings.warn(
            f"geneb: embedding cache {self.root} is not writable ({exc}); caching is off for the rest of this "
            "run (results are still computed and written). Fix: free space or permissions there, or pass "
            "another --geneb-cache-dir.",
            CacheDisabledWarning,
            stacklevel=3,
        )

    @contextmanager
    def _locked(self, path: Path) -> Iterator[None]:
        """Hold ``path``'s lock, saying who holds it when waiting; give up after ``lock_timeout`` seconds."""
        with holding(
            Path(str(path) + ".lock"),
            what="embedding cache lock",
            timeout_s=self.lock_timeout,
            fix="Stop it, raise --geneb-lock-timeout, or use another --geneb-cache-dir.",
            notice_after=self.notice_after,
            notify=self.notify,
            error=CacheLockTimeout,
        ):
            yield

    def get_or_compute(
        self, parts: Mapping[str, Any], compute: Callable[[], Mapping[str, Array]], bypass: bool = False
    ) -> tuple[dict[str, Array], bool]:
        """Cached arrays, or compute + store them under a lock. Returns (arrays, was_cached).

        With the cache off (a write failed earlier in this process) or ``bypass`` (``--geneb-reembed``) it only
        computes: nothing is read or written.
        """
        if bypass or self.disabled is not None:
            return {name: np.asarray(a, dtype=np.float32) for name, a in compute().items()}, False
        cached = self.read(parts)
        if cached is not None:
            return cached, True
        path = self.path_for(cache_key(parts))
        with ExitStack() as stack:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                stack.enter_context(self._locked(path))
            except OSError as exc:  # read-only or full cache: no lock file, no entry; compute without
                self._disable(exc)
                return self.get_or_compute(parts, compute)
            cached = self.read(parts)  # another process may have written it while we waited
            if cached is not None:
                return cached, True
            arrays = {name: np.asarray(a, dtype=np.float32) for name, a in compute().items()}
            try:
                self.write(parts, arrays)
            except OSError as exc:
                self._disable(exc)
            return arrays, False
