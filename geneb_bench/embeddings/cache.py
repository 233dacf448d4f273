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
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from filelock import FileLock

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
        return arrays

    def write(self, parts: Mapping[str, Any], arrays: Mapping[str, Array]) -> Path:
        path = self.path_for(cache_key(parts))
        path.parent.mkdir(parents=True, exist_ok=True)
        payload: dict[str, Any] = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
        payload["__key__"] = np.array(json.dumps(parts, sort_keys=True, default=str))
        payload["__checksum__"] = np.array(_checksum(arrays))
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, **payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

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
