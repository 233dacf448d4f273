"""``geneb cache ls|du|prune`` and the cache's entry listing."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

from geneb_bench.cli import main
from geneb_bench.embeddings.cache import EmbeddingCache
from geneb_bench.embeddings.store import SequenceStore
from geneb_bench.embeddings.store_verify import verify_shards


def _fill(cache: EmbeddingCache) -> None:
    for model, task, rows in (("m1", "t1", 10), ("m1", "t2", 20), ("m2", "t1", 400)):
        parts = {"model": {"key": model}, "task_id": task}
        cache.write(parts, {"train": np.ones((rows, 8), np.float32), "test": np.ones((2, 8), np.float32)})


def test_entries_prune_by_model_age_and_size(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    _fill(cache)
    entries = cache.entries()
    assert sorted((e.model, e.task) for e in entries) == [("m1", "t1"), ("m1", "t2"), ("m2", "t1")]
    old = next(e for e in entries if e.task == "t2")
    os.utime(old.path, (time.time() - 10 * 86400,) * 2)
    assert [e.task for e in cache.prune(older_than_s=86400)] == ["t2"]
    assert [e.model for e in cache.prune(model="m2")] == ["m2"]
    assert [(e.model, e.task) for e in cache.entries()] == [("m1", "t1")]
    _fill(cache)
    big = next(e for e in cache.entries() if e.model == "m2")
    os.utime(big.path, (time.time() - 60,) * 2)  # least recently used
    removed = cache.prune(max_bytes=big.size)  # the two small ones fit, the big LRU one goes
    assert [e.model for e in removed] == ["m2"]


def test_reading_an_entry_marks_it_used(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    _fill(cache)
    entry = cache.entries()[-1]
    os.utime(entry.path, (1.0, 1.0))
    assert cache.read(entry.key) is not None
    assert entry.path.stat().st_mtime > 1.0


def test_corrupt_entries_are_pruned(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    _fill(cache)
    victim = cache.entries()[0].path
    victim.write_bytes(b"not a zip")
    assert [e.path for e in cache.prune()] == [victim]


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fill(EmbeddingCache(tmp_path))
    assert main(["cache", "du", "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "m1" in out
    assert "3 entries" in out
    assert main(["cache", "ls", "--cache-dir", str(tmp_path)]) == 0
    assert "t2" in capsys.readouterr().out
    assert main(["cache", "prune", "--cache-dir", str(tmp_path), "--model", "m1"]) == 0
    assert "removed 2 entries" in capsys.readouterr().out


def _store_with_two_shards(root: Path) -> tuple[SequenceStore, list[Path]]:
    store = SequenceStore(root)
    rng = np.random.default_rng(0)
    parts = {"model": {"key": "m1"}, "task_id": "t1"}
    for batch in (["ACGT", "GGCC"], ["TTAA", "CCGG", "ATAT"]):
        store.embed(parts, batch, lambda seqs: rng.normal(size=(len(seqs), 16)).astype(np.float32))
    return store, [s.vectors for s in sorted(store.shards(), key=lambda s: s.sequences)]  # 2, then 3 rows


def test_verify_reads_every_store_shard(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Was: a flipped byte in a sequence-store shard was reported as "0 bad"."""
    store, (good, flipped) = _store_with_two_shards(tmp_path)
    assert [problem for _, problem in verify_shards(store)] == [None, None]
    data = bytearray(flipped.read_bytes())
    data[-5] ^= 0xFF  # inside the last vector (an .npy is a header, then the raw float32 rows)
    flipped.write_bytes(bytes(data))
    assert main(["cache", "verify", "--cache-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"BAD {flipped} (m1, (store)): checksum mismatch" in out
    assert "0 entries checked, 0 bad; 2 store shards checked, 1 bad" in out
    assert main(["cache", "verify", "--json", "--cache-dir", str(tmp_path), "--remove"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["checked"], report["store_shards_checked"], len(report["bad"])) == (2, 2, 1)
    assert (good.exists(), flipped.exists()) == (True, False)
    assert main(["cache", "verify", "--cache-dir", str(tmp_path)]) == 0
    assert "1 store shards checked, 0 bad" in capsys.readouterr().out


def test_store_shard_problems(tmp_path: Path) -> None:
    store, (first, second) = _store_with_two_shards(tmp_path)
    index = second.with_suffix(".index")
    index.write_bytes(index.read_bytes()[:40])  # truncated index
    np.save(first, np.zeros((1, 16), np.float32))  # one row for two hashes
    problems = {shard.vectors: problem for shard, problem in verify_shards(store)}
    assert problems[first] == "(1, 16) vectors for 2 sequence hashes"
    assert str(problems[second]).startswith("unreadable: ")
    orphan = first.with_name("orphan.npy")
    np.save(orphan, np.zeros((1, 16), np.float32))
    assert orphan not in {s.vectors for s, p in verify_shards(store) if p}, "a write in progress is fine"
    os.utime(orphan, (time.time() - 2 * 3600,) * 2)
    assert {s.vectors: p for s, p in verify_shards(store)}[orphan] == (
        "vectors without an index: an interrupted write (prune removes it)"
    )
