"""``geneb download`` through the real huggingface_hub client against the hub emulator, then offline."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from geneb_bench import cli
from geneb_bench.data.registry import GENEB_REVISION
from geneb_bench.data.suites import get_suite
from geneb_bench.models.registry import resolve_model
from tests.hub.conftest import MUTBERT_COMMIT, MUTBERT_ID, SMALL_TASKS, TASKS, HubEmulator


def _download(*args: str) -> tuple[int, list[dict[str, object]]]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = cli.main(["download", *args, "--json"])
    text = out.getvalue()
    return status, json.loads(text[text.index("\n[") + 1 :] if not text.startswith("[") else text)


def test_tasks_download_at_the_pinned_revision_then_load_offline(
    hf_cache: Path, emulator: HubEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, done = _download("--suite", "geneb", "--task", SMALL_TASKS[0], "--task", SMALL_TASKS[1])
    assert status == 0, done
    assert [d["name"] for d in done] == list(SMALL_TASKS[:2])
    for task in SMALL_TASKS[:2]:
        for split in ("train.csv", "test.csv"):
            cached = hf_cache.glob(f"datasets--darlednik--geneb-tasks/snapshots/*/tasks/{task}/{split}")
            assert [p.read_bytes() for p in cached] == [(TASKS / "tasks" / task / split).read_bytes()]
    assert not list(hf_cache.rglob("*.incomplete"))
    served = emulator.requests("/resolve/", "GET")
    assert served == 4

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    emulator.stop()  # nothing answers now: the run must need nothing from the network
    suite = get_suite("geneb")
    offline = suite.load(SMALL_TASKS[0])
    local = suite.load(SMALL_TASKS[0], TASKS)
    assert list(offline.train_sequences) == list(local.train_sequences)
    assert list(offline.test_sequences) == list(local.test_sequences)
    assert np.array_equal(offline.train_labels, local.train_labels)
    assert np.array_equal(offline.test_labels, local.test_labels)
    assert offline.revision == f"darlednik/geneb-tasks@{GENEB_REVISION}"
    # downloading again offline only checks the cache
    status, done = _download("--suite", "geneb", "--task", SMALL_TASKS[0])
    assert status == 0
    assert done[0]["error"] is None


def test_a_zoo_model_is_fetched_at_its_commit_and_verified(
    hf_cache: Path, emulator: HubEmulator, manifest: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, done = _download("--model", "MutBERT")
    assert status == 0, done
    assert done[0]["verified"] is True
    folder = Path(str(done[0]["path"]))
    assert folder == hf_cache / "models--JadenLong--MutBERT" / "snapshots" / MUTBERT_COMMIT
    assert sorted(p.name for p in folder.iterdir()) == sorted(f.name for f in manifest["MutBERT"].needed())  # type: ignore[index]

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    emulator.stop()
    from geneb_bench.models.loading import verified_source

    assert verified_source(resolve_model("MutBERT")) == str(folder)  # offline: from the cache, checked


def test_a_branch_is_resolved_once_and_written_to_the_lock(
    hf_cache: Path, emulator: HubEmulator, manifest: object, tmp_path: Path
) -> None:
    lock = tmp_path / "geneb.lock"
    name = f"{MUTBERT_ID}@main"
    refused, done = _download("--model", name, "--lock-file", str(lock))
    assert refused == 1
    assert "--trust-remote-code" in str(done[0]["error"])
    assert not lock.exists()

    status, done = _download("--model", name, "--lock-file", str(lock), "--trust-remote-code")
    assert status == 0, done
    assert f'commit = "{MUTBERT_COMMIT}"' in lock.read_text()
    asked = emulator.requests(f"/api/models/{MUTBERT_ID}/revision/main")
    assert asked == 1
    status, _ = _download("--model", name, "--lock-file", str(lock), "--trust-remote-code")
    assert status == 0
    assert emulator.requests(f"/api/models/{MUTBERT_ID}/revision/main") == asked, "the lock answers now"


def test_nothing_to_ask_for_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["download"]) == 2
    assert "--suite geneb" in capsys.readouterr().err
