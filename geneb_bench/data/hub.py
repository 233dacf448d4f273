"""The published GENEB data from the Hugging Face hub, at the pinned revision, cached by huggingface_hub.

Used only when no local copy is given. The local hub cache is tried first (works offline, no network
call); the network is tried only when ``HF_HUB_OFFLINE`` is unset and the hub answers a quick connection
check, once per process, so a machine without network skips 100 tasks in a second, not 100 x 23 s of
retries. Every failure becomes TaskUnavailable with the way to get the data.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

from geneb_bench.data.csv_tasks import TaskUnavailable
from geneb_bench.data.task import DatasetLocation

_reachable: dict[str, bool] = {}


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def hub_reachable(timeout: float = 3.0) -> bool:
    """One TCP connection to the hub endpoint per process (remembered)."""
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    if endpoint not in _reachable:
        url = urlparse(endpoint)
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            with socket.create_connection((url.hostname or "", port), timeout=timeout):
                _reachable[endpoint] = True
        except OSError:
            _reachable[endpoint] = False
    return _reachable[endpoint]


def how_to_get(task_id: str, where: DatasetLocation) -> str:
    return (
        f"pass --geneb-data-dir / set GENEB_DATA_DIR to a folder with tasks/{task_id}/{{train,test}}.csv, "
        f"or download it where the hub is reachable: huggingface-cli download {where.repo_id} --repo-type dataset "
        f"--revision {where.revision} --include '{where.path}*' (then it is read from the hub cache offline)"
    )


def download_task(task_id: str, where: DatasetLocation, cache_dir: Path | None = None) -> tuple[Path, Path]:
    """Local paths of ``train.csv`` and ``test.csv`` at the pinned revision (cache first, then network)."""
    try:
        import huggingface_hub
    except ImportError as exc:
        raise TaskUnavailable(
            f"{task_id}: huggingface_hub is not installed ({exc}); {how_to_get(task_id, where)}"
        ) from exc

    def fetch(name: str, local_only: bool) -> Path:
        return Path(
            huggingface_hub.hf_hub_download(
                repo_id=where.repo_id,
                filename=f"{where.path.rstrip('/')}/{name}",
                repo_type="dataset",
                revision=where.revision,
                cache_dir=cache_dir,
                local_files_only=local_only,
            )
        )

    try:
        return fetch("train.csv", True), fetch("test.csv", True)
    except Exception:  # not in the cache (LocalEntryNotFoundError and friends): try the network below
        pass
    if offline():
        raise TaskUnavailable(
            f"{task_id}: not in the Hugging Face cache and HF_HUB_OFFLINE is set; "
            f"{how_to_get(task_id, where)}"
        )
    if not hub_reachable():
        raise TaskUnavailable(
            f"{task_id}: the Hugging Face hub cannot be reached from this machine and "
            f"{where} is not in its cache; {how_to_get(task_id, where)}"
        )
    try:
        return fetch("train.csv", False), fetch("test.csv", False)
    except Exception as exc:  # network, auth, missing file: all mean "no data here", with the reason
        raise TaskUnavailable(
            f"{task_id}: cannot download {where}: {type(exc).__name__}: {exc}; {how_to_get(task_id, where)}"
        ) from exc
