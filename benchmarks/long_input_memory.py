"""Peak memory of tokenising long inputs: whole-then-truncate (before) vs cut-on-characters + chunks (now).

The lncRNA-like case of issue 18: 13,000 random transcripts, lengths log-normal up to 123 kb (~24 Mnt in
all), truncated to 512 tokens. Each mode runs in a fresh interpreter and prints its peak RSS (ru_maxrss),
the RSS before tokenising (sequences in memory), and whether both modes give the same token ids.

    .venv/bin/python benchmarks/long_input_memory.py [--n 13000] [--max-len 123000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import time
from typing import Any

import numpy as np


def sequences(n: int, max_len: int, seed: int = 0) -> list[str]:
    """``n`` random DNA strings, log-normal lengths (median ~1 kb) clipped to [200, max_len]."""
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.lognormal(mean=6.81, sigma=1.2, size=n), 200, max_len).astype(int)
    lengths[0] = max_len  # the longest transcript is always there
    letters = (
        np.frombuffer(b"ACGT", dtype=np.uint8)[rng.integers(0, 4, size=int(lengths.sum()))].tobytes().decode()
    )
    ends = np.cumsum(lengths)
    return [letters[e - n_ : e] for e, n_ in zip(ends, lengths, strict=True)]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_mode(mode: str, n: int, max_len: int) -> dict[str, Any]:
    """One mode with the character tokenizer of the random-init controls (one token per base)."""
    from geneb_bench.models.hf import HFEmbedder
    from geneb_bench.models.random_init import build_random_model, char_tokenizer

    tok = char_tokenizer(512)
    model = build_random_model(
        {"arch": "bert", "hidden_size": 16, "num_layers": 1, "num_heads": 2, "max_tokens": 512}
    )
    embedder = HFEmbedder(model, tok, max_tokens=512)
    seqs = sequences(n, max_len)
    before = rss_mb()
    t0 = time.perf_counter()
    if mode == "whole":  # the adapter's encode before issue 18: every sequence tokenised whole, then cut
        ids = [list(x) for x in tok(seqs, truncation=True, max_length=512)["input_ids"]]
    else:
        ids = embedder.encode(seqs)
    seconds = time.perf_counter() - t0
    digest = hashlib.sha256(json.dumps(ids).encode()).hexdigest()[:16]
    stats = embedder.last_stats if mode != "whole" else None
    return {
        "mode": mode,
        "sequences": n,
        "total_nt": sum(map(len, seqs)),
        "longest": max(map(len, seqs)),
        "rss_before_mb": round(before),
        "peak_rss_mb": round(rss_mb()),
        "seconds": round(seconds, 2),
        "ids_sha256": digest,
        "char_bound": embedder.char_bound,
        "truncated": stats.truncated if stats else None,
        "mean_kept": round(stats.mean_kept, 4) if stats else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=13_000)
    parser.add_argument("--max-len", type=int, default=123_000)
    parser.add_argument("--mode", choices=("whole", "chunked"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(run_mode(args.mode, args.n, args.max_len)))
        return
    rows = []
    for mode in ("whole", "chunked"):
        out = subprocess.run(
            [sys.executable, __file__, "--mode", mode, "--n", str(args.n), "--max-len", str(args.max_len)],
            capture_output=True,
            text=True,
            check=True,
            timeout=3600,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    for row in rows:
        print(json.dumps(row))
    print(f"same token ids: {rows[0]['ids_sha256'] == rows[1]['ids_sha256']}")


if __name__ == "__main__":
    main()
