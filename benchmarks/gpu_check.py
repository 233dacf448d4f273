"""The GPU paths in one call (under 10 minutes on one card): what a session with a device runs first.

    python benchmarks/gpu_check.py                  # on a CUDA machine; writes gpu_check.json
    python benchmarks/gpu_check.py --dry            # tiny sizes on the CPU (CI runs this)

Measured, each on the same machine and in one process unless said:

1. the card's matmul peak (bf16 and fp32/TF32 as torch runs them by default), TFLOP/s;
2. extraction throughput through ``EmbeddingEngine`` (token-budget batches, masked mean) of a ~100M-parameter
   random BERT (transformers, 12 x 768) and a HyenaDNA-style model (FFT long convolutions with gating, written
   here in plain torch so that nothing is downloaded), in bf16 and fp32: tokens/s and the share of the
   matmul peak that 2 x parameters x tokens/s reaches (FLOPs of attention and FFTs not counted);
3. the GPU-resident store (``embeddings/memory.py`` ``on_device``): first copy vs later use;
4. the torch probe on the device vs sklearn on the same embeddings: time and |dMCC| per regime;
5. batch invariance (``engine.PADDING_POLICY``): random BERTs of MiniLM size (6 x 384) and BERT-base size
   (12 x 768), bf16 and fp32, sequences of 3-400 tokens (under 16: padded to the minimum width) embedded
   together, one at a time, in reverse order and at another token budget: how many rows are not
   bit-identical and by how much; then which shapes move a row's numbers (the same row in batches of 1-128
   rows at its width, and at twice its width);
6. with two or more GPUs: two worker processes (xdist ids gw0 and gw1, pinned by the plugin's
   ``_pin_worker_gpu``) extracting at once, the aggregate tokens/s vs one.

Prints one table (check, setting, figure, unit) and writes every figure to ``--json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
Row = tuple[str, str, float, str]


def sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def clock(device: str, fn: Callable[[], Any]) -> tuple[float, Any]:
    sync(device)
    start = time.perf_counter()
    result = fn()
    sync(device)
    return time.perf_counter() - start, result


def matmul_peak(device: str, dtype: Any, n: int, repeats: int) -> float:
    """TFLOP/s of an n x n matmul (best of ``repeats``), after a warm-up."""
    import torch

    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    a @ b
    best = min(clock(device, lambda: a @ b)[0] for _ in range(repeats))
    return 2 * n**3 / best / 1e12


def random_bert(hidden: int, layers: int, device: str, dtype: Any) -> tuple[Any, int]:
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=16,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=max(1, hidden // 64),
        intermediate_size=4 * hidden,
        max_position_embeddings=1024,
    )
    model = BertModel(config, add_pooling_layer=False).to(device=device, dtype=dtype).eval()
    return model, sum(p.numel() for p in model.parameters())


def hyena_style(width: int, layers: int, max_len: int, device: str, dtype: Any) -> tuple[Any, int]:
    """A HyenaDNA-shaped decoder: per block, an order-2 Hyena operator (short depthwise conv, FFT long
    convolution with an explicit filter, elementwise gates) and an MLP, pre-norm residuals."""
    import torch
    from torch import nn

    class HyenaOperator(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.in_proj = nn.Linear(width, 3 * width)
            self.short = nn.Conv1d(3 * width, 3 * width, 3, padding=2, groups=3 * width)
            self.filter = nn.Parameter(torch.randn(width, max_len) * math.exp(-1))
            self.out_proj = nn.Linear(width, width)

        def forward(self, x: Any) -> Any:
            length = x.shape[1]
            z = self.short(self.in_proj(x).transpose(1, 2))[..., :length]
            gate1, gate2, v = z.split(width, dim=1)
            n = 2 * length
            k = torch.fft.rfft(self.filter[:, :length].float(), n=n)
            v = torch.fft.irfft(torch.fft.rfft((v * gate1).float(), n=n) * k, n=n)[..., :length].to(x.dtype)
            return self.out_proj((v * gate2).transpose(1, 2))

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
            self.mixer = HyenaOperator()
            self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

        def forward(self, x: Any) -> Any:
            x = x + self.mixer(self.norm1(x))
            return x + self.mlp(self.norm2(x))

    class HyenaStyle(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(16, width)
            self.blocks = nn.ModuleList(Block() for _ in range(layers))
            self.norm = nn.LayerNorm(width)

        def forward(self, ids: Any, mask: Any) -> Any:  # causal: right padding leaves real tokens exact
            x = self.embed(ids)
            for block in self.blocks:
                x = block(x)
            return self.norm(x)

    torch.manual_seed(0)
    model = HyenaStyle().to(device=device, dtype=dtype).eval()
    return model, sum(p.numel() for p in model.parameters())


def extraction(
    forward: Callable[[Any, Any], Any], device: str, n: int, length: int, budget: int
) -> tuple[float, Any]:
    """Tokens/s of the engine over n random sequences of 3/4 to all of ``length`` tokens (one warm-up batch)."""
    from geneb_bench.embeddings.engine import EmbeddingEngine

    rng = np.random.default_rng(0)
    encoded = [rng.integers(5, 9, int(rng.integers(3 * length // 4, length + 1))).tolist() for _ in range(n)]
    engine = EmbeddingEngine(forward, pad_id=0, device=device, token_budget=budget, progress=False)
    engine.embed_ids(encoded[:2], ["x"] * 2, [0, 1])
    seconds, vectors = clock(device, lambda: engine.embed_ids(encoded, ["x"] * n, list(range(n))))
    return sum(len(e) for e in encoded) / seconds, vectors


def invariance_check(
    device: str, sizes: dict[str, tuple[int, int]], n: int, lengths: tuple[int, int]
) -> list[Row]:
    """Rows of the engine's vectors that are not bit-identical across companions, order and budget, per model
    size and dtype; then the shapes that move one row's numbers (rows per batch at a fixed width; width)."""
    import torch

    from geneb_bench.embeddings.engine import EmbeddingEngine, padded_width

    rng = np.random.default_rng(3)
    encoded = [rng.integers(5, 9, int(k)).tolist() for k in rng.integers(lengths[0], lengths[1] + 1, n)]
    rows: list[Row] = []
    for size, (hidden, layers) in sizes.items():
        for label, dtype in (("bf16", torch.bfloat16), ("fp32", torch.float32)):
            model, _ = random_bert(hidden, layers, device, dtype)

            def forward(ids: Any, mask: Any, m: Any = model) -> Any:
                return m(input_ids=ids, attention_mask=mask).last_hidden_state

            def engine(budget: int) -> EmbeddingEngine:
                return EmbeddingEngine(forward, pad_id=0, device=device, token_budget=budget, progress=False)

            big = engine(1 << 16)
            reference = big.embed_ids(encoded, ["x"] * n, list(range(n)))
            variants = {
                "one at a time": np.stack([big.embed_ids([e], ["x"], [0])[0] for e in encoded]),
                "reverse order": big.embed_ids(encoded[::-1], ["x"] * n, list(range(n)))[::-1],
                "budget 1,024": engine(1024).embed_ids(encoded, ["x"] * n, list(range(n))),
            }
            setting = f"{size} {label}"
            for variant, vectors in variants.items():
                moved = ~(vectors == reference).all(axis=1)
                diff = float(np.abs(vectors - reference).max())
                rows.append(
                    (
                        "invariance",
                        f"{setting}, {variant}: rows not bit-identical",
                        float(moved.sum()),
                        "rows",
                    )
                )
                rows.append(("invariance", f"{setting}, {variant}: max |diff|", diff, "abs"))
            # which shapes move numbers: row 0 alone vs in batches of R rows at its own width, and at 2x width
            ids = encoded[0]
            width = padded_width(len(ids))
            alone = big._embed_batch([ids], width, [0])
            for count in (2, 8, 32, 128):
                batch = [ids] + [encoded[1 + i % (n - 1)][:width] for i in range(count - 1)]
                got = big._embed_batch(batch, width, list(range(count)))[0]
                diff = float(np.abs(got - alone[0]).max())
                rows.append(("invariance shape", f"{setting}: {count} rows x {width} vs 1 row", diff, "abs"))
            wider = big._embed_batch([ids], 2 * width, [0])
            diff = float(np.abs(wider - alone).max())
            rows.append(("invariance shape", f"{setting}: width {2 * width} vs {width}", diff, "abs"))
            del model
    return rows


def store_check(device: str, n: int, dim: int) -> list[Row]:
    from geneb_bench.embeddings.memory import EmbeddingStore

    rng = np.random.default_rng(0)
    store = EmbeddingStore(max_bytes=2**40)
    store.put(
        ("m", "t"),
        rng.standard_normal((n, dim), dtype=np.float32),
        rng.standard_normal((n // 4, dim), dtype=np.float32),
        cached=False,
    )
    first, _ = clock(device, lambda: store.on_device(("m", "t"), device))
    again, _ = clock(device, lambda: store.on_device(("m", "t"), device))
    setting = f"{n:,}+{n // 4:,} x {dim} float32 -> {device}"
    return [
        ("resident store", f"{setting}: first copy", first * 1e3, "ms"),
        ("resident store", f"{setting}: later regimes", again * 1e3, "ms"),
    ]


def probe_check(
    device: str, vectors: np.ndarray, labels: np.ndarray, seeds: list[int]
) -> tuple[list[Row], float]:
    from geneb_bench.probe.evaluate import evaluate_regime
    from geneb_bench.protocol import REGIMES

    split = len(vectors) * 4 // 5
    x_train, x_test, y_train, y_test = vectors[:split], vectors[split:], labels[:split], labels[split:]
    rows: list[Row] = []
    worst = 0.0
    for regime in REGIMES:
        results, times = {}, {}
        for backend, where in (("sklearn", "cpu"), ("torch", device)):
            times[backend], results[backend] = clock(
                where,
                lambda b=backend, w=where, r=regime: evaluate_regime(  # type: ignore[misc]
                    x_train, y_train, x_test, y_test, r, seeds, backend=b, device=w
                ),
            )
        dmcc = abs(results["sklearn"].mean("mcc") - results["torch"].mean("mcc"))
        worst = max(worst, dmcc)
        setting = f"{regime.name}, {split:,} x {vectors.shape[1]}, {len(seeds)} seeds"
        rows += [
            ("probe sklearn (cpu)", setting, times["sklearn"], "s"),
            (f"probe torch ({device})", setting, times["torch"], "s"),
            ("probe |dMCC|", setting, dmcc, ""),
        ]
    return rows, worst


WORKER = """
import json, os, sys, time
sys.path.insert(0, {bench!r})
from geneb_bench.plugin import _pin_worker_gpu
_pin_worker_gpu()
import torch
from gpu_check import random_bert, extraction
model, _ = random_bert({hidden}, {layers}, "cuda", torch.bfloat16)
forward = lambda ids, mask: model(input_ids=ids, attention_mask=mask).last_hidden_state
tps, _ = extraction(forward, "cuda", {n}, {length}, {budget})
print(json.dumps({{"visible": os.environ.get("CUDA_VISIBLE_DEVICES"), "tokens_per_s": tps}}))
"""


def two_workers(hidden: int, layers: int, n: int, length: int, budget: int) -> list[Row]:
    code = WORKER.format(
        bench=str(Path(__file__).resolve().parent),
        hidden=hidden,
        layers=layers,
        n=n,
        length=length,
        budget=budget,
    )
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            env={**env, "PYTEST_XDIST_WORKER": f"gw{i}"},
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    outs = [json.loads(p.communicate(timeout=240)[0].splitlines()[-1]) for p in procs]
    wall = time.perf_counter() - start
    gpus = ",".join(str(o["visible"]) for o in outs)
    return [
        (
            "2 workers",
            f"gw0, gw1 pinned to GPUs {gpus}: aggregate bf16",
            sum(o["tokens_per_s"] for o in outs),
            "tok/s",
        ),
        ("2 workers", "wall incl. start-up", wall, "s"),
    ]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dry", action="store_true", help="tiny sizes on the CPU (CI: checks the script runs)"
    )
    parser.add_argument("--json", type=Path, default=Path("gpu_check.json"))
    parser.add_argument("--device", default=None, help="default: cuda when available, else cpu (--dry: cpu)")
    args = parser.parse_args(argv)

    import torch

    device = args.device or ("cpu" if args.dry or not torch.cuda.is_available() else "cuda")
    if args.dry:  # sizes: (bert hidden, layers), (hyena width, layers), sequences, length, budget, store rows, probe rows
        bert, hyena, n, length, budget, store_n, probe_n, seeds = (
            (64, 2),
            (32, 2),
            16,
            64,
            512,
            1000,
            400,
            [13],
        )
    else:
        bert, hyena, n, length, budget, store_n, probe_n, seeds = (
            (768, 12),
            (256, 8),
            4096,
            512,
            65_536,
            100_000,
            20_000,
            [13, 17],
        )
    rows: list[Row] = []
    name = torch.cuda.get_device_name() if device.startswith("cuda") else "cpu"
    print(f"device {device} ({name}), torch {torch.__version__}, dry={args.dry}", flush=True)

    peaks = {}
    for label, dtype in (("bf16", torch.bfloat16), ("fp32", torch.float32)):
        peaks[label] = matmul_peak(device, dtype, 512 if args.dry else 8192, 3 if args.dry else 10)
        rows.append(("matmul peak", f"{label}, n={512 if args.dry else 8192}", peaks[label], "TFLOP/s"))

    probe_vectors = None
    # random_bert or hyena_style: different arities, called by model name below
    Build = Callable[..., tuple[Any, int]]
    builders: tuple[tuple[str, Build, tuple[int, int]], ...] = (
        ("random BERT", random_bert, bert),
        ("HyenaDNA-style", hyena_style, hyena),
    )
    for model_name, build, size in builders:
        for label, dtype in (("bf16", torch.bfloat16), ("fp32", torch.float32)):
            if model_name == "random BERT":
                model, params = build(size[0], size[1], device, dtype)

                def forward(ids: Any, mask: Any, m: Any = model) -> Any:
                    return m(input_ids=ids, attention_mask=mask).last_hidden_state
            else:
                model, params = build(size[0], size[1], length, device, dtype)
                forward = model
            tps, vectors = extraction(forward, device, n, length, budget)
            share = 2 * params * tps / 1e12 / peaks[label]
            setting = f"{params / 1e6:.1f}M params, {label}, {n:,} x <= {length} tokens"
            rows += [
                (f"extract {model_name}", setting, tps, "tok/s"),
                (f"extract {model_name}", f"{setting}: 2*params*tok/s / matmul peak", 100 * share, "%"),
            ]
            if model_name == "random BERT" and label == "fp32":
                probe_vectors = vectors
            del model
    invariance_sizes = (
        {"tiny": (64, 2), "small": (32, 1)} if args.dry else {"minilm": (384, 6), "bert-base": (768, 12)}
    )
    rows += invariance_check(
        device, invariance_sizes, 12 if args.dry else 64, (3, 60) if args.dry else (3, 402)
    )
    rows += store_check(device, store_n, bert[0])

    rng = np.random.default_rng(1)
    assert probe_vectors is not None
    base = (
        probe_vectors[rng.integers(0, len(probe_vectors), probe_n)]
        + rng.standard_normal((probe_n, probe_vectors.shape[1])).astype(np.float32) * probe_vectors.std()
    )
    labels = (base @ rng.standard_normal(base.shape[1]) > 0).astype(np.int64)  # a linearly learnable task
    probe_rows, worst = probe_check(device, base.astype(np.float32), labels, seeds)
    rows += probe_rows

    if device.startswith("cuda") and torch.cuda.device_count() >= 2:
        rows += two_workers(bert[0], bert[1], n, length, budget)
    else:
        rows.append(("2 workers", "skipped: fewer than two GPUs", float(torch.cuda.device_count()), "GPUs"))

    width = max(len(r[0]) for r in rows), max(len(r[1]) for r in rows)
    print(f"{'check':{width[0]}}  {'setting':{width[1]}}  {'figure':>14}  unit")
    for check, setting, figure, unit in rows:
        print(f"{check:{width[0]}}  {setting:{width[1]}}  {figure:14,.4g}  {unit}")
    report = {
        "device": device,
        "device_name": name,
        "torch": torch.__version__,
        "dry": args.dry,
        "max_abs_dmcc": worst,
        "invariance_rows_moved": {s: f for c, s, f, u in rows if c == "invariance" and u == "rows"},
        "rows": [{"check": c, "setting": s, "figure": f, "unit": u} for c, s, f, u in rows],
    }
    args.json.write_text(json.dumps(report, indent=1))
    print(f"written {args.json}")
    return report


if __name__ == "__main__":
    main()
