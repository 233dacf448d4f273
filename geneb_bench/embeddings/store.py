"""Per-model store of sequence embeddings: every distinct sequence is embedded once per model, ever.

A task's vectors are rows of a model's store, addressed by the sha256 of each sequence, under the model side of
the embedding cache key (model identity and recipe, dtype, long-input policy, engine, harness and library
versions: ``embedding_key`` without the task). A task whose sequences were seen under another task (or a
re-split, subsampled or audited copy of one) computes only the new ones; within a task, a repeated sequence is
embedded once and its vector scattered back to every row that holds it.

Layout: ``ROOT/geneb-sequences-1/<sha256 of the model key>/`` holds ``key.json`` and append-only shards, one per
computation: ``<id>.npy`` (the float32 vectors, memory-mapped on read) and then ``<id>.index`` (an npz of the
sequence hashes, the model key and a checksum). The index file is written last, atomically: a shard
without one (a SIGKILL mid-write) is invisible and pruned after an hour. A shard whose checksum or key does not
match is deleted and its sequences recomputed. Concurrent workers never block each other: each writes its own
uniquely named shard; two that embed the same new sequence at once both store it, and the first found is used.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from geneb_bench.embeddings.cache import array_checksum, cache_key, prune
from geneb_bench.io import atomic_write, atomic_write_text

Array = npt.NDArray[np.float32]
STORE_FORMAT = "geneb-sequences-1"
TASK_FIELDS = (
    "task_id",
    "task_fingerprint",
)  # the parts of ``embedding_key`` that a sequence's vector ignores
ORPHAN_AGE_S = 3600  # a vectors file this old without its index is an interrupted write, not one in progress


def model_parts(parts: Mapping[str, Any]) -> dict[str, Any]:
    """The model side of an ``embedding_key``: everything that changes a vector, minus the task."""
    return {name: value for name, value in parts.items() if name not in TASK_FIELDS}


def sequence_hashes(sequences: Iterable[str]) -> list[bytes]:
    """Content address of each sequence (hex sha256 of its UTF-8 text, as ASCII bytes)."""
    return [hashlib.sha256(s.encode()).hexdigest().encode() for s in sequences]


@dataclass(frozen=True)
class Distinct:
    """The distinct sequences of a list in first-seen order, and where each row's vector comes from."""

    first: list[int]  # row of each distinct sequence's first occurrence
    inverse: npt.NDArray[np.intp]  # row -> index into ``first``

    @classmethod
    def of(cls, keys: Sequence[bytes | str]) -> Distinct:
        position: dict[bytes | str, int] = {}
        first: list[int] = []
        inverse = np.empty(len(keys), dtype=np.intp)
        for row, key in enumerate(keys):
            index = position.setdefault(key, len(first))
            if index == len(first):
                first.append(row)
            inverse[row] = index
        return cls(first, inverse)


def _checksum(hashes: npt.NDArray[Any], vectors: Array) -> str:
    return array_checksum({"hashes": hashes, "vectors": vectors})  # the per-task cache's checksum rule


@dataclass(frozen=True)
class EmbedStats:
    """What one ``SequenceStore.embed`` call did: rows asked, distinct sequences, and those computed."""

    rows: int
    distinct: int
    computed: int


@dataclass(frozen=True)
class ShardEntry:
    """One shard, for ``geneb cache ls|du|prune``."""

    vectors: Path
    index: Path | None  # None: an orphan vectors file (interrupted write)
    size: int
    last_used: float
    model: str
    sequences: int

    @property
    def path(self) -> Path:
        return self.index or self.vectors

    def remove(self) -> None:
        if self.index is not None:
            self.index.unlink(
                missing_ok=True
            )  # the index first: a half-removed shard is invisible, not corrupt
        self.vectors.unlink(missing_ok=True)


class ModelStore:
    """One model's shards and an in-process index over them, refreshed from the directory on each use.

    The index is three numpy arrays (sorted hashes, shard number, row), not a dict: a model's store may hold
    millions of sequences (100 tasks x 100k), and a Python dict of them would take gigabytes.
    """

    def __init__(self, directory: Path, parts: Mapping[str, Any]) -> None:
        self.directory = directory
        self.parts = json.loads(json.dumps(dict(parts), sort_keys=True, default=str))
        self._names: list[str] = []  # shard ids, in the order they were indexed
        self._hashes: list[npt.NDArray[Any]] = []  # per indexed shard (None-free; a dropped shard is emptied)
        self._keys = np.empty(0, dtype="S64")  # sorted distinct hashes over the indexed shards
        self._where = np.empty(0, dtype=np.int64)  # for each key: shard number << 32 | row
        self._verified: set[str] = set()  # shard ids whose vectors matched their checksum in this process

    def refresh(self) -> None:
        """Index the shards other workers (or runs) wrote since the last look."""
        known, added = set(self._names), False
        for idx in sorted(self.directory.glob("*.index"), key=lambda p: p.stat().st_mtime):
            shard = idx.name.removesuffix(".index")
            if shard in known:
                continue
            try:
                with np.load(idx, allow_pickle=False) as data:
                    key = json.loads(str(data["key"]))
                    hashes = np.asarray(data["hashes"], dtype="S64")
            except FileNotFoundError:
                continue  # pruned meanwhile
            except Exception:  # truncated or foreign file: recomputed, never used
                self._drop(shard)
                continue
            if key != self.parts:
                self._drop(shard)
                continue
            self._add(shard, hashes, rebuild=False)
            added = True
        if added:
            self._rebuild()

    def _add(self, shard: str, hashes: npt.NDArray[Any], *, rebuild: bool = True) -> None:
        self._names.append(shard)
        self._hashes.append(hashes)
        if rebuild:
            self._rebuild()

    def _rebuild(self) -> None:
        """Sorted distinct hashes; where one is in several shards, the first indexed wins."""
        if not self._hashes:
            return
        keys = np.concatenate(self._hashes)
        where = np.concatenate(
            [(np.int64(n) << 32) | np.arange(len(h), dtype=np.int64) for n, h in enumerate(self._hashes)]
        )
        self._keys, first = np.unique(keys, return_index=True)
        self._where = where[first]

    def _find(self, hashes: Sequence[bytes]) -> npt.NDArray[np.int64]:
        """shard number << 32 | row for each hash, -1 where not stored."""
        query = np.asarray(hashes, dtype="S64")
        pos = np.searchsorted(self._keys, query).clip(max=max(len(self._keys) - 1, 0))
        hit = (
            (pos < len(self._keys)) & (self._keys[pos] == query)
            if len(self._keys)
            else np.zeros(len(query), bool)
        )
        return np.where(hit, self._where[pos] if len(self._keys) else -1, -1)

    def _drop(self, shard: str) -> None:
        (self.directory / f"{shard}.index").unlink(missing_ok=True)
        (self.directory / f"{shard}.npy").unlink(missing_ok=True)
        if shard in self._names:
            self._hashes[self._names.index(shard)] = np.empty(0, dtype="S64")
            self._rebuild()

    def _vectors(self, shard: str) -> Array | None:
        """A shard's vectors (memory-mapped), checked against its checksum once per process; None if bad."""
        try:
            vectors: Array = np.load(self.directory / f"{shard}.npy", mmap_mode="r", allow_pickle=False)
            if shard not in self._verified:
                with np.load(self.directory / f"{shard}.index", allow_pickle=False) as data:
                    ok = str(data["checksum"]) == _checksum(data["hashes"], vectors)
                if not ok:
                    raise ValueError("checksum mismatch")
                self._verified.add(shard)
                (self.directory / f"{shard}.index").touch()  # recently used: prune --max-size drops LRU first
            return vectors
        except Exception:
            self._drop(shard)
            return None

    def lookup(self, hashes: Sequence[bytes]) -> tuple[dict[bytes, Array], list[bytes]]:
        """Stored vectors of ``hashes`` (one row each) and the hashes not (or no longer validly) stored."""
        self.refresh()
        where = self._find(hashes)
        missing = [h for h, w in zip(hashes, where.tolist(), strict=True) if w < 0]
        found: dict[bytes, Array] = {}
        stored = np.flatnonzero(where >= 0)
        shard_of = where[stored] >> 32
        for number in np.unique(shard_of).tolist():
            pick = stored[shard_of == number]
            vectors = self._vectors(self._names[number])
            if vectors is None:
                missing.extend(hashes[i] for i in pick.tolist())
                continue
            rows = (where[pick] & 0xFFFFFFFF).tolist()
            gathered = np.asarray(vectors[rows], dtype=np.float32)
            found.update((hashes[i], gathered[j]) for j, i in enumerate(pick.tolist()))
        return found, missing

    def append(self, hashes: Sequence[bytes], vectors: Array) -> None:
        """Write a new shard (vectors first, index last: the index makes it visible)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        key_file = self.directory / "key.json"
        if not key_file.exists():
            atomic_write_text(key_file, json.dumps(self.parts, sort_keys=True, indent=1))
        shard = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:12]}"
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        hash_array = np.array(list(hashes), dtype="S64")
        atomic_write(self.directory / f"{shard}.npy", lambda h: np.save(h, vectors), "sequence store vectors")
        atomic_write(
            self.directory / f"{shard}.index",
            lambda h: np.savez(
                h,
                hashes=hash_array,
                key=np.array(json.dumps(self.parts, sort_keys=True)),
                checksum=np.array(_checksum(hash_array, vectors)),
            ),
            "sequence store index",
        )
        self._verified.add(shard)
        self._add(shard, hash_array)


class SequenceStore:
    """The per-model stores under one cache root."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root) / STORE_FORMAT
        self._models: dict[str, ModelStore] = {}

    def model(self, parts: Mapping[str, Any]) -> ModelStore:
        """The store of the model side of ``parts`` (task fields, if present, are ignored)."""
        mparts = model_parts(parts)
        digest = cache_key(mparts)
        if digest not in self._models:  # one model's index held at a time: a sweep goes model by model
            self._models = {digest: ModelStore(self.root / digest, mparts)}
        return self._models[digest]

    def embed(
        self,
        parts: Mapping[str, Any],
        sequences: Sequence[str],
        compute: Callable[[list[str]], Array],
        persist: bool = True,
    ) -> tuple[Array, EmbedStats]:
        """One row per sequence: stored vectors where the model has seen the sequence, ``compute`` called once
        on the distinct unseen ones (first-seen order). Non-finite results are returned but never stored.
        ``persist=False``: distinct sequences once, nothing read from or written to disk (for embedders that
        are cheaper to rerun than to read back)."""
        if not sequences:
            raise ValueError("no sequences to embed")
        hashes = sequence_hashes(sequences)
        distinct = Distinct.of(hashes)
        unique = [hashes[i] for i in distinct.first]
        store = self.model(parts) if persist else None
        found, missing = store.lookup(unique) if store is not None else ({}, list(unique))
        if missing:
            missing_set = set(missing)
            rows = [i for i, h in zip(distinct.first, unique, strict=True) if h in missing_set]
            computed = np.asarray(compute([sequences[i] for i in rows]), dtype=np.float32)
            if computed.shape[0] != len(rows):
                raise ValueError(f"the embedder returned {computed.shape[0]} rows for {len(rows)} sequences")
            new = [hashes[i] for i in rows]
            if store is not None and np.isfinite(computed).all():
                try:
                    store.append(new, computed)
                except (
                    OSError
                ) as exc:  # full disk, quota, read-only: the vectors are still good, only not reused
                    warnings.warn(
                        f"sequence store not written ({exc}); these sequences will be recomputed next time",
                        RuntimeWarning,
                        stacklevel=2,
                    )
            found.update(zip(new, computed, strict=True))
        table = np.stack([found[h] for h in unique])
        return table[distinct.inverse], EmbedStats(len(sequences), len(unique), len(missing))

    # -- administration (geneb cache) ---------------------------------------------------------------
    def shards(self) -> list[ShardEntry]:
        """Every shard (and orphan vectors file), newest use first."""
        found = []
        for directory in self.root.glob("*"):
            if not directory.is_dir():
                continue
            try:
                model = str(json.loads((directory / "key.json").read_text())["model"]["key"])
            except Exception:
                model = "?"
            for vectors in directory.glob("*.npy"):
                index = directory / f"{vectors.name.removesuffix('.npy')}.index"
                try:
                    vstat = vectors.stat()
                    istat = index.stat() if index.exists() else None
                    n = 0
                    if istat is not None:
                        with np.load(index, allow_pickle=False) as data:
                            n = int(data["hashes"].shape[0])
                except Exception:
                    istat, n = None, 0
                size = vstat.st_size + (istat.st_size if istat else 0)
                last = istat.st_mtime if istat else vstat.st_mtime
                found.append(ShardEntry(vectors, index if istat else None, size, last, model, n))
        return sorted(found, key=lambda e: -e.last_used)

    def prune(
        self, *, older_than_s: float | None = None, model: str | None = None, max_bytes: int | None = None
    ) -> list[ShardEntry]:
        """Remove shards unused for ``older_than_s``, of ``model``, orphans older than an hour, and then the
        least recently used until the store fits ``max_bytes``; leftover temporary files go too."""
        return prune(
            self.shards(),
            self.root.glob("*/*.tmp"),
            broken=lambda entry: entry.index is None and time.time() - entry.last_used > ORPHAN_AGE_S,
            older_than_s=older_than_s,
            model=model,
            max_bytes=max_bytes,
        )
