"""``geneb plan``: what a run will cost before it starts -- sequences and tokens, time, memory, disk, shards.

For the selected models and tasks: the sequences and bases to embed (counted in the task files where they
are here -- a data directory, the hub cache, a built-in or file suite -- else the registry's length times an
assumed size), the tokens (each model's measured tokens per base, or its tokenization's), and the
throughput of each model measured on this device on a small calibration sample (when its weights are here;
else an assumption from its size: 2 x parameters FLOPs per token at a stated rate). From those: embedding
time, probe time, peak memory, embedding-cache and hub-cache disk, and for ``geneb slurm`` the time per
shard. Every figure says whether it was measured or assumed. ``--save`` writes the plan where a run's
``run.json`` finds it and compares it with what the run took (``compare``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from geneb_bench.data.task import TaskSpec
from geneb_bench.download import add_task_argument
from geneb_bench.models.base import ModelSpec

PLAN_NAME = "plan.json"
# A published task's size when its files are not here: the mean of the 14 tasks of geneb-tasks-subset
# (311,423 rows in all); the protocol caps a task at 100,000 sequences (subsampled before publication).
ASSUMED_SEQUENCES = 22_245
ASSUMED_LENGTH = 500  # bases, for the tasks whose registry row gives no length (the most common one)
# Tokens per base by tokenization, when the model's tokenizer is not here to count them.
TOKENS_PER_BASE = (("k-mer (6", 1 / 6), ("k-mer (3", 1.0), ("bpe", 1 / 4.5), ("k-mer", 1 / 6), ("", 1.0))
SPECIAL_TOKENS = 2
# Effective dense throughput assumed for a model whose weights are absent, per device kind (FLOP/s):
# a CPU core set at what PyTorch reaches on these shapes; a data-centre GPU at ~1/3 of its bf16 peak.
ASSUMED_FLOPS = {"cpu": 5e10, "cuda": 1e14}
BYTES_PER_PARAMETER = {
    "cpu": 4,
    "cuda": 2,
}  # float32 on CPU, bfloat16 on GPU (models.loading.effective_dtype)
ACTIVATION_OVERHEAD = 1.25  # peak memory = weights x this, when it cannot be measured
# Seconds per (training row x dimension x seed) of the logistic probe: the lite demo's 126 items took 26.6 s
# of probe on 2 shared CPU cores for 48.8 s planned at 2e-7, so 1e-7.
PROBE_S_PER_CELL = 1e-7
# Below this size a forward pass is bound by memory traffic and kernel launches, not FLOPs: a smaller model
# is assumed no faster than one of this size.
MIN_EFFECTIVE_PARAMS = 50_000_000
CALIBRATION_SEQUENCES = 32


@dataclass(frozen=True)
class TaskSize:
    task_id: str
    sequences: int
    bases: int
    n_classes: int
    n_train: int
    source: str  # "files: <where>" or "assumed: ..."

    @property
    def mean_length(self) -> float:
        return self.bases / max(self.sequences, 1)


@dataclass(frozen=True)
class Throughput:
    bases_per_s: float
    tokens_per_base: float
    peak_memory_mb: float
    embedding_dim: int
    source: str  # "measured on cpu (32 sequences of 500 bp)" or "assumed: ..."


@dataclass
class ModelPlan:
    model: str
    params: int | None
    throughput: Throughput
    sequences: int = 0
    bases: int = 0
    tokens: int = 0
    embed_s: float = 0.0
    probe_s: float = 0.0
    embedding_cache_bytes: int = 0
    checkpoint_bytes: int = 0
    groups: list[tuple[str, float]] = field(default_factory=list)  # (task, seconds): what shards split

    @property
    def seconds(self) -> float:
        return self.embed_s + self.probe_s


@dataclass
class Plan:
    suite: str
    device: str
    regimes: tuple[str, ...]
    seeds: int
    tasks: list[TaskSize]
    models: list[ModelPlan]
    shards: int = 1
    flops: float = ASSUMED_FLOPS["cpu"]  # the rate assumed for models that were not measured

    @property
    def seconds(self) -> float:
        return sum(m.seconds for m in self.models)

    def shard_seconds(self) -> float:
        """The longest shard when (model, task) groups are dealt longest first to the least loaded shard."""
        loads = [0.0] * max(self.shards, 1)
        for seconds in sorted((s for m in self.models for _, s in m.groups), reverse=True):
            loads[loads.index(min(loads))] += seconds
        return max(loads)

    def to_dict(self) -> dict[str, Any]:
        models = []
        for m in self.models:
            row = asdict(m)
            row.pop("groups")
            models.append(row)
        return {
            "suite": self.suite,
            "device": self.device,
            "regimes": list(self.regimes),
            "seeds": self.seeds,
            "items": len(self.models) * len(self.tasks) * len(self.regimes),
            "tasks": [asdict(t) for t in self.tasks],
            "models": models,
            "totals": {
                "sequences": sum(m.sequences for m in self.models),
                "tokens": sum(m.tokens for m in self.models),
                "embed_s": round(sum(m.embed_s for m in self.models), 1),
                "probe_s": round(sum(m.probe_s for m in self.models), 1),
                "seconds": round(self.seconds, 1),
                "peak_memory_mb": round(
                    max((m.throughput.peak_memory_mb for m in self.models), default=0.0), 1
                ),
                "embedding_cache_bytes": sum(m.embedding_cache_bytes for m in self.models),
                "checkpoint_bytes": sum(m.checkpoint_bytes for m in self.models),
            },
            "shards": self.shards,
            "shard_seconds": round(self.shard_seconds(), 1),
        }


# -- tasks -------------------------------------------------------------------------------------------------
def _registry_length(spec: TaskSpec) -> tuple[int, str]:
    from geneb_bench.data.registry import TABLE

    text = _approx_lengths().get(spec.task_id, "")
    found = re.fullmatch(r"\s*([\d.]+)\s*(bp|kb)\s*", text)
    if found is None:
        return ASSUMED_LENGTH, f"no length in {TABLE}: {ASSUMED_LENGTH} bp assumed"
    return round(float(found[1]) * (1000 if found[2] == "kb" else 1)), f"{text} from {TABLE}"


def _approx_lengths() -> dict[str, str]:
    import csv
    from importlib import resources

    from geneb_bench.data.registry import TABLE

    text = resources.files("geneb_bench.data").joinpath(TABLE).read_text(encoding="utf-8")
    return {row["task_id"]: row["approx_length"] for row in csv.DictReader(text.splitlines())}


def _local(spec: TaskSpec, suite: Any, data_dir: Path | None) -> tuple[Any, str] | None:
    """The task's data when it is here (never downloads): a data directory, the hub cache, built in."""
    from geneb_bench.hub import cached_file

    if spec.location is None:  # built in (lite) or a file suite: always here
        return suite.load(spec.task_id, data_dir), "files: built in / suite file"
    if data_dir is not None and (data_dir / "tasks" / spec.task_id).is_dir():
        return suite.load(spec.task_id, data_dir), f"files: {data_dir}"
    where = spec.location
    names = [f"{where.path.rstrip('/')}/{split}.csv" for split in ("train", "test")]
    if data_dir is None and all(cached_file(where.repo_id, n, where.revision, "dataset") for n in names):
        return suite.load(spec.task_id, None), "files: hub cache"
    return None


def task_sizes(suite_name: str, task_ids: Sequence[str] | None, data_dir: Path | None) -> list[TaskSize]:
    from geneb_bench.data.suites import get_suite

    suite = get_suite(suite_name)
    specs = suite.select(task_ids) if task_ids else list(suite.tasks)
    sizes = []
    for spec in specs:
        found = _local(spec, suite, data_dir)
        if found is not None:
            data, source = found
            sequences = [*data.train_sequences, *data.test_sequences]
            sizes.append(
                TaskSize(
                    spec.task_id,
                    len(sequences),
                    sum(map(len, sequences)),
                    data.n_classes,
                    len(data.train_sequences),
                    source,
                )
            )
            continue
        length, why = _registry_length(spec)
        n_train = round(ASSUMED_SEQUENCES * 0.8)
        sizes.append(
            TaskSize(
                spec.task_id,
                ASSUMED_SEQUENCES,
                ASSUMED_SEQUENCES * length,
                spec.n_classes or 2,
                n_train,
                f"assumed: {ASSUMED_SEQUENCES:,} sequences (files not here), {why}",
            )
        )
    return sizes


# -- models ------------------------------------------------------------------------------------------------
def tokens_per_base(spec: ModelSpec) -> float:
    if spec.family != "hf":
        return 0.0  # k-mer spectra and other extractors: no tokens
    text = spec.tokenization.lower()
    return next(rate for prefix, rate in TOKENS_PER_BASE if prefix in text)


def _weights_here(spec: ModelSpec) -> bool:
    from geneb_bench.hub import cached_file

    if spec.family in ("kmer", "random-transformer"):
        return True
    if spec.source is None:
        return False
    if Path(spec.source).expanduser().is_dir():
        return True
    return spec.weights in ("hub", "") and cached_file(spec.source, "config.json", spec.revision) is not None


def calibrate(spec: ModelSpec, device: str, length: int) -> Throughput | str:
    """Embed a small random-DNA sample with the model and time it (after one warm-up call), or say why not."""
    import numpy as np

    from geneb_bench.models.registry import build_embedder
    from geneb_bench.resources import MB, cuda_peak_bytes, peak_rss_bytes, reset_cuda_peak, tokens_embedded

    if not _weights_here(spec):
        return "weights not here"
    rng = np.random.default_rng(0)
    sample = ["".join(rng.choice(list("ACGT"), size=length)) for _ in range(CALIBRATION_SEQUENCES)]
    try:
        embedder = build_embedder(spec, device)
        embedder.embed(sample[:2])  # warm-up: lazy initialisation, kernels
        reset_cuda_peak()
        before = tokens_embedded(embedder)
        started = time.perf_counter()
        vectors = embedder.embed(sample)
        seconds = max(time.perf_counter() - started, 1e-6)
        after = tokens_embedded(embedder)
        embedder.close()
    except Exception as exc:  # a missing package, an unloadable checkpoint: the plan assumes instead
        return f"calibration failed ({type(exc).__name__}: {str(exc)[:120]})"
    bases = CALIBRATION_SEQUENCES * length
    cuda = cuda_peak_bytes()
    # the process's peak, as a run records it (``resources``): the interpreter, torch and the model together
    peak = cuda if cuda is not None else peak_rss_bytes()
    per_base = (after - (before or 0)) / bases if after is not None else tokens_per_base(spec)
    return Throughput(
        bases / seconds,
        per_base,
        peak / MB,
        int(vectors.shape[1]),
        f"measured on {device} ({CALIBRATION_SEQUENCES} sequences of {length} bp)",
    )


def _weights_bytes(spec: ModelSpec, device: str) -> int:
    return (spec.params or 0) * BYTES_PER_PARAMETER[device]


def assume(spec: ModelSpec, device: str, flops: float, why: str) -> Throughput:
    """Throughput from size alone: a forward pass costs ~2 x parameters FLOPs per token."""
    from geneb_bench.resources import MB

    params = spec.params or 100_000_000
    per_base = tokens_per_base(spec) or 1.0
    tokens_per_s = flops / (2 * max(params, MIN_EFFECTIVE_PARAMS))
    dim = 4096 if params > 3e9 else 2048 if params > 1e9 else 1024 if params > 2e8 else 768
    return Throughput(
        tokens_per_s / per_base,
        per_base,
        _weights_bytes(spec, device) * ACTIVATION_OVERHEAD / MB,
        dim,
        f"assumed ({why})",
    )


def assumptions(device: str, flops: float) -> list[str]:
    """The rules ``assume`` applies, said once under the table."""
    rates = "6-mer 1/6, overlapping 3-mer 1, BPE 1/4.5, single-nucleotide and others 1"
    kind = "cuda" if device.startswith("cuda") else "cpu"
    return [
        f"assumed throughput: 2 x parameters FLOPs per token (at least {MIN_EFFECTIVE_PARAMS:,} parameters) "
        f"at {flops:.1e} FLOP/s on {device} (--tflops); tokens per base by tokenization: {rates}",
        f"assumed memory: parameters x {BYTES_PER_PARAMETER[kind]} bytes x {ACTIVATION_OVERHEAD}; embedding "
        f"width 768/1024/2048/4096 by size; probe {PROBE_S_PER_CELL:g} s per training row x dimension x seed",
    ]


def checkpoint_bytes(spec: ModelSpec) -> int:
    from geneb_bench.models.verify import release_for

    release = release_for(spec.key if spec.group == "geneb" else "", spec.source, spec.revision)
    return sum(f.size for f in release.needed()) if release is not None else 0


def plan_model(
    spec: ModelSpec,
    tasks: Sequence[TaskSize],
    regimes: Sequence[Any],
    seeds: int,
    device: str,
    flops: float,
    calibrate_here: bool,
) -> ModelPlan:
    length = min(max(round(sum(t.bases for t in tasks) / max(sum(t.sequences for t in tasks), 1)), 16), 2000)
    measured = calibrate(spec, device, length) if calibrate_here else "calibration off (--no-calibrate)"
    kind = "cuda" if device.startswith("cuda") else "cpu"
    throughput = measured if isinstance(measured, Throughput) else assume(spec, kind, flops, measured)
    plan = ModelPlan(spec.key, spec.params, throughput, checkpoint_bytes=checkpoint_bytes(spec))
    max_tokens = int(spec.options.get("max_tokens") or 0)
    for task in tasks:
        per_sequence = task.mean_length * throughput.tokens_per_base
        if per_sequence:
            per_sequence += SPECIAL_TOKENS
        if max_tokens:
            per_sequence = min(per_sequence, max_tokens)
        embed_s = task.bases / throughput.bases_per_s
        probe_s = sum(
            (task.n_train if r.shots is None else r.shots * task.n_classes)
            * throughput.embedding_dim
            * seeds
            * PROBE_S_PER_CELL
            for r in regimes
        )
        plan.sequences += task.sequences
        plan.bases += task.bases
        plan.tokens += round(per_sequence * task.sequences)
        plan.embed_s += embed_s
        plan.probe_s += probe_s
        plan.embedding_cache_bytes += task.sequences * throughput.embedding_dim * 4  # float32 vectors
        plan.groups.append((task.task_id, embed_s + probe_s))
    return plan


def make_plan(
    suite: str,
    models: Sequence[str],
    tasks: Sequence[str] | None = None,
    regimes: Sequence[str] = ("full", "10shot", "1shot"),
    seeds: int = 5,
    data_dir: Path | None = None,
    device: str | None = None,
    flops: float | None = None,
    shards: int = 1,
    calibrate_here: bool = True,
) -> Plan:
    from geneb_bench.download import expand_models
    from geneb_bench.models.registry import resolve_models
    from geneb_bench.protocol import get_regime

    device = device or _device()
    sizes = task_sizes(suite, tasks, data_dir)
    chosen = [get_regime(r) for r in regimes]
    rate = flops or ASSUMED_FLOPS["cuda" if device.startswith("cuda") else "cpu"]
    plans = [
        plan_model(spec, sizes, chosen, seeds, device, rate, calibrate_here)
        for spec in resolve_models(expand_models(models))
    ]
    return Plan(suite, device, tuple(r.name for r in chosen), seeds, sizes, plans, shards, rate)


def _device() -> str:
    try:
        import torch
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


# -- text --------------------------------------------------------------------------------------------------
def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def size(n_bytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n_bytes < 1024 or unit == "TB":
            return f"{n_bytes:.0f} {unit}" if unit == "B" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1024
    raise AssertionError("unreachable")


def render(plan: Plan) -> str:
    from tabulate import tabulate

    data = plan.to_dict()
    totals = data["totals"]
    here = sum(1 for t in plan.tasks if t.source.startswith("files"))
    rows = [
        [
            m.model,
            f"{m.sequences:,}",
            f"{m.tokens:,}" if m.tokens else "-",
            f"{m.throughput.bases_per_s * m.throughput.tokens_per_base:,.0f}" if m.tokens else "-",
            f"{m.throughput.bases_per_s:,.0f}",
            duration(m.embed_s),
            duration(m.probe_s),
            size(m.throughput.peak_memory_mb * 1024 * 1024),
            size(m.embedding_cache_bytes),
            size(m.checkpoint_bytes) if m.checkpoint_bytes else "-",
            "measured" if m.throughput.source.startswith("measured") else "assumed",
        ]
        for m in plan.models
    ]
    header = [
        "model",
        "sequences",
        "tokens",
        "tok/s",
        "bp/s",
        "embed",
        "probe",
        "peak mem",
        "emb cache",
        "ckpt",
        "",
    ]
    lines = [
        f"geneb plan: suite {plan.suite}, {len(plan.models)} models x {len(plan.tasks)} tasks x "
        f"{len(plan.regimes)} regimes = {data['items']:,} items, {plan.seeds} seeds, on {plan.device}",
        f"tasks: {here} counted from their files, {len(plan.tasks) - here} assumed "
        f"({ASSUMED_SEQUENCES:,} sequences each at the registry's length)"
        if here < len(plan.tasks)
        else f"tasks: all {here} counted from their files",
        tabulate(rows, headers=header, tablefmt="simple", disable_numparse=True),
        f"total: {duration(plan.seconds)} ({duration(totals['embed_s'])} embedding, "
        f"{duration(totals['probe_s'])} probe), peak memory {size(totals['peak_memory_mb'] * 1024 * 1024)} "
        f"(largest model), embedding cache {size(totals['embedding_cache_bytes'])}, "
        f"checkpoints {size(totals['checkpoint_bytes'])}",
    ]
    if plan.shards > 1:
        lines.append(
            f"slurm: {plan.shards} shards, the longest {duration(data['shard_seconds'])}; per-model memory "
            "(GPU on cuda) is the peak mem column"
        )
    why: dict[str, int] = {}
    for m in plan.models:
        if not m.throughput.source.startswith("measured"):
            why[m.throughput.source] = why.get(m.throughput.source, 0) + 1
    lines += [f"  {n} models {reason}" for reason, n in sorted(why.items())]
    if why:
        lines += [f"  {line}" for line in assumptions(plan.device, plan.flops)]
    return "\n".join(lines)


# -- plan vs actual ----------------------------------------------------------------------------------------
def actual(results: Sequence[Any], wall_s: float | None = None) -> dict[str, Any]:
    """What the results of a run record they cost (``ItemResult.resources``, ``timings``), in total."""
    measured = [r.resources for r in results if getattr(r, "resources", None)]
    embed_s = sum(float(r["embed_s"]) for r in measured)
    probe_s = sum(float(r.timings.get("probe_s", 0.0)) for r in results)
    peaks = [float(r.get("peak_cuda_mb") or r["peak_rss_mb"]) for r in measured]
    return {
        "items_measured": len(measured),
        "sequences": sum(int(r["sequences"]) for r in measured),
        "tokens": sum(int(r.get("tokens") or 0) for r in measured),
        "embed_s": round(embed_s, 1),
        "probe_s": round(probe_s, 1),
        "seconds": round(embed_s + probe_s, 1),
        "peak_memory_mb": round(max(peaks, default=0.0), 1),
        **({"wall_s": round(wall_s, 1)} if wall_s is not None else {}),
    }


COMPARED = ("sequences", "tokens", "embed_s", "probe_s", "seconds", "peak_memory_mb")


def run_summary(
    results_dir: Path, results: Sequence[Any], wall_s: float
) -> tuple[dict[str, Any], str | None]:
    """For ``run.json``: the run's cost, and the plan's next to it when ``geneb plan --save`` left one in the
    results directory; with the one line the terminal shows."""
    taken = actual(results, wall_s)
    path = results_dir / PLAN_NAME
    try:
        planned = json.loads(path.read_text(encoding="utf-8"))["totals"]
        comparison = {"planned": {k: planned[k] for k in COMPARED}, "actual": taken, "plan": str(path)}
    except (OSError, ValueError, KeyError, TypeError):  # no plan (or not one): the cost alone
        return {"actual": taken}, None
    return comparison, compare_line(comparison)


def compare_line(comparison: dict[str, Any]) -> str:
    p, a = comparison["planned"], comparison["actual"]
    return (
        f"geneb plan vs run: time {duration(p['seconds'])} planned, {duration(a['seconds'])} taken "
        f"(embedding {duration(a['embed_s'])}, probe {duration(a['probe_s'])}); sequences {p['sequences']:,} "
        f"planned, {a['sequences']:,} embedded; peak memory {p['peak_memory_mb']:,.0f} MB planned, "
        f"{a['peak_memory_mb']:,.0f} MB"
    )


# -- command -----------------------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> int:
    plan = make_plan(
        args.suite,
        args.model or ["baselines"],
        args.task,
        tuple(r for r in args.regimes.split(",") if r),
        len([s for s in args.seeds.split(",") if s]),
        Path(args.data_dir).expanduser() if args.data_dir else None,
        args.device,
        args.tflops * 1e12 if args.tflops else None,
        args.shards,
        not args.no_calibrate,
    )
    print(json.dumps(plan.to_dict(), indent=1) if args.json else render(plan))
    if args.save:
        from geneb_bench.io import atomic_write_text

        target = Path(args.save)
        target = target / PLAN_NAME if target.is_dir() else target
        atomic_write_text(target, json.dumps(plan.to_dict(), indent=1) + "\n")
        print(f"wrote {target}", file=sys.stderr)
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    import os

    parser = sub.add_parser(
        "plan", help="what a run will cost: sequences, tokens, time, memory, disk (and shards for slurm)"
    )
    parser.add_argument("--suite", default="lite", help="lite, geneb or a suite file (default: lite)")
    parser.add_argument(
        "--geneb-model",
        "--model",
        dest="model",
        action="append",
        default=None,
        metavar="MODEL",
        help="as for the run, repeatable (default: baselines); zoo = the 40 published models",
    )
    add_task_argument(parser)
    parser.add_argument(
        "--regimes", default="full,10shot,1shot", help="as --geneb-regimes (default: all three)"
    )
    parser.add_argument(
        "--seeds", default="13,17,42,123,997", help="as --geneb-seeds (default: the protocol's)"
    )
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("GENEB_DATA_DIR"),
        help="local GENEB data (default: $GENEB_DATA_DIR)",
    )
    parser.add_argument("--device", default=None, help="cpu, cuda (default: cuda when available)")
    parser.add_argument(
        "--tflops",
        type=float,
        default=None,
        help="effective TFLOP/s assumed for models whose weights are not here (default: 0.05 on cpu, 100 on cuda)",
    )
    parser.add_argument(
        "--shards", type=int, default=1, help="plan a `geneb slurm` run over this many shards (default: 1)"
    )
    parser.add_argument(
        "--no-calibrate",
        action="store_true",
        help="assume every throughput (load no model, e.g. on a login node)",
    )
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.add_argument(
        "--save",
        default=None,
        help="write plan.json here (a results directory: its run.json compares; default: not written)",
    )
