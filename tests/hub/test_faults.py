"""What the hub or the network does wrong: a clear error, and nothing partial or wrong left in the cache."""

from __future__ import annotations

import time
from pathlib import Path

import huggingface_hub.constants
import pytest

from geneb_bench.data.csv_tasks import TaskUnavailable
from geneb_bench.data.registry import GENEB_DATASET, GENEB_REVISION
from geneb_bench.data.suites import get_suite
from geneb_bench.download import download_models
from geneb_bench.hub import content_mismatch
from tests.hub.conftest import MUTBERT, MUTBERT_COMMIT, MUTBERT_ID, SMALL_TASKS, Fault, HubEmulator, Repo

TASK = SMALL_TASKS[0]
TRAIN = f"tasks/{TASK}/train.csv"


def cached_files(cache: Path) -> list[str]:
    """Every file (not folder, not lock) in the hub cache, relative: what a later run could read."""
    if not cache.is_dir():
        return []
    return sorted(
        p.relative_to(cache).as_posix()
        for p in cache.rglob("*")
        if (p.is_file() or p.is_symlink()) and ".locks" not in p.parts
    )


def load_error(cache: Path) -> str:
    with pytest.raises(TaskUnavailable) as caught:
        get_suite("geneb").load(TASK)
    message = str(caught.value)
    assert TASK in message, "names the task"
    assert "huggingface-cli download" in message, "and the way out"
    assert not list(cache.rglob("*.incomplete")), "no partial file"
    snapshots = [cache / f for f in cached_files(cache) if "/snapshots/" in f]
    assert all(content_mismatch(path) is None for path in snapshots), "only whole, checked files"
    assert not [p for p in snapshots if p.as_posix().endswith(TRAIN)], "not the file that failed"
    blobs = [f for f in cached_files(cache) if "/blobs/" in f]
    assert len(blobs) == len(snapshots), "no orphan blob"
    return message


def test_unknown_revision(hf_cache: Path, emulator: HubEmulator) -> None:
    emulator.add_repo(
        Repo("dataset", GENEB_DATASET, "f" * 40, emulator.repos[("dataset", GENEB_DATASET)].files)
    )
    message = load_error(hf_cache)
    assert "RevisionNotFoundError" in message
    assert GENEB_REVISION in message


def test_server_error_is_retried_then_reported(
    hf_cache: Path, emulator: HubEmulator, fast_retries: list[float]
) -> None:
    emulator.faults.append(Fault(TRAIN, "status", methods=("HEAD", "GET")))
    message = load_error(hf_cache)
    assert "500" in message
    assert emulator.requests(TRAIN, "HEAD") == 6, "huggingface_hub's 5 retries, then the error"
    assert fast_retries[:5] == [1, 2, 4, 8, 8]


def test_connection_dropped_mid_file(
    hf_cache: Path, emulator: HubEmulator, fast_retries: list[float]
) -> None:
    emulator.faults.append(Fault(TRAIN, "drop"))
    message = load_error(hf_cache)
    assert "Connection broken" in message or "IncompleteRead" in message
    assert emulator.requests(TRAIN, "GET") >= 1


def test_truncated_file(hf_cache: Path, emulator: HubEmulator) -> None:
    emulator.faults.append(Fault(TRAIN, "truncate"))
    message = load_error(hf_cache)
    assert "Consistency check failed" in message


def test_file_whose_sha256_differs(hf_cache: Path, emulator: HubEmulator) -> None:
    emulator.faults.append(Fault(TRAIN, "corrupt"))
    message = load_error(hf_cache)
    assert "is not the hub's file (sha256" in message
    assert "removed from the cache" in message


def test_slow_server_past_the_timeouts(
    hf_cache: Path, emulator: HubEmulator, fast_retries: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_ETAG_TIMEOUT", 0.2)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_DOWNLOAD_TIMEOUT", 0.2)
    emulator.faults.append(Fault(TRAIN, "slow", delay=1.0))
    started = time.monotonic()
    message = load_error(hf_cache)
    assert "timed out" in message.lower() or "Timeout" in message
    assert time.monotonic() - started < 20


def test_model_file_whose_sha256_differs_from_the_manifest(
    hf_cache: Path, emulator: HubEmulator, manifest: object, tmp_path: Path
) -> None:
    emulator.faults.append(Fault("model.safetensors", "corrupt"))
    [done] = download_models(["MutBERT"], tmp_path / "geneb.lock", log=lambda _line: None)
    assert done.error is not None
    assert "model.safetensors differs from the published checkpoint" in done.error
    snapshot = hf_cache / "models--JadenLong--MutBERT" / "snapshots" / MUTBERT_COMMIT
    assert not (snapshot / "model.safetensors").exists(), "the unverified file is not left for a run to load"
    blobs = [p.name for p in (hf_cache / "models--JadenLong--MutBERT" / "blobs").iterdir()]
    assert len(blobs) == len(list(snapshot.iterdir())), "no orphan blob of the removed file"


def test_model_download_dropped_leaves_no_partial_blob(
    hf_cache: Path, emulator: HubEmulator, manifest: object, fast_retries: list[float], tmp_path: Path
) -> None:
    emulator.faults.append(Fault(f"{MUTBERT_ID}/resolve/{MUTBERT_COMMIT}/model.safetensors", "drop"))
    [done] = download_models(["MutBERT"], tmp_path / "geneb.lock", log=lambda _line: None)
    assert done.error is not None
    assert "MutBERT" in done.error
    assert not list(hf_cache.rglob("*.incomplete"))


def test_a_hub_model_outside_the_manifest_is_checked_against_its_etags(
    hf_cache: Path, emulator: HubEmulator, tmp_path: Path
) -> None:
    commit = "c" * 40
    emulator.add_folder("model", "geneb-test/mutbert-copy", commit, MUTBERT, skip=("FIXTURE.json", "LICENSE"))
    emulator.faults.append(Fault("mutbert-copy/resolve/" + commit + "/model.safetensors", "corrupt"))
    name = f"geneb-test/mutbert-copy@{commit}"
    [done] = download_models([name], tmp_path / "geneb.lock", log=lambda _line: None)
    assert done.error is not None
    assert "model.safetensors is not the hub's file (sha256" in done.error
    assert not list(hf_cache.rglob("model.safetensors")), "the wrong file is removed"
    emulator.faults.clear()
    [again] = download_models([name], tmp_path / "geneb.lock", log=lambda _line: None)
    assert again.error is None, again.error
    assert "checked against the hub's ETags" in again.source
    assert (Path(str(again.path)) / "model.safetensors").read_bytes() == (
        MUTBERT / "model.safetensors"
    ).read_bytes()
