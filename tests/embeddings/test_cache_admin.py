"""``geneb cache ls|du|prune`` and the cache's entry listing."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from geneb_bench.cli import main
from geneb_bench.embeddings.cache import EmbeddingCache


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
