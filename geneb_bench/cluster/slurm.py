"""Slurm job-array scripts: one shard of the sweep per array task, then a dependent merge + report job.

Each array task runs ``geneb run --geneb-shard $SLURM_ARRAY_TASK_ID/N`` into its own results folder (so no
two tasks write the same files) against a shared embedding cache; the merge job runs after all of them
(``afterany``: a failed shard must not block the report of the others) and builds one leaderboard.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class SlurmJob:
    shards: int
    results_dir: Path
    cache_dir: Path
    pytest_args: Sequence[str] = ()
    job_name: str = "geneb"
    partition: str | None = None
    time: str = "24:00:00"
    cpus_per_task: int = 4
    mem: str = "32G"
    gpus_per_task: int = 0
    python: str = "python3"
    extra_sbatch: Sequence[str] = field(default_factory=tuple)  # e.g. "--account=lab", "--qos=short"
    # The merge job reads JSON files and draws a few figures: seconds, one core, little memory.
    merge_time: str = "00:30:00"
    merge_mem: str = "4G"

    def __post_init__(self) -> None:
        if self.shards < 1:
            raise ValueError(f"--shards must be at least 1, got {self.shards}")
        for option in self.extra_sbatch:
            if not option.startswith("--") or "\n" in option:
                raise ValueError(f"extra #SBATCH line {option!r}: give one option like --account=NAME")

    def _header(self, name: str, log: str, merge: bool = False) -> list[str]:
        lines = [
            "#!/bin/bash",
            f"#SBATCH --job-name={name}",
            f"#SBATCH --output={self.results_dir / 'logs' / log}",
            f"#SBATCH --time={self.merge_time if merge else self.time}",
            f"#SBATCH --cpus-per-task={1 if merge else self.cpus_per_task}",
            f"#SBATCH --mem={self.merge_mem if merge else self.mem}",
        ]
        if self.partition:
            lines.append(f"#SBATCH --partition={self.partition}")
        lines += [f"#SBATCH {option}" for option in self.extra_sbatch]
        return lines

    def array_script(self) -> str:
        lines = self._header(f"{self.job_name}-shard", "shard-%a.out")
        lines.insert(2, f"#SBATCH --array=0-{self.shards - 1}")
        if self.gpus_per_task:
            lines.append(f"#SBATCH --gpus-per-task={self.gpus_per_task}")
        args = " ".join(shlex.quote(a) for a in self.pytest_args)
        lines += [
            "set -euo pipefail",
            f"export GENEB_CACHE_DIR={shlex.quote(str(self.cache_dir))}",
            f"export OMP_NUM_THREADS={self.cpus_per_task}",
            f"shard_dir={shlex.quote(str(self.results_dir))}/shard-${{SLURM_ARRAY_TASK_ID}}",
            # pytest exits 1 when an item fails: the shard's other results are written and still merged.
            f'{self.python} -m geneb_bench.cli run --results-dir "$shard_dir" '
            f'--geneb-shard "${{SLURM_ARRAY_TASK_ID}}/{self.shards}" {args} || test $? -eq 1',
        ]
        return "\n".join(lines) + "\n"

    def merge_script(self) -> str:
        results = shlex.quote(str(self.results_dir))
        lines = self._header(f"{self.job_name}-merge", "merge.out", merge=True)
        lines += [
            "set -euo pipefail",
            f"{self.python} -m geneb_bench.cli merge {results}/shard-* -o {results}/merged",
            f"{self.python} -m geneb_bench.cli report {results}/merged --html",
        ]
        return "\n".join(lines) + "\n"

    def write(self, directory: Path) -> tuple[Path, Path]:
        directory.mkdir(parents=True, exist_ok=True)
        (self.results_dir / "logs").mkdir(parents=True, exist_ok=True)
        array, merge = directory / "geneb-array.sbatch", directory / "geneb-merge.sbatch"
        array.write_text(self.array_script())
        merge.write_text(self.merge_script())
        return array, merge


def submit(array: Path, merge: Path) -> tuple[str, str]:
    """``sbatch`` the array, then the merge job with ``--dependency=afterany:<array id>``."""
    array_id = _sbatch([str(array)])
    merge_id = _sbatch([f"--dependency=afterany:{array_id}", str(merge)])
    return array_id, merge_id


def _sbatch(args: list[str]) -> str:
    done = subprocess.run(["sbatch", "--parsable", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"sbatch {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip().split(";")[0]
