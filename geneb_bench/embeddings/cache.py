"""Content-addressed on-disk embedding cache.

The file name is the sha256 of the full key (model identity and revision, recipe, task fingerprint,
protocol and harness version); the key is also stored *inside* the entry and compared on read, and a
checksum of the arrays detects truncated or corrupt files, which are recomputed, never used. Writes go
to a temporary file renamed into place; a file lock makes concurrent workers (xdist, several machines
on a shared filesystem) compute an entry once while the others wait and read. No pickle anywhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from filelock import FileLock

from geneb_bench.io import atomic_write

Array = npt.NDArray[np.float32]
CACHE_FORMAT = "geneb-embeddings-1"


def cache_key(parts: Mapping[str, Any]) -> str:
    """Stable hex digest of a JSON-able mapping (sorted keys, no whitespace)."""
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _checksum(arrays: Mapping[str, Array]) -> str:
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


SPARSE_FRACTION = 0.5  # entries with more zeros than this are stored compressed


def _mostly_zeros(arrays: Mapping[str, Array]) -> bool:
    """Sparse embeddings (k-mer spectra: 97.7% zeros for k=6) shrink ~20x compressed; a dense model's
    float vectors barely compress, so they stay uncompressed and fast to read. ``np.load`` reads both."""
    total = sum(a.size for a in arrays.values())
    zeros = sum(a.size - int(np.count_nonzero(a)) for a in arrays.values())
    return total > 0 and zeros / total > SPARSE_FRACTION


class EmbeddingCache:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

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
            path.unlink(missing_ok=True)
            return None
        expected = json.loads(json.dumps(parts, sort_keys=True, default=str))
        if stored_key != expected or stored_sum != _checksum(arrays):
            path.unlink(missing_ok=True)
            return None
        os.utime(path)  # mark as recently used: ``prune --max-size`` drops the least recently used first
        return arrays

    def write(self, parts: Mapping[str, Any], arrays: Mapping[str, Array]) -> Path:
        path = self.path_for(cache_key(parts))
        payload: dict[str, Any] = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
        payload["__key__"] = np.array(json.dumps(parts, sort_keys=True, default=str))
        payload["__checksum__"] = np.array(_checksum(arrays))
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
        now = time.time()
        removed, kept = [], []
        for entry in self.entries():
            stale = older_than_s is not None and now - entry.last_used > older_than_s
            if not entry.key or stale or (model is not None and entry.model == model):
                removed.append(entry)
            else:
                kept.append(entry)
        if max_bytes is not None:
            total = sum(e.size for e in kept)
            while kept and total > max_bytes:
                oldest = kept.pop()
                total -= oldest.size
                removed.append(oldest)
        for entry in removed:
            entry.path.unlink(missing_ok=True)
        for leftover in (self.root / CACHE_FORMAT).glob("*/*.tmp"):
            if now - leftover.stat().st_mtime > 3600:  # an interrupted write, not one in progress
                leftover.unlink(missing_ok=True)
        return removed

    def get_or_compute(
        self, parts: Mapping[str, Any], compute: Callable[[], Mapping[str, Array]]
    ) -> tuple[dict[str, Array], bool]:
        """Cached arrays, or compute + store them under a lock. Returns (arrays, was_cached)."""
        cached = self.read(parts)
        if cached is not None:
            return cached, True
        path = self.path_for(cache_key(parts))
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(path) + ".lock"):
            cached = self.read(parts)  # another process may have written it while we waited
            if cached is not None:
                return cached, True
            arrays = {name: np.asarray(a, dtype=np.float32) for name, a in compute().items()}
            self.write(parts, arrays)
            return arrays, False
