"""Disk taken by k-mer baseline embeddings in the embedding cache: dense (np.savez) vs the cache's policy
(compressed when mostly zeros). Usage: python benchmarks/kmer_cache_size.py DATA_DIR [k ...] (default k=6)."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from geneb_bench.data.suites import get_suite
from geneb_bench.embeddings.cache import EmbeddingCache
from geneb_bench.models.kmer import KmerEmbedder


def main() -> None:
    data_dir = Path(sys.argv[1])
    ks = [int(k) for k in sys.argv[2:]] or [6]
    suite = get_suite("geneb")
    tasks = [s for s in suite.tasks if (data_dir / "tasks" / s.task_id).is_dir()]
    for k in ks:
        embedder = KmerEmbedder(k)
        with tempfile.TemporaryDirectory() as tmp:
            dense_dir, cache = Path(tmp) / "dense", EmbeddingCache(Path(tmp) / "cache")
            dense_dir.mkdir()
            embed_s = 0.0
            for spec in tasks:
                data = suite.load(spec.task_id, data_dir)
                t0 = time.perf_counter()
                vectors = embedder.embed([*data.train_sequences, *data.test_sequences])
                embed_s += time.perf_counter() - t0
                n = len(data.train_sequences)
                arrays = {"train": vectors[:n], "test": vectors[n:]}
                # numpy's stub matches **dict values against savez's allow_pickle: bool keyword
                np.savez(dense_dir / f"{spec.task_id}.npz", **arrays)  # type: ignore[arg-type]
                cache.write({"model": f"kmer-{k}", "task": spec.task_id}, arrays)
            dense = sum(p.stat().st_size for p in dense_dir.iterdir())
            stored = sum(p.stat().st_size for p in Path(cache.root).rglob("*.npz"))
            print(
                f"kmer-{k} on {len(tasks)} tasks: dense {dense / 1e6:.1f} MB, cached {stored / 1e6:.1f} MB "
                f"({dense / max(stored, 1):.1f}x smaller); computing them took {embed_s:.1f} s"
            )


if __name__ == "__main__":
    main()
