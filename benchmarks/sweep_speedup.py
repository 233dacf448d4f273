"""Serial vs ``-n N`` wall time of the same sweep, side by side, with identical tables checked.

    python benchmarks/sweep_speedup.py                       # lite suite, built-in models
    python benchmarks/sweep_speedup.py --suite geneb --data-dir ../shared/data/geneb-tasks-subset --models kmer-3

Each run gets a fresh embedding cache (``cold``: extraction + probes) unless ``--warm`` (probes only, after
one run that fills a shared cache). Prints the wall times, the speed-up and whether results.csv matched.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(workdir: Path, name: str, args: list[str], workers: int, cache: Path) -> tuple[float, str]:
    results = workdir / name
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(ROOT / "suites"),
        "-q",
        "-p",
        "no:cacheprovider",
        f"--geneb-results-dir={results}",
        f"--geneb-cache-dir={cache}",
        *args,
    ]
    if workers > 1:
        cmd += ["-n", str(workers)]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"{name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return wall, (results / "results.csv").read_text()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--suite", default="lite")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument(
        "--models", default=None, help="comma-separated model keys (default: the built-in set)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--warm", action="store_true", help="time probe-only reruns on a filled cache")
    opts = parser.parse_args()
    args = [f"--geneb-suite={opts.suite}"]
    if opts.data_dir:
        args.append(f"--geneb-data-dir={Path(opts.data_dir).resolve()}")
    for model in (opts.models or "").split(","):
        if model:
            args.append(f"--geneb-model={model}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shared = work / "shared-cache"
        if opts.warm:
            run(work, "fill", args, opts.workers, shared)
        serial, serial_csv = run(work, "serial", args, 1, shared if opts.warm else work / "cache-serial")
        parallel, parallel_csv = run(
            work, "parallel", args, opts.workers, shared if opts.warm else work / "cache-par"
        )
    mode = "warm cache (probes only)" if opts.warm else "cold cache (extraction + probes)"
    print(f"suite={opts.suite} models={opts.models or 'built-in'} {mode}")
    print(f"serial      : {serial:7.1f} s")
    print(f"-n {opts.workers:<9}: {parallel:7.1f} s")
    print(f"speed-up    : {serial / parallel:7.2f}x")
    print(f"identical results.csv: {serial_csv == parallel_csv}")


if __name__ == "__main__":
    main()
