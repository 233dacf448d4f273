"""The published GENEB data from the Hugging Face hub, at the pinned revision, cached by huggingface_hub.

Used only when no local copy is given. The local hub cache is tried first (works offline, no network
call); the network is tried only when huggingface_hub is not offline and the hub answers a quick check,
once per process (``geneb_bench.hub``), so a machine without network skips 100 tasks in a second, not
100 x 23 s of retries. Every failure becomes TaskUnavailable with the way to get the data, and leaves no
half-downloaded file in the cache (``hub.discard_partial``).
"""

from __future__ import annotations

from pathlib import Path

from geneb_bench.data.csv_tasks import TaskUnavailable
from geneb_bench.data.task import DatasetLocation
from geneb_bench.hub import (
    OFFLINE_NOT_CACHED,
    content_mismatch,
    describe,
    discard_file,
    discard_partial,
    hub_reachable,
    offline,
)


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
        raise TaskUnavailable(f"{task_id}: {OFFLINE_NOT_CACHED} ({where}); {how_to_get(task_id, where)}")
    if not hub_reachable():
        raise TaskUnavailable(
            f"{task_id}: the Hugging Face hub cannot be reached from this machine and "
            f"{where} is not in its cache; {how_to_get(task_id, where)}"
        )
    try:
        files = fetch("train.csv", False), fetch("test.csv", False)
    except Exception as exc:  # network, auth, missing file: all mean "no data here", with the reason
        discard_partial(where.repo_id, "dataset", cache_dir)  # the cache keeps whole files only
        raise TaskUnavailable(
            f"{task_id}: cannot download {where}: {describe(exc)}; {how_to_get(task_id, where)}"
        ) from exc
    for path in files:
        wrong = content_mismatch(path)
        if wrong is not None:
            discard_file(path)
            raise TaskUnavailable(
                f"{task_id}: downloaded {where.repo_id}@{where.revision}:{where.path}{path.name} is not the "
                f"hub's file ({wrong}); it was removed from the cache; {how_to_get(task_id, where)}"
            )
    return files
