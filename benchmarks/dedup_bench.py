"""End to end on the real tasks: today's engine vs the distinct-sequence engine vs the authors' pipeline.

    python benchmarks/dedup_bench.py                       # every task in --data-dir (the 14 of geneb-tasks-subset)
    python benchmarks/dedup_bench.py --tasks leannmlindsey_GUE_prom_core_tata --authors-n 500

One process, one model (``random-bert-tiny`` by default: untrained, no download), the same weights for every
contender:

- ``current``: ``embedder.embed`` on each task's train + test rows, every row embedded (what the session did
  before the sequence store);
- ``distinct``: ``GenebSession.embeddings`` on a fresh cache, task after task: each distinct sequence is embedded
  once per model (within a task and across tasks, through ``embeddings/store.py``);
- ``authors``: the GENEB authors' extractor (batches of 8 in input order, padding to ``model_max_length``), timed
  on the first ``--authors-n`` rows of ``--authors-tasks``. Their pipeline
  (``EmbeddingClassificationPipeline.evaluate_from_csv``) extracts train and test ONCE per task and then fits
  the probe 15 times (3 regimes x 5 seeds) on those vectors, so the projection to the whole task is one
  extraction: (time per row) x (train + test rows). (An earlier version of this benchmark said "once per fit",
  15 extractions a task, and multiplied every authors' figure by 15: that was wrong.)

The two engines are timed task by task, interleaved, so a loaded machine slows both alike, and which goes
first alternates (the first pass over a task's batch shapes is slower, whichever engine makes it).

Printed: rows and distinct sequences (per task and over all tasks), sequences and padded tokens computed, wall
time and ratio, max |diff| of the vectors, and the MCC tables of both engines (the same probe on each), which
must be identical.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from embed_bench import (  # type: ignore[import-not-found]  # benchmarks/ is on sys.path (line above); mypy names it benchmarks.embed_bench
    add_task_arguments,
    authors_loop,
    engine_tokens,
    selected_tasks,
)


class Counting:
    """Wraps ``embed``: counts the sequences and the padded tokens the engine computes."""

    def __init__(self, embedder: Any) -> None:
        self.embedder, self.inner = embedder, embedder.embed
        self.sequences = self.tokens = self.calls = 0

    def __call__(self, sequences: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.sequences += len(sequences)
        if hasattr(self.embedder, "encode"):  # engine models (HF): padded tokens of the batches it forms
            self.tokens += engine_tokens(self.embedder, sequences)[0]
        vectors: np.ndarray = self.inner(sequences)
        return vectors


def mcc_table(
    vectors: dict[str, tuple[np.ndarray, np.ndarray]],
    data: dict[str, Any],
    regimes: Sequence[Any],
    seeds: Sequence[int],
) -> tuple[dict[tuple[str, str], float], float]:
    from geneb_bench.probe.evaluate import evaluate_regime

    table, start = {}, time.perf_counter()
    for task, (x_train, x_test) in vectors.items():
        d = data[task]
        for regime in regimes:
            result = evaluate_regime(x_train, d.train_labels, x_test, d.test_labels, regime, seeds)
            table[(task, regime.name)] = result.mean("mcc")
    return table, time.perf_counter() - start


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_task_arguments(parser)
    parser.add_argument("--model", default="random-bert-tiny")
    parser.add_argument("--regimes", default="full", help="comma-separated regimes for the MCC tables")
    parser.add_argument("--seeds", default="13", help="comma-separated probe seeds for the MCC tables")
    parser.add_argument(
        "--authors-tasks",
        default="leannmlindsey_GUE_prom_core_tata",
        help="tasks the authors' extractor is timed on (comma-separated, or none)",
    )
    parser.add_argument(
        "--authors-n", type=int, default=2000, help="rows per authors task (first n of train+test)"
    )
    args = parser.parse_args()

    import torch

    from geneb_bench.embeddings.store import STORE_FORMAT
    from geneb_bench.protocol import get_regime
    from geneb_bench.runner.session import GenebSession
    from geneb_bench.runner.settings import Settings

    regimes = [get_regime(r) for r in args.regimes.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    tasks = selected_tasks(args)
    print(
        f"model {args.model}, torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}, data {args.data_dir}"
    )
    print(
        f"MCC tables: regimes {args.regimes}, seeds {args.seeds} (sklearn probe, the same for both engines)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            suite="geneb",
            models=(args.model,),
            regimes=tuple(regimes),
            seeds=tuple(seeds),
            data_dir=args.data_dir,
            cache_dir=Path(tmp) / "cache",
            results_dir=Path(tmp) / "results",
            device="cpu",
        )
        session = GenebSession(settings)
        spec = session.models[0]
        data = {task: session.suite.load(task, args.data_dir) for task in tasks}
        embedder = session.embedder(spec)
        counter = Counting(embedder)
        embedder.embed = counter  # type: ignore[method-assign]  # the session's embedder: same weights for both engines, every call counted

        # -- counts ------------------------------------------------------------------------------
        rows = {t: [*d.train_sequences, *d.test_sequences] for t, d in data.items()}
        n_rows = sum(len(r) for r in rows.values())
        per_task_distinct = sum(len(set(r)) for r in rows.values())
        all_distinct = len({s for r in rows.values() for s in r})
        print(
            f"\n{len(tasks)} tasks: {n_rows:,} train+test sequences, {per_task_distinct:,} distinct within their "
            f"task (summed), {all_distinct:,} distinct over all tasks"
        )

        # -- both engines, task by task (interleaved, so a loaded machine slows both alike) ----------------
        # current: every row through the embedder (what the session did before the sequence store);
        # distinct: the session's path on a fresh cache, each distinct sequence once over all tasks so far
        current: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        distinct: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        seconds = {"current": 0.0, "distinct": 0.0}
        counts = {"current": [0, 0], "distinct": [0, 0]}  # sequences, padded tokens

        def run_current(task: str, d: Any) -> None:
            vectors = counter(rows[task])
            current[task] = (vectors[: len(d.train_sequences)], vectors[len(d.train_sequences) :])

        def run_distinct(task: str, d: Any) -> None:
            x_train, x_test, _ = session.embeddings(spec, d)
            distinct[task] = (x_train, x_test)
            session.memory.release(spec.key, task)

        contenders = {"current": run_current, "distinct": run_distinct}
        for number, (task, d) in enumerate(data.items()):
            # whoever goes first on a task pays the math library's first use of its batch shapes: alternate
            for name in ("current", "distinct") if number % 2 == 0 else ("distinct", "current"):
                before = counter.sequences, counter.tokens
                start = time.perf_counter()
                contenders[name](task, d)
                seconds[name] += time.perf_counter() - start
                counts[name][0] += counter.sequences - before[0]
                counts[name][1] += counter.tokens - before[1]
            print(
                f"  {task}: current {counts['current'][0]:,} sequences, {seconds['current']:.1f} s / distinct "
                f"{counts['distinct'][0]:,} sequences, {seconds['distinct']:.1f} s so far",
                flush=True,
            )
        t_current, t_distinct = seconds["current"], seconds["distinct"]
        (seq_current, tok_current), (seq_distinct, tok_distinct) = counts["current"], counts["distinct"]
        stored = sum(s.computed for _, _, s in session.embed_stats)
        diff = max(
            float(np.abs(a - b).max()) for t in tasks for a, b in zip(current[t], distinct[t], strict=True)
        )

        print(
            f"\n{'engine':10}{'sequences computed':>20}{'padded tokens computed':>24}{'wall s':>10}{'x':>7}"
        )
        print(f"{'current':10}{seq_current:20,}{tok_current:24,}{t_current:10.1f}{1.0:7.2f}")
        print(
            f"{'distinct':10}{seq_distinct:20,}{tok_distinct:24,}{t_distinct:10.1f}{t_current / t_distinct:7.2f}"
        )
        print(
            f"sequences embedded by the distinct engine: {seq_distinct:,} (store wrote {stored:,}); distinct over "
            f"all tasks: {all_distinct:,}; {'EQUAL' if seq_distinct == all_distinct else 'DIFFERENT'}"
        )
        print(
            f"wall time ratio current / distinct: {t_current / t_distinct:.2f}; max |diff| of the vectors: {diff:.2e}"
        )
        cache = Path(tmp) / "cache"
        in_store = sum(f.stat().st_size for f in cache.rglob(f"{STORE_FORMAT}/*/*") if f.is_file())
        per_task = sum(f.stat().st_size for f in cache.rglob("*.npz") if STORE_FORMAT not in f.parts)
        dense = sum(a.nbytes + b.nbytes for a, b in distinct.values())
        print(
            f"disk: sequence store {in_store / 2**20:.1f} MB + per-task entries (views) {per_task / 2**20:.1f} MB; "
            f"the task matrices themselves hold {dense / 2**20:.1f} MB"
        )

        # -- MCC tables --------------------------------------------------------------------------------
        mcc_current, t_fit = mcc_table(current, data, regimes, seeds)
        mcc_distinct, _ = mcc_table(distinct, data, regimes, seeds)
        print(f"\n{'task':42}{'regime':>8}{'MCC current':>13}{'MCC distinct':>14}")
        for (task, regime), value in mcc_current.items():
            print(f"{task:42}{regime:>8}{value:13.4f}{mcc_distinct[(task, regime)]:14.4f}")
        same = all(f"{mcc_current[k]:.4f}" == f"{mcc_distinct[k]:.4f}" for k in mcc_current)
        worst = max(abs(mcc_current[k] - mcc_distinct[k]) for k in mcc_current)
        print(
            f"MCC tables (4 decimals) identical: {same}; max |dMCC| {worst:.2e}; probe fits took {t_fit:.1f} s "
            f"({len(mcc_current) * len(seeds)} fits)"
        )

        # -- the authors' pipeline ------------------------------------------------------------------------
        authors_tasks = [] if args.authors_tasks == "none" else args.authors_tasks.split(",")
        for task in authors_tasks:
            d = session.suite.load(task, args.data_dir)
            sample = [*d.train_sequences, *d.test_sequences][: args.authors_n]
            t_authors, (theirs, tokens) = timed(partial(authors_loop, embedder, sample, "max_length"))
            counter.sequences = counter.tokens = 0
            t_ours, ours = timed(partial(counter, sample))
            full = len(d.train_sequences) + len(d.test_sequences)
            print(
                f"\nauthors' extractor on {task}, first {len(sample):,} of {full:,} rows: {t_authors:.2f} s, "
                f"{tokens:,} padded tokens (engine: {t_ours:.2f} s, {counter.tokens:,} tokens; "
                f"max |diff| {float(np.abs(theirs - ours).max()):.1e}); their pipeline extracts train + test "
                f"once per task (then 15 fits on the same vectors): projected {t_authors * full / len(sample):.1f} s "
                f"for this task vs {t_current * full / n_rows:.1f} s (current, pro rata) here"
            )
        session.close()


if __name__ == "__main__":
    main()
