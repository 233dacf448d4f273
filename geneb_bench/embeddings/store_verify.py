"""``geneb cache verify`` for the sequence store: every shard re-read and checked, as the per-task entries are.

Separate from ``store`` (which checks a shard's checksum once per process when a run reads it) so the
administration reads every byte of every shard on demand without touching the run-time path. A shard is bad
when its index or vectors cannot be read, their row counts differ, the checksum over hashes and vectors does
not match (a flipped byte), or its stored key is not the model folder's; vectors left without an index for
over an hour are an interrupted write.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import numpy as np

from geneb_bench.embeddings.cache import cache_key
from geneb_bench.embeddings.store import ORPHAN_AGE_S, SequenceStore, ShardEntry, _checksum


def shard_problem(shard: ShardEntry) -> str | None:
    """What is wrong with ``shard`` (None: healthy, or a write still in progress). Reads every byte."""
    index = shard.vectors.with_suffix(".index")  # ``shards`` lists an unreadable index as none
    if not index.exists():
        if time.time() - shard.last_used > ORPHAN_AGE_S:
            return "vectors without an index: an interrupted write (prune removes it)"
        return None
    try:
        with np.load(index, allow_pickle=False) as data:
            hashes = np.asarray(data["hashes"], dtype="S64")
            key = json.loads(str(data["key"]))
            stored_sum = str(data["checksum"])
        vectors = np.load(shard.vectors, allow_pickle=False)
    except Exception as exc:
        return f"unreadable: {type(exc).__name__}: {exc}"
    if vectors.ndim != 2 or vectors.shape[0] != len(hashes):
        return f"{vectors.shape} vectors for {len(hashes)} sequence hashes"
    if stored_sum != _checksum(hashes, vectors):
        return "checksum mismatch: the vectors or sequence hashes changed after they were written"
    if cache_key(key) != shard.vectors.parent.name:
        return "stored key does not match the model folder"
    return None


def verify_shards(store: SequenceStore) -> Iterator[tuple[ShardEntry, str | None]]:
    """Every shard of every model in ``store`` with its problem (None: healthy)."""
    for shard in store.shards():
        yield shard, shard_problem(shard)
