"""Embedding engine vs the authors' extraction loops at real model sizes, interleaved, with the matmul peak.

    python benchmarks/embed_bench.py --models minilm,bert-base --n 64 --repeats 2
    python benchmarks/embed_bench.py --models random-bert-tiny --tasks leannmlindsey_GUE_human_tf_1 --n 2000
    python benchmarks/embed_bench.py --models minilm --budgets 512,1024,2048,4096,8192   # rows per forward
    python benchmarks/embed_bench.py --models minilm --contenders engine,engine@2048,longest --repeats 9

Models: ``minilm`` (a random 6-layer, 384-wide BERT, 11M parameters, MiniLM-sized) and ``bert-base`` (12 x 768,
86M), built on the fly on a character tokenizer (no download), or any registry key (``random-bert-tiny``).
Tasks: the fixed-length GUE ``human_tf_0`` (101 bp) and ``prom_300_tata`` (300 bp) read in place from
``--data-dir``, and ``random_20-400bp`` (seeded random sequences of 20-400 bp: a variable-length task).
Contenders, on the same sequences, weights and threads, run in rotating order within each repeat (a loaded
machine slows all of them alike; best of ``--repeats`` is kept):

- ``engine``: ``HFEmbedder.embed`` (each sequence at the width grid of its own length, ``engine.PADDING_POLICY``;
  token-budget batches; masked mean): batch-invariant, so its vectors are also checked bit-identical across
  ``--budgets``;
- ``authors/longest``: the GENEB authors' extractor loop: batches of 8 in input order, tokenizer padding to
  the longest in the batch, attention mask, masked mean;
- ``authors/max_len``: the same loop padding every batch to ``model_max_length`` (512), as their Nucleotide
  Transformer extractor does.

A shared machine's speed drifts by 10-20% between runs, so each repeat runs every contender once, one after the
other, and the speed-up is given twice: best time / best engine time, and the median (and range) of the
per-repeat ratios (each contender against the engine run of the same repeat, minutes apart at most).

For each: wall time, tokens computed / needed, speed-up of the engine, share of the measured matmul peak
(model FLOPs of the padded batches: 2 x matmul parameters per token + attention 4 x width x hidden per token
and layer / wall time / the sgemm rate measured in this run on the model's own FFN shape), max |diff| to the
engine's vectors (allclose only: other padding moves the last bits) and the 1-minute load average. Then, for
``--session``, the full session path cold (fresh cache) vs warm (disk hit).
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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


VARIABLE_TASK = "random_20-400bp"
DEFAULT_TASKS = f"leannmlindsey_GUE_human_tf_0,leannmlindsey_GUE_prom_300_tata,{VARIABLE_TASK}"
# Random BERTs built on the fly (character tokens, no download): hidden size, layers, heads
SIZES = {"minilm": (384, 6, 12), "bert-base": (768, 12, 12)}
MAX_LEN = 512
Shapes = list[tuple[int, int]]  # (rows, padded width) of each forward


def variable_sequences(n: int, seed: int = 0) -> list[str]:
    """Random DNA of 20-400 bp (uniform lengths): the issue's variable-length task."""
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list("ACGT"), size=int(k))) for k in rng.integers(20, 401, size=n)]


def load_sequences(data_dir: Path, task: str, n: int) -> list[str]:
    return variable_sequences(n) if task == VARIABLE_TASK else read_sequences(data_dir, task, n)


def build_model(name: str) -> Any:
    """An HF (engine) embedder: a size from ``SIZES`` built here, or a registry key."""
    from geneb_bench.models.hf import HFEmbedder
    from geneb_bench.models.random_init import build_random_model, char_tokenizer

    if name in SIZES:
        hidden, layers, heads = SIZES[name]
        options = {"arch": "bert", "hidden_size": hidden, "num_layers": layers, "num_heads": heads}
        model = build_random_model({**options, "max_tokens": MAX_LEN, "seed": 0})
        embedder = HFEmbedder(model, char_tokenizer(MAX_LEN), max_tokens=MAX_LEN)
    else:
        from geneb_bench.models.registry import build_embedder, resolve_model

        embedder = cast(HFEmbedder, build_embedder(resolve_model(name), "cpu"))
    embedder.configure(progress=False)
    return embedder


def authors_loop(embedder: Any, sequences: Sequence[str], padding: bool | str) -> tuple[np.ndarray, Shapes]:
    """The authors' extractor: fixed batches of 8 in input order, tokenizer padding, masked mean."""
    import torch

    tok, model, limit = embedder.tokenizer, embedder.model, embedder.max_tokens
    out, shapes = [], []
    with torch.no_grad():
        for start in range(0, len(sequences), 8):
            batch = [s.upper() for s in sequences[start : start + 8]]
            inputs = tok(batch, padding=padding, truncation=True, max_length=limit, return_tensors="pt")
            hidden = model(**inputs).last_hidden_state
            mask = inputs["attention_mask"].unsqueeze(-1).float()
            out.append(((hidden * mask).sum(1) / mask.sum(1)).numpy())
            shapes.append(tuple(inputs["input_ids"].shape))
    return np.concatenate(out), shapes


def engine_shapes(embedder: Any, sequences: Sequence[str], budget: int | None = None) -> Shapes:
    """The (rows, width) of every forward the engine makes for ``sequences`` at ``budget`` (None: its own)."""
    from geneb_bench.embeddings.engine import token_budget_batches

    lengths = [len(ids) for ids in embedder.encode(sequences)]
    plan = token_budget_batches(lengths, budget or embedder.token_budget, embedder.engine.batching)
    return [(len(batch), width) for width, batch in plan]


def engine_run(
    embedder: Any, sequences: Sequence[str], budget: int
) -> Callable[[], tuple[np.ndarray, Shapes]]:
    """A contender: the engine at ``budget`` tokens a forward. Its plan is made here, once, so the timed call
    only embeds (the loops' timings hold no second tokenisation either)."""
    shapes = engine_shapes(embedder, sequences, budget)

    def run() -> tuple[np.ndarray, Shapes]:
        default, embedder.token_budget = embedder.token_budget, budget
        try:
            return embedder.embed(sequences), shapes
        finally:
            embedder.token_budget = default

    return run


def engine_tokens(embedder: Any, sequences: Sequence[str]) -> tuple[int, int]:
    """Padded tokens the engine computes for ``sequences``, and tokens needed."""
    computed = sum(rows * width for rows, width in engine_shapes(embedder, sequences))
    return computed, sum(len(ids) for ids in embedder.encode(sequences))


def model_flops(model: Any, shapes: Shapes) -> float:
    """Forward FLOPs of a BERT-like encoder over the batches: 2 x matmul weights per token, plus attention
    (Q K^T and A V: 4 x width x hidden per token and layer). Embeddings, norms and softmax not counted."""
    config = model.config
    hidden, layers = int(config.hidden_size), int(config.num_hidden_layers)
    inter = int(getattr(config, "intermediate_size", 4 * hidden))
    per_token = 2 * layers * (4 * hidden * hidden + 2 * hidden * inter)
    return float(sum(rows * width * (per_token + 4 * layers * width * hidden) for rows, width in shapes))


def sgemm_rate(hidden: int, seconds: float = 0.5) -> float:
    """FLOP/s of torch's float32 matmul on the model's FFN shape (2048 tokens x hidden x 4 hidden)."""
    import torch

    a, b = torch.randn(2048, hidden), torch.randn(hidden, 4 * hidden)
    torch.mm(a, b)
    best, deadline = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        torch.mm(a, b)
        best = max(best, 2 * 2048 * hidden * 4 * hidden / (time.perf_counter() - start))
    return best


def mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


@dataclass
class Contender:
    name: str
    run: Callable[[], tuple[np.ndarray, Shapes]]
    times: list[float] = field(default_factory=list)
    vectors: np.ndarray | None = None
    shapes: Shapes = field(default_factory=list)


def compare(
    embedder: Any, task: str, sequences: list[str], repeats: int, contenders: Sequence[str]
) -> dict[str, Any]:
    """The contenders on one task, in rotating order per repeat; returns the figures of each."""
    runs: dict[str, Callable[[], tuple[np.ndarray, Shapes]]] = {
        "engine": engine_run(embedder, sequences, embedder.token_budget),
        "authors/longest": partial(authors_loop, embedder, sequences, True),
        "authors/max_len": partial(authors_loop, embedder, sequences, "max_length"),
    }
    for name in contenders:  # engine@N: the engine at a budget of N tokens, beside the default
        if name.startswith("engine@"):
            runs[name] = engine_run(embedder, sequences, int(name.split("@")[1]))
    entries = [
        Contender(name, runs[name])
        for name in runs
        if name.split("/")[-1] in contenders or name in contenders
    ]
    peak, loads = sgemm_rate(int(embedder.model.config.hidden_size)), []
    for repeat in range(repeats):
        for k in range(len(entries)):
            entry = entries[(k + repeat) % len(entries)]
            loads.append(os.getloadavg()[0])
            start = time.perf_counter()
            entry.vectors, entry.shapes = entry.run()
            entry.times.append(time.perf_counter() - start)
        peak = max(peak, sgemm_rate(int(embedder.model.config.hidden_size)))  # between repeats: the best seen
    needed = sum(len(ids) for ids in embedder.encode(sequences))
    reference = entries[0].vectors
    assert reference is not None
    figures = {}
    for entry in entries:
        assert entry.vectors is not None
        diff = float(np.abs(entry.vectors - reference).max())
        if entry.name.startswith("engine") and entries[0].name == "engine":
            assert np.array_equal(entry.vectors, reference), f"{entry.name}: the budget moved a vector"
        assert np.allclose(entry.vectors, reference, rtol=1e-4, atol=1e-5), f"{entry.name}: differs by {diff}"
        wall = min(entry.times)
        figures[entry.name] = {
            "wall": wall,
            "tokens": sum(r * w for r, w in entry.shapes),
            "flops": model_flops(embedder.model, entry.shapes),
            "diff": diff,
            "times": entry.times,
        }
    lengths = sorted({len(s) for s in sequences})
    shown = f"{lengths[0]}-{lengths[-1]}" if len(lengths) > 1 else str(lengths[0])
    print(
        f"\n== {task}: {len(sequences)} sequences, {shown} bp, {needed:,} tokens needed; sgemm peak "
        f"{peak / 1e9:.0f} GFLOP/s; load average {min(loads):.1f}-{max(loads):.1f} during the runs"
    )
    table(figures, len(sequences), needed, peak)
    return {"figures": figures, "needed": needed, "n": len(sequences), "peak": peak, "loads": loads}


def paired_ratios(times: Sequence[float], engine_times: Sequence[float]) -> str:
    """Median (min-max) of a contender's time / the engine's time in the same repeat."""
    ratios = sorted(t / e for t, e in zip(times, engine_times, strict=True))
    return f"{float(np.median(ratios)):.2f} ({ratios[0]:.2f}-{ratios[-1]:.2f})"


def table(figures: dict[str, dict[str, Any]], n_sequences: int, needed: int, peak: float) -> None:
    print(
        f"{'':18}{'wall s':>9}{'seq/s':>9}{'tokens':>11}{'/needed':>9}{'engine x':>10}{'per repeat':>18}"
        f"{'% peak':>8}{'max|diff|':>11}"
    )
    engine = figures.get("engine", next(iter(figures.values())))
    for name, f in figures.items():
        print(
            f"{name:18}{f['wall']:9.2f}{n_sequences / f['wall']:9.1f}{int(f['tokens']):11,}{f['tokens'] / needed:9.3f}"
            f"{f['wall'] / engine['wall']:10.2f}{paired_ratios(f['times'], engine['times']):>18}"
            f"{100 * f['flops'] / f['wall'] / peak:8.1f}{f['diff']:11.1e}"
        )


def budget_sweep(
    embedder: Any, task: str, sequences: list[str], budgets: Sequence[int], repeats: int
) -> None:
    """Engine wall time per token budget (rows per forward), interleaved; the vectors must be bit-identical."""
    times: dict[int, list[float]] = {b: [] for b in budgets}
    reference = None
    for repeat in range(repeats):
        for k in range(len(budgets)):
            budget = budgets[(k + repeat) % len(budgets)]
            embedder.token_budget = budget
            start = time.perf_counter()
            vectors = embedder.embed(sequences)
            times[budget].append(time.perf_counter() - start)
            reference = vectors if reference is None else reference
            assert np.array_equal(vectors, reference), f"budget {budget} moved the vectors"
    best = min(min(t) for t in times.values())
    print(
        f"\n== rows per forward, {task} ({len(sequences)} sequences; vectors bit-identical at every budget)"
    )
    print(f"{'budget tokens':>14}{'wall s':>9}{'x best':>8}{'median s':>10}")
    for budget in budgets:
        t = times[budget]
        print(f"{budget:14,}{min(t):9.2f}{min(t) / best:8.2f}{float(np.median(t)):10.2f}")


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


def add_task_arguments(parser: argparse.ArgumentParser, default_tasks: str = "all") -> None:
    """``--data-dir`` and ``--tasks``, as every benchmark on the real tasks takes them."""
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("GENEB_DATA_DIR") or DEFAULT_DATA)
    )
    parser.add_argument(
        "--tasks", default=default_tasks, help="comma-separated task ids, or all (every task in --data-dir)"
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
    add_task_arguments(parser, default_tasks=DEFAULT_TASKS)
    parser.add_argument("--models", default="minilm,bert-base", help=f"{', '.join(SIZES)} or registry keys")
    parser.add_argument("--n", type=int, default=64, help="sequences per task (first n of train)")
    parser.add_argument(
        "--repeats", type=int, default=2, help="best of this many interleaved runs per contender"
    )
    parser.add_argument(
        "--contenders",
        default="engine,longest,max_len",
        help="engine, longest, max_len, and engine@N (the engine at N tokens a forward)",
    )
    parser.add_argument("--budget", type=int, default=0, help="engine token budget (default: the engine's)")
    parser.add_argument("--budgets", default="", help="also sweep these engine budgets (rows per forward)")
    parser.add_argument("--session", action="store_true", help="also time the session path cold vs warm")
    parser.add_argument("--session-task", default="leannmlindsey_GUE_prom_core_tata")
    args = parser.parse_args()

    import torch

    from geneb_bench.embeddings.engine import PADDING_POLICY

    torch.manual_seed(0)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores, load average "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}, engine padding: {PADDING_POLICY}"
    )
    tasks = selected_tasks(args)
    for name in args.models.split(","):
        embedder = build_model(name)
        if args.budget:
            embedder.token_budget = args.budget
        params = sum(p.numel() for p in embedder.model.parameters())
        print(
            f"\n######## {name}: {params / 1e6:.1f}M parameters, engine budget {embedder.token_budget:,} tokens"
        )
        totals: dict[str, dict[str, Any]] = {}
        needed_total = n_total = 0
        peak = 0.0
        for task in tasks:
            sequences = load_sequences(args.data_dir, task, args.n)
            done = compare(embedder, task, sequences, args.repeats, args.contenders.split(","))
            needed_total, n_total, peak = (
                needed_total + done["needed"],
                n_total + done["n"],
                max(peak, done["peak"]),
            )
            for contender, f in done["figures"].items():
                zero = {"wall": 0.0, "tokens": 0.0, "flops": 0.0, "diff": 0.0, "times": [0.0] * args.repeats}
                total = totals.setdefault(contender, zero)
                for key in ("wall", "tokens", "flops"):
                    total[key] += f[key]
                total["diff"] = max(total["diff"], f["diff"])
                total["times"] = [a + b for a, b in zip(total["times"], f["times"], strict=True)]
        print(f"\n== {name}, all {len(tasks)} tasks: {n_total:,} sequences, {needed_total:,} tokens needed")
        table(totals, n_total, needed_total, peak)
        if args.budgets:
            sequences = load_sequences(args.data_dir, tasks[0], args.n)
            budget_sweep(
                embedder, tasks[0], sequences, [int(b) for b in args.budgets.split(",")], args.repeats
            )
        embedder.close()
    if args.session:
        cold_vs_warm("random-bert-tiny", args.session_task, args.data_dir, args.repeats)


if __name__ == "__main__":
    main()
