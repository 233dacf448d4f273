"""Start-up wall time of the everyday ``geneb`` commands, each in fresh interpreters, next to a bare Python.

    python benchmarks/cli_startup.py                  # this checkout
    python benchmarks/cli_startup.py --src /other/checkout --repeat 15

``--src`` puts another checkout first on ``sys.path`` (e.g. a ``git worktree`` of an older commit), so two
versions are measured with the same interpreter and libraries. Prints best and median of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

COMMANDS = (["--help"], ["models"], ["cache", "ls"])
LAUNCH = "import sys; from geneb_bench.cli import main; sys.exit(main(sys.argv[1:]))"


def wall_times(argv: list[str], repeat: int, env: dict[str, str], cwd: str) -> list[float]:
    """``cwd`` away from any checkout: ``python -c`` puts the working directory first on ``sys.path``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", LAUNCH, *argv] if argv else [sys.executable, "-c", "pass"],
            stdout=subprocess.DEVNULL,
            check=True,
            timeout=120,
            env=env,
            cwd=cwd,
        )
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument(
        "--src", default=None, help="a checkout to import geneb_bench from (default: installed)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "GENEB_CACHE_DIR": cache}  # an empty cache: `cache ls` lists nothing
        if args.src:
            env["PYTHONPATH"] = os.path.abspath(args.src)
        print(f"{'command':<22} {'best s':>8} {'median s':>9}   ({args.repeat} runs each)")
        for argv in ([], *COMMANDS):
            times = wall_times(list(argv), args.repeat, env, cache)
            label = "python -c pass" if not argv else "geneb " + " ".join(argv)
            print(f"{label:<22} {min(times):8.3f} {statistics.median(times):9.3f}")


if __name__ == "__main__":
    main()
