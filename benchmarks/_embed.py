"""Embeddings for the probe benchmark: real tasks, embedded once and cached on disk (never in the repo)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from geneb_bench import __version__
from geneb_bench.data.csv_tasks import load_published_layout
from geneb_bench.data.suites import geneb_task_specs
from geneb_bench.embeddings.cache import EmbeddingCache
from geneb_bench.models.registry import build_embedder, resolve_model

SUBSAMPLE_SEED = 0


@dataclass(frozen=True)
class TaskEmbeddings:
    model: str
    task_id: str
    x_train: npt.NDArray[np.float32]
    y_train: npt.NDArray[np.int64]
    x_test: npt.NDArray[np.float32]
    y_test: npt.NDArray[np.int64]
    n_train_full: int  # training rows before any subsampling
    cached: bool


def task_ids(data_dir: Path) -> list[str]:
    return sorted(p.name for p in (data_dir / "tasks").iterdir() if (p / "train.csv").is_file())


def load(
    models: Sequence[str], tasks: Sequence[str], data_dir: Path, cache_dir: Path, max_train: dict[str, int | None]
) -> list[TaskEmbeddings]:
    """Embed every (model, task) once; a cap subsamples training rows with RandomState(SUBSAMPLE_SEED)."""
    specs = {s.task_id: s for s in geneb_task_specs()}
    cache = EmbeddingCache(cache_dir)
    out = []
    for task_id in tasks:
        data = load_published_layout(specs[task_id], data_dir, None)
        for key in models:
            spec = resolve_model(key)
            cap = max_train.get(key)
            n_full = len(data.train_sequences)
            rows = np.arange(n_full)
            if cap is not None and n_full > cap:
                rows = np.sort(np.random.RandomState(SUBSAMPLE_SEED).choice(n_full, cap, replace=False))
            parts = {
                "purpose": "probe-bench", "harness": __version__, "model": spec.identity(), "task_id": task_id,
                "task_fingerprint": data.fingerprint(), "train_rows": None if rows.size == n_full else
                {"cap": cap, "seed": SUBSAMPLE_SEED},
            }

            def compute(spec_key: str = key, rows: npt.NDArray[np.int64] = rows) -> dict[str, npt.NDArray[np.float32]]:
                t0 = time.perf_counter()
                embedder = build_embedder(resolve_model(spec_key), "cpu")
                try:
                    train = embedder.embed([data.train_sequences[i] for i in rows])
                    test = embedder.embed(list(data.test_sequences))
                finally:
                    embedder.close()
                print(f"  embedded {spec_key} x {task_id} in {time.perf_counter() - t0:.1f} s", flush=True)
                return {"train": train, "test": test}

            arrays, cached = cache.get_or_compute(parts, compute)
            out.append(
                TaskEmbeddings(key, task_id, arrays["train"], data.train_labels[rows], arrays["test"],
                               data.test_labels, n_full, cached)
            )
    return out
