"""Fixtures for the real download path: ``huggingface_hub`` against the local hub emulator.

The emulator serves the 14 real tasks of shared/data/geneb-tasks-subset as ``darlednik/geneb-tasks`` at the
pinned dataset revision, and the real-code MutBERT fixture of shared/models as ``JadenLong/MutBERT`` at its
zoo commit; a test manifest (the fixture's sha256) stands for model_files.csv.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import huggingface_hub
import huggingface_hub.constants
import huggingface_hub.file_download
import huggingface_hub.utils._http
import pytest

from geneb_bench import hub
from geneb_bench.data.registry import GENEB_DATASET, GENEB_REVISION
from geneb_bench.models import verify
from tests.hub.hub_emulator import Fault, HubEmulator, Repo

SHARED = Path(__file__).resolve().parents[3] / "shared"
TASKS = SHARED / "data" / "geneb-tasks-subset"
MUTBERT = SHARED / "models" / "mutbert"
MUTBERT_ID = "JadenLong/MutBERT"
MUTBERT_COMMIT = "b68d8d6c9ccd8167639b25fb979cbd39a5c5c60c"  # the zoo's pin (zoo.toml)
SMALL_TASKS = ("leannmlindsey_GUE_mouse_3", "leannmlindsey_GUE_mouse_2", "leannmlindsey_GUE_prom_core_tata")
FIXTURE_DOCS = ("FIXTURE.json", "LICENSE")

if not TASKS.is_dir() or not MUTBERT.is_dir():
    pytest.skip(f"the shared data and models are not at {SHARED}", allow_module_level=True)


def _serve(emulator: HubEmulator) -> HubEmulator:
    emulator.add_folder("dataset", GENEB_DATASET, GENEB_REVISION, TASKS / "tasks", prefix="tasks/")
    emulator.add_folder("model", MUTBERT_ID, MUTBERT_COMMIT, MUTBERT, skip=FIXTURE_DOCS)
    return emulator


@pytest.fixture
def emulator() -> Iterator[HubEmulator]:
    server = _serve(HubEmulator()).start()
    yield server
    server.stop()


def point_at(monkeypatch: pytest.MonkeyPatch, endpoint: str, cache: Path) -> None:
    """This process's huggingface_hub (and any child's, through the environment) talks to ``endpoint``."""
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    for name in (
        "HF_HUB_OFFLINE",
        "TRANSFORMERS_OFFLINE",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    constants = huggingface_hub.constants
    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    template = endpoint + "/{repo_id}/resolve/{revision}/{filename}"
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", template)
    monkeypatch.setattr(huggingface_hub.file_download, "HUGGINGFACE_CO_URL_TEMPLATE", template)
    monkeypatch.setattr(hub, "_reachable", {})
    huggingface_hub.configure_http_backend()  # fresh sessions, no proxy from an earlier test


@pytest.fixture
def hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator: HubEmulator) -> Path:
    """An empty hub cache, and huggingface_hub pointed at the emulator."""
    cache = tmp_path / "hf-cache"
    point_at(monkeypatch, emulator.endpoint, cache)
    monkeypatch.setenv("GENEB_CACHE_DIR", str(tmp_path / "geneb-cache"))
    return cache


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """huggingface_hub's back-off waits (1, 2, 4, 8, 8 s; 1 s per resumed download) cut to 10 ms, recorded.

    The retries themselves still happen (tests count them on the emulator); only the waiting is shortened.
    """
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(min(seconds, 0.01))

    fake = SimpleNamespace(**{name: getattr(time, name) for name in dir(time) if not name.startswith("_")})
    fake.sleep = sleep
    monkeypatch.setattr(huggingface_hub.utils._http, "time", fake)
    monkeypatch.setattr(huggingface_hub.file_download, "time", fake)
    return waits


def fixture_manifest(folder: Path, key: str, source: str, commit: str) -> verify.Release:
    """A model_files.csv entry for a fixture folder: its files with their sha256 and size."""
    files = tuple(
        verify.FileRecord(p.name, verify.sha256_file(p), p.stat().st_size)
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name not in FIXTURE_DOCS
    )
    return verify.Release(key, "huggingface", source, commit, files)


@pytest.fixture
def manifest(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """model_files.csv replaced by the test manifest of the MutBERT fixture (for this test)."""
    releases = {"MutBERT": fixture_manifest(MUTBERT, "MutBERT", MUTBERT_ID, MUTBERT_COMMIT)}
    monkeypatch.setattr(verify, "releases", lambda: releases)
    return releases


__all__ = ["Fault", "HubEmulator", "Repo"]
