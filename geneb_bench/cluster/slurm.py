"""Slurm job-array scripts: one shard of the sweep per array task, then a dependent merge + report job.

Each array task runs ``geneb run --geneb-shard $SLURM_ARRAY_TASK_ID/N`` into its own results folder (so no
two tasks write the same files) against a shared embedding cache; the merge job runs after all of them
(``afterany``: a failed shard must not block the report of the others) and builds one leaderboard.

Compute nodes usually have no internet: ``download="login"`` runs ``geneb download`` for the sweep's suite and
models before the scripts are submitted (on the login node, where the hub is reachable), ``download="job"``
submits it as a job of its own that the array waits for (``afterok``); either way the shards run with
``HF_HUB_OFFLINE=1`` and read the hub cache (``HF_HOME``, which must be on a file system the nodes share).
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
    download: str = "none"  # "none", "login" (before submitting) or "job" (a job the array depends on)
    hf_home: Path | None = None  # exported to every job: the shared hub cache the download filled
    download_time: str = "04:00:00"

    def __post_init__(self) -> None:
        if self.shards < 1:
            raise ValueError(f"--shards must be at least 1, got {self.shards}")
        if self.download not in DOWNLOAD_MODES:
            raise ValueError(f"--download must be one of {', '.join(DOWNLOAD_MODES)}, got {self.download!r}")
        for option in self.extra_sbatch:
            if not option.startswith("--") or "\n" in option:
                raise ValueError(f"extra #SBATCH line {option!r}: give one option like --account=NAME")

    def _header(self, name: str, log: str, merge: bool = False, time: str | None = None) -> list[str]:
        lines = [
            "#!/bin/bash",
            f"#SBATCH --job-name={name}",
            f"#SBATCH --output={self.results_dir / 'logs' / log}",
            f"#SBATCH --time={time or (self.merge_time if merge else self.time)}",
            f"#SBATCH --cpus-per-task={1 if merge else self.cpus_per_task}",
            f"#SBATCH --mem={self.merge_mem if merge else self.mem}",
        ]
        if self.partition:
            lines.append(f"#SBATCH --partition={self.partition}")
        lines += [f"#SBATCH {option}" for option in self.extra_sbatch]
        return lines

    def _hub_lines(self, offline: bool) -> list[str]:
        lines = [f"export HF_HOME={shlex.quote(str(self.hf_home))}"] if self.hf_home else []
        return lines + (["export HF_HUB_OFFLINE=1"] if offline else [])

    def download_argv(self) -> list[str] | None:
        """``geneb download`` for what the shards will read: the suite's tasks and the models named in the
        pytest arguments (a ``-k`` selection cannot be mapped to tasks, so every task of the suite: a few MB
        each); None when they need nothing from the hub (the built-in lite suite and baselines)."""
        return download_argv(self.pytest_args)

    def download_script(self) -> str | None:
        argv = self.download_argv()
        if argv is None:
            return None
        lines = self._header(f"{self.job_name}-download", "download.out", merge=True, time=self.download_time)
        lines += ["set -euo pipefail", *self._hub_lines(offline=False)]
        lines.append(f"{self.python} -m geneb_bench.cli {' '.join(shlex.quote(a) for a in argv)}")
        return "\n".join(lines) + "\n"

    def array_script(self) -> str:
        lines = self._header(f"{self.job_name}-shard", "shard-%a.out")
        lines.insert(2, f"#SBATCH --array=0-{self.shards - 1}")
        if self.gpus_per_task:
            lines.append(f"#SBATCH --gpus-per-task={self.gpus_per_task}")
        args = " ".join(shlex.quote(a) for a in self.pytest_args)
        lines += [
            "set -euo pipefail",
            *self._hub_lines(offline=self.download != "none"),
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
        download = self.download_script() if self.download == "job" else None
        if download is not None:
            (directory / DOWNLOAD_SCRIPT).write_text(download)
        return array, merge

    def download_job(self, directory: Path) -> Path | None:
        """The download script ``write`` put in ``directory`` (``download="job"`` with something to fetch)."""
        script = directory / DOWNLOAD_SCRIPT
        return script if self.download == "job" and self.download_argv() is not None else None


DOWNLOAD_MODES = ("none", "login", "job")
DOWNLOAD_SCRIPT = "geneb-download.sbatch"


def download_argv(pytest_args: Sequence[str]) -> list[str] | None:
    """The ``geneb download`` arguments for a run given these pytest arguments (see ``download_script``)."""
    suite, models, trust = "lite", [], False
    args = list(pytest_args)
    for i, arg in enumerate(args):
        name, _, value = arg.partition("=")
        if not value and name in ("--geneb-suite", "--geneb-model") and i + 1 < len(args):
            value = args[i + 1]
        if name == "--geneb-suite":
            suite = value
        elif name == "--geneb-model":
            models.append(value)
        trust = trust or arg == "--geneb-trust-remote-code"
    argv = ["download"]
    if suite != "lite":
        argv += ["--suite", suite]
    for model in models:
        if model != "baselines":
            argv += ["--model", model]
    if len(argv) == 1:
        return None
    return argv + (["--trust-remote-code"] if trust else [])


def login_download(job: SlurmJob) -> int:
    """``download="login"``: run ``geneb download`` here, now, with the jobs' HF_HOME; its exit status."""
    import os

    from geneb_bench.cli import main

    argv = job.download_argv()
    if argv is None:
        return 0
    if job.hf_home is not None:
        os.environ["HF_HOME"] = str(job.hf_home)  # huggingface_hub reads it at import: before it is imported
    print(f"geneb slurm: geneb {' '.join(shlex.quote(a) for a in argv)}")
    return main(argv)


def submit_hint(array: Path, merge: Path, download: Path | None) -> str:
    first = f"did=$(sbatch --parsable {download}) && " if download is not None else ""
    after = "--dependency=afterok:$did " if download is not None else ""
    return f"{first}jid=$(sbatch --parsable {after}{array}) && sbatch --dependency=afterany:$jid {merge}"


def submit(array: Path, merge: Path, download: Path | None = None) -> tuple[str, str]:
    """``sbatch`` the download job when given, the array after it (``afterok``: a shard without its data
    would only fail), then the merge job with ``--dependency=afterany:<array id>``."""
    after = [f"--dependency=afterok:{_sbatch([str(download)])}"] if download is not None else []
    array_id = _sbatch([*after, str(array)])
    merge_id = _sbatch([f"--dependency=afterany:{array_id}", str(merge)])
    return array_id, merge_id


def _sbatch(args: list[str]) -> str:
    done = subprocess.run(["sbatch", "--parsable", *args], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"sbatch {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip().split(";")[0]
