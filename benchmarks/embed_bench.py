"""Embedding engine vs the authors'-style extraction loop, and a cold vs warm (cached) session, side by side.

    python benchmarks/embed_bench.py                                  # 500 sequences of every task in --data-dir
    python benchmarks/embed_bench.py --n 5000 --tasks leannmlindsey_GUE_human_tf_1 --repeats 3

Same data (read in place from ``--data-dir``, nothing is copied), same model (``random-bert-tiny`` by
default: an untrained BERT on character tokens, so no download) and same threads for every contender:

- ``engine``: ``HFEmbedder.embed`` (sort by length, token-budget batches, right padding, masked mean);
- ``authors/longest``: the GENEB authors' extractor loop: batches of 8 in input order, tokenizer padding to
  the longest in the batch, attention mask, masked mean;
- ``authors/max_len``: the same loop padding every batch to the tokenizer's ``model_max_length``, as their
  Nucleotide Transformer extractor does.

For each: wall time (best of ``--repeats``), sequences/s, padded tokens computed vs tokens needed, the
engine's speed-up and the max abs difference of the vectors (must be allclose); then the totals over all
tasks (the workload's ratio). Then the full session
path (``GenebSession.embeddings``: cache key, file lock, npz write, checksum) cold (fresh cache) vs warm
(a new session on the filled cache: disk hit) and the ratio. Peak RSS is sampled during each run.
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, cast

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "geneb-tasks-subset"


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRSS:
    """Peak resident memory while the block runs (sampled every 5 ms; Linux)."""

    def __enter__(self) -> PeakRSS:
        self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss_bytes())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())


def read_sequences(data_dir: Path, task: str, n: int) -> list[str]:
    with open(data_dir / "tasks" / task / "train.csv", newline="") as handle:
        rows = csv.DictReader(handle)
        return [row["text"] for _, row in zip(range(n), rows, strict=False)]


def authors_loop(embedder: Any, sequences: Sequence[str], padding: bool | str) -> tuple[np.ndarray, int]:
    """The authors' extractor: fixed batches of 8 in input order, tokenizer padding, masked mean."""
    import torch

    tok, model, limit = embedder.tokenizer, embedder.model, embedder.max_tokens
    out, computed = [], 0
    with torch.no_grad():
        for start in range(0, len(sequences), 8):
            batch = [s.upper() for s in sequences[start : start + 8]]
            inputs = tok(batch, padding=padding, truncation=True, max_length=limit, return_tensors="pt")
            hidden = model(**inputs).last_hidden_state
            mask = inputs["attention_mask"].unsqueeze(-1).float()
            out.append(((hidden * mask).sum(1) / mask.sum(1)).numpy())
            computed += int(inputs["input_ids"].numel())
    return np.concatenate(out), computed


def engine_tokens(embedder: Any, sequences: Sequence[str]) -> tuple[int, int]:
    from geneb_bench.embeddings.engine import token_budget_batches

    lengths = [len(ids) for ids in embedder.encode(sequences)]
    computed = sum(
        len(b) * max(lengths[i] for i in b)
        for b in token_budget_batches(lengths, embedder.token_budget, False)
    )
    return computed, sum(lengths)


def best_of(repeats: int, fn: Callable[[], Any]) -> tuple[float, Any, int]:
    best, result, peak = float("inf"), None, 0
    for _ in range(repeats):
        with PeakRSS() as mem:
            start = time.perf_counter()
            result = fn()
            wall = time.perf_counter() - start
        best, peak = min(best, wall), max(peak, mem.peak)
    return best, result, peak


def mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


Row = tuple[str, float, int, float, int]  # contender, wall s, tokens computed, max |diff|, peak RSS


def compare(embedder: Any, task: str, sequences: list[str], repeats: int) -> tuple[list[Row], int]:
    computed, needed = engine_tokens(embedder, sequences)
    t_engine, ours, peak_engine = best_of(repeats, lambda: embedder.embed(sequences))
    rows: list[Row] = [("engine", t_engine, computed, 0.0, peak_engine)]
    for name, padding in (("authors/longest", True), ("authors/max_len", "max_length")):
        t, (theirs, tokens), peak = best_of(repeats, partial(authors_loop, embedder, sequences, padding))
        diff = float(np.abs(theirs - ours).max())
        assert np.allclose(theirs, ours, rtol=1e-4, atol=1e-5), f"{name}: vectors differ by {diff}"
        rows.append((name, t, tokens, diff, peak))
    lengths = sorted({len(s) for s in sequences})
    shown = f"{lengths[0]}-{lengths[-1]}" if len(lengths) > 1 else str(lengths[0])
    print(
        f"\n== {task}: {len(sequences)} sequences, {shown} bp, {needed:,} tokens needed, "
        f"budget {embedder.token_budget:,} tokens/batch"
    )
    table(rows, len(sequences), needed)
    return rows, needed


def table(rows: Sequence[Row], n_sequences: int, needed: int) -> None:
    print(
        f"{'':18}{'wall s':>9}{'seq/s':>10}{'tokens computed':>17}{'/needed':>9}{'engine x':>10}"
        f"{'max|diff|':>11}{'peak RSS':>11}"
    )
    for name, t, tokens, diff, peak in rows:
        print(
            f"{name:18}{t:9.2f}{n_sequences / t:10.0f}{tokens:17,}{tokens / needed:9.2f}"
            f"{t / rows[0][1]:10.2f}{diff:11.1e}{mib(peak):>11}"
        )


def cold_vs_warm(model: str, task: str, data_dir: Path, repeats: int) -> None:
    from geneb_bench.protocol import REGIMES
    from geneb_bench.runner.session import GenebSession
    from geneb_bench.runner.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:

        def session(cache: Path) -> GenebSession:
            settings = Settings(
                suite="geneb",
                models=(model,),
                regimes=REGIMES,
                seeds=(13,),
                data_dir=data_dir,
                cache_dir=cache,
                results_dir=Path(tmp) / "results",
                device="cpu",
            )
            return GenebSession(settings)

        probe = session(Path(tmp) / "unused")
        spec, data = probe.models[0], probe.suite.load(task, data_dir)
        colds, warms, peak = [], [], 0
        for attempt in range(repeats):
            cache = Path(tmp) / f"cache{attempt}"
            cold_session = session(cache)
            with PeakRSS() as mem:
                start = time.perf_counter()
                train, test, cached = cold_session.embeddings(spec, data)
                colds.append(time.perf_counter() - start)
            assert not cached
            peak = max(peak, mem.peak)
            cold_session.close()  # model and memory released: the warm run is a new session, disk only
            warm_session = session(cache)
            start = time.perf_counter()
            train2, test2, cached2 = warm_session.embeddings(spec, data)
            warms.append(time.perf_counter() - start)
            assert cached2
            assert np.array_equal(train, train2)
            assert np.array_equal(test, test2)
            warm_session.close()
        n = len(data.train_sequences) + len(data.test_sequences)
        cold, warm = min(colds), min(warms)
        print(
            f"\n== session path (GenebSession.embeddings: key, lock, npz, checksum), {task}, {n} sequences "
            "(train + test)"
        )
        print(f"{'':18}{'wall s':>9}{'seq/s':>10}")
        print(f"{'cold (extract)':18}{cold:9.3f}{n / cold:10.0f}    peak RSS {mib(peak)}")
        print(f"{'warm (cache hit)':18}{warm:9.3f}{n / warm:10.0f}")
        print(f"warm speed-up: {cold / warm:.0f}x (target >= 20x)")


def add_task_arguments(parser: argparse.ArgumentParser) -> None:
    """``--data-dir`` and ``--tasks``, as every benchmark on the real tasks takes them."""
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("GENEB_DATA_DIR") or DEFAULT_DATA)
    )
    parser.add_argument(
        "--tasks", default="all", help="comma-separated task ids, or all (every task in --data-dir)"
    )


def selected_tasks(args: argparse.Namespace) -> list[str]:
    """The task ids ``--tasks`` names; ``all``: every task folder with a train.csv under ``--data-dir``."""
    if args.tasks != "all":
        return list(args.tasks.split(","))
    return sorted(p.name for p in (args.data_dir / "tasks").iterdir() if (p / "train.csv").is_file())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_task_arguments(parser)
    parser.add_argument("--session-task", default="leannmlindsey_GUE_prom_core_tata")
    parser.add_argument("--model", default="random-bert-tiny")
    parser.add_argument("--n", type=int, default=500, help="sequences per task (first n of train)")
    parser.add_argument("--budget", type=int, default=0, help="engine token budget (default: the engine's)")
    parser.add_argument("--repeats", type=int, default=2, help="best of this many runs per contender")
    args = parser.parse_args()

    import torch

    from geneb_bench.models.hf import HFEmbedder
    from geneb_bench.models.registry import build_embedder, resolve_model

    torch.manual_seed(0)
    embedder = cast(HFEmbedder, build_embedder(resolve_model(args.model), "cpu"))  # an HF (engine) model
    embedder.configure(progress=False)
    if args.budget:
        embedder.token_budget = args.budget
    print(
        f"model {args.model}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{os.cpu_count()} cores, data {args.data_dir}"
    )
    tasks = selected_tasks(args)
    per_task: list[list[Row]] = []
    n_total = needed_total = 0
    for task in tasks:
        sequences = read_sequences(args.data_dir, task, args.n)
        rows, needed = compare(embedder, task, sequences, args.repeats)
        per_task.append(rows)
        n_total, needed_total = n_total + len(sequences), needed_total + needed
    embedder.close()
    print(f"\n== all {len(tasks)} tasks: {n_total:,} sequences, {needed_total:,} tokens needed")
    totals = [  # per contender (rows are in the same order for every task): summed times and tokens, worst diff/RSS
        (
            runs[0][0],
            sum(r[1] for r in runs),
            sum(r[2] for r in runs),
            max(r[3] for r in runs),
            max(r[4] for r in runs),
        )
        for runs in zip(*per_task, strict=True)
    ]
    table(totals, n_total, needed_total)
    cold_vs_warm(args.model, args.session_task, args.data_dir, args.repeats)


if __name__ == "__main__":
    main()
