"""Slurm job-array scripts, and a real single-node Slurm run on localhost when Slurm is installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from geneb_bench.cli import main
from geneb_bench.cluster.slurm import SlurmJob, download_argv, submit_hint

HERE = Path(__file__).resolve().parent


def test_scripts_shard_the_sweep_and_merge_after_all_shards(tmp_path: Path) -> None:
    job = SlurmJob(
        shards=4,
        results_dir=tmp_path / "res",
        cache_dir=tmp_path / "cache",
        pytest_args=["-k", "promoters and kmer"],
        gpus_per_task=1,
        partition="gpu",
    )
    array, merge = job.write(tmp_path)
    text = array.read_text()
    assert "#SBATCH --array=0-3" in text
    assert "#SBATCH --gpus-per-task=1" in text
    assert "#SBATCH --partition=gpu" in text
    assert '--geneb-shard "${SLURM_ARRAY_TASK_ID}/4"' in text
    assert "-k 'promoters and kmer'" in text  # quoted for the shell
    assert f"GENEB_CACHE_DIR={tmp_path / 'cache'}" in text
    assert "merge" in merge.read_text()
    assert "report" in merge.read_text()
    for script in (array, merge):
        subprocess.run(["bash", "-n", str(script)], check=True, timeout=30)  # valid shell


def test_cli_writes_scripts_without_submitting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["slurm", "--shards", "2", "--results-dir", str(tmp_path), "--", "-k", "tf"]) == 0
    out = capsys.readouterr().out
    assert "sbatch --dependency=afterany" in out
    assert "-k tf" in (tmp_path / "geneb-array.sbatch").read_text()


def _slurm_missing() -> str | None:
    for tool in ("sbatch", "slurmctld", "slurmd", "munged"):
        if shutil.which(tool) is None:
            return f"Slurm is not installed ({tool} not found; apt-get install slurm-wlm munge)"
    if os.geteuid() != 0:
        return "slurmd must run as root to start a localhost cluster"
    return None


@pytest.fixture
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    reason = _slurm_missing()
    if reason:
        print(f"SKIPPED real Slurm test: {reason}")
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("slurm")
    started = subprocess.run(
        ["bash", str(HERE / "slurm_localhost.sh"), str(root)], capture_output=True, text=True, timeout=90
    )
    if started.returncode != 0:
        print(f"SKIPPED real Slurm test: localhost Slurm did not start: {started.stderr[-2000:]}")
        pytest.skip(f"localhost Slurm did not start: {started.stderr[-500:]}")
    env = {**os.environ, "SLURM_CONF": str(root / "slurm.conf")}
    try:
        yield env
    finally:
        for daemon in ("slurmctld", "slurmd"):
            pid = root / f"{daemon}.pid"
            if pid.exists():
                subprocess.run(["kill", pid.read_text().strip()], check=False, timeout=30)


@pytest.mark.slurm
def test_job_array_on_real_slurm_matches_a_local_run(slurm_cluster: dict[str, str], tmp_path: Path) -> None:
    selection = [
        "-k",
        "promoters or tf_binding",
        "--geneb-model",
        "kmer-2",
        "--geneb-seeds",
        "13,17",
        "-p",
        "no:cacheprovider",
    ]
    results = tmp_path / "cluster"
    submitted = subprocess.run(
        [
            sys.executable,
            "-m",
            "geneb_bench.cli",
            "slurm",
            "--shards",
            "2",
            "--results-dir",
            str(results),
            "--cpus",
            "1",
            "--mem",
            "1G",
            "--time",
            "00:10:00",
            "--submit",
            "--",
            *selection,
        ],
        env=slurm_cluster,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "submitted array job" in submitted.stdout
    deadline = time.time() + 240  # the merge job's last output: report.html in the suite's tables folder
    while not list((results / "merged").glob("*/report.html")) and time.time() < deadline:
        time.sleep(2)
    logs = "\n".join(p.read_text() for p in sorted((results / "logs").glob("*.out")))
    assert list((results / "merged").glob("*/report.html")), f"merge job did not finish; logs:\n{logs}"
    merged = next((results / "merged").glob("*/report.html")).parent / "results.csv"
    local = tmp_path / "local"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "geneb_bench.cli",
            "run",
            "--results-dir",
            str(local),
            *selection,
            f"--geneb-cache-dir={tmp_path / 'local-cache'}",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    cluster_frame = pd.read_csv(merged).sort_values(["model", "task_id", "regime"]).reset_index(drop=True)
    local_frame = (
        pd.read_csv(local / merged.parent.name / "results.csv")
        .sort_values(["model", "task_id", "regime"])
        .reset_index(drop=True)
    )
    assert len(cluster_frame) == 9  # 3 tasks x 3 regimes, each from exactly one shard
    pd.testing.assert_frame_equal(cluster_frame, local_frame)
    shard_items = [len(list((results / f"shard-{i}" / "results").rglob("*.json"))) for i in range(2)]
    assert sum(shard_items) == 9
    assert min(shard_items) > 0


def test_extra_sbatch_lines_and_a_small_merge_job(tmp_path: Path) -> None:
    job = SlurmJob(
        shards=2,
        results_dir=tmp_path,
        cache_dir=tmp_path / "cache",
        extra_sbatch=("--account=lab", "--qos=short"),
    )
    array, merge = job.array_script(), job.merge_script()
    for script in (array, merge):
        assert "#SBATCH --account=lab\n" in script
        assert "#SBATCH --qos=short\n" in script
    assert "#SBATCH --mem=32G" in array
    assert "#SBATCH --mem=4G" in merge
    assert "#SBATCH --time=00:30:00" in merge
    assert "#SBATCH --cpus-per-task=1" in merge


@pytest.mark.parametrize("shards", [0, -1])
def test_no_shards_is_refused(tmp_path: Path, shards: int) -> None:
    with pytest.raises(ValueError, match="--shards must be at least 1"):
        SlurmJob(shards=shards, results_dir=tmp_path, cache_dir=tmp_path)


def test_download_job_runs_before_the_array_and_shards_run_offline(tmp_path: Path) -> None:
    job = SlurmJob(
        shards=2,
        results_dir=tmp_path / "res",
        cache_dir=tmp_path / "cache",
        pytest_args=[
            "--geneb-suite",
            "geneb",
            "--geneb-model=MutBERT",
            "--geneb-model",
            "kmer-3",
            "-k",
            "tf",
        ],
        download="job",
        hf_home=tmp_path / "hf",
    )
    array, merge = job.write(tmp_path)
    script = job.download_job(tmp_path)
    assert script is not None
    text = script.read_text()
    assert "geneb_bench.cli download --suite geneb --model MutBERT --model kmer-3" in text
    assert f"export HF_HOME={tmp_path / 'hf'}" in text
    assert "HF_HUB_OFFLINE" not in text, "the download job is the one that goes online"
    assert "export HF_HUB_OFFLINE=1" in array.read_text()
    subprocess.run(["bash", "-n", str(script)], check=True, timeout=30)
    hint = submit_hint(array, merge, script)
    assert f"did=$(sbatch --parsable {script})" in hint
    assert f"--dependency=afterok:$did {array}" in hint


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], None),  # lite suite, baselines: nothing on the hub
        (["--geneb-model", "baselines"], None),
        (["--geneb-suite=geneb"], ["download", "--suite", "geneb"]),
        (
            ["--geneb-model", "org/name@main", "--geneb-trust-remote-code"],
            ["download", "--model", "org/name@main", "--trust-remote-code"],
        ),
    ],
)
def test_what_the_download_step_fetches(args: list[str], expected: list[str] | None) -> None:
    assert download_argv(args) == expected


def test_without_download_the_shards_may_go_online(tmp_path: Path) -> None:
    job = SlurmJob(shards=1, results_dir=tmp_path, cache_dir=tmp_path, pytest_args=["--geneb-suite=geneb"])
    array, _ = job.write(tmp_path)
    assert "HF_HUB_OFFLINE" not in array.read_text()
    assert job.download_job(tmp_path) is None
    assert not (tmp_path / "geneb-download.sbatch").exists()


def test_login_download_failure_submits_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the hub cache is empty: the download must fail
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub-cache"))
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty-hub-cache"))
    argv = ["slurm", "--shards", "2", "--results-dir", str(tmp_path), "--download", "login", "--submit"]
    status = main([*argv, "--", "--geneb-suite=geneb", "-k", "leannmlindsey_GUE_mouse_3"])
    out = capsys.readouterr().out
    assert status == 1
    assert "nothing submitted" in out
    assert "FAILED task" in out
