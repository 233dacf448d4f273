"""Zero-config ``pytest suites/ --geneb-suite geneb -k <task>``: the tasks come from the hub (the emulator)
into the hub cache; the same command with ``HF_HUB_OFFLINE=1`` and the hub gone gives the same results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from geneb_bench.data.registry import GENEB_DATASET, GENEB_REVISION
from tests.hub.conftest import SMALL_TASKS, HubEmulator

REPO = Path(__file__).resolve().parents[2]


def run_suite(
    tmp: Path, name: str, env: dict[str, str], tasks: tuple[str, ...]
) -> dict[str, tuple[str, list[dict[str, float]]]]:
    """One run into a results folder and an embedding cache of its own (nothing reused); its MCCs."""
    results = tmp / name
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(REPO / "suites"),
        "-p",
        "no:cacheprovider",
        "-q",
        "--geneb-suite=geneb",
        "--geneb-model=kmer-3",
        f"--geneb-results-dir={results}",
        f"--geneb-cache-dir={tmp / (name + '-cache')}",
        "-k",
        " or ".join(tasks),
    ]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    found = {}
    for path in sorted(results.rglob("results/**/*.json")):
        record = json.loads(path.read_text())
        found[str(path.relative_to(results))] = (record["task_revision"], record["per_seed"])
    assert len(found) == 3 * len(tasks), sorted(found)
    return found


@pytest.mark.slow
def test_download_then_offline_same_results(hf_cache: Path, emulator: HubEmulator, tmp_path: Path) -> None:
    tasks = SMALL_TASKS
    env = {**os.environ, "HF_HUB_DOWNLOAD_TIMEOUT": "5", "HF_HUB_ETAG_TIMEOUT": "5"}
    online = run_suite(tmp_path, "online", env, tasks)
    assert emulator.requests("/resolve/", "GET") == 2 * len(tasks), "each file downloaded once"
    assert {rev for rev, _ in online.values()} == {f"{GENEB_DATASET}@{GENEB_REVISION}"}

    emulator.stop()
    offline = run_suite(tmp_path, "offline", {**env, "HF_HUB_OFFLINE": "1"}, tasks)
    assert offline.keys() == online.keys()
    for key, (_, seeds) in online.items():
        mcc = np.array([s["mcc"] for s in seeds])
        assert np.array_equal(mcc, [s["mcc"] for s in offline[key][1]]), key
