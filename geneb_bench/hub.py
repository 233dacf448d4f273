"""The Hugging Face hub as ``huggingface_hub`` sees it: offline mode, reachability, the local cache.

One place for the three questions the data (``data.hub``) and the models (``models.lockfile``,
``models.check``, ``models.loading``) ask before touching the network, answered by ``huggingface_hub``'s own
rules, so the harness never thinks it is online while huggingface_hub refuses the network (or the reverse):
its offline switch and its rule for "true", its endpoint (``HF_ENDPOINT``), and its HTTP session (proxies
from ``HTTP(S)_PROXY`` / ``configure_http_backend``, its offline adapter) for the one reachability probe.
"""

from __future__ import annotations

import os
from pathlib import Path

OFFLINE_NOT_CACHED = "offline (HF_HUB_OFFLINE) and not cached"

_reachable: dict[str, bool] = {}  # endpoint -> answered, once per process


def offline() -> bool:
    """huggingface_hub's offline mode: ``HF_HUB_OFFLINE`` (else ``TRANSFORMERS_OFFLINE``), true by its rule.

    huggingface_hub reads the variables once, into ``constants.HF_HUB_OFFLINE``, when it is imported; a
    variable set or unset later (a test, a notebook cell) is read again here with the same precedence and
    the same values for "true" (``constants.ENV_VARS_TRUE_VALUES``); with neither variable set, the
    constant decides (set at import, or by code).
    """
    from huggingface_hub import constants

    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE")
    if value is None:
        return bool(constants.HF_HUB_OFFLINE)
    return value.strip().upper() in constants.ENV_VARS_TRUE_VALUES


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the hub endpoint answers, asked once per process and endpoint (never when offline).

    A HEAD request through ``huggingface_hub.get_session()``: the session every download uses, so a proxy
    that downloads go through is the proxy probed, and huggingface_hub's offline mode refuses it too.
    """
    if offline():
        return False
    from huggingface_hub import constants, get_session

    endpoint = constants.ENDPOINT
    if endpoint not in _reachable:
        try:
            get_session().head(endpoint, timeout=timeout, allow_redirects=False)
            _reachable[endpoint] = True
        except Exception:  # connection refused, DNS, proxy error, OfflineModeIsEnabled: not reachable
            _reachable[endpoint] = False
    return _reachable[endpoint]


def cached_file(
    repo: str, filename: str, revision: str | None = None, repo_type: str = "model"
) -> Path | None:
    """A hub file already in the local cache (never downloads); None when not there or the id is malformed."""
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(repo, filename, revision=revision or "main", repo_type=repo_type)
    except Exception:  # a malformed id or cache: not cached, decided at load time instead
        return None
    return Path(found) if isinstance(found, str) else None


def repo_cache_folder(repo: str, repo_type: str = "model", cache_dir: Path | None = None) -> Path:
    """The folder of one repository in the hub cache (``<cache>/<type>s--org--name``), by its naming rule."""
    from huggingface_hub import constants
    from huggingface_hub.file_download import repo_folder_name

    root = Path(cache_dir) if cache_dir is not None else Path(constants.HF_HUB_CACHE)
    return root / repo_folder_name(repo_id=repo, repo_type=repo_type)


def discard_partial(repo: str, repo_type: str = "model", cache_dir: Path | None = None) -> list[Path]:
    """Remove the ``blobs/*.incomplete`` a failed download left in ``repo``'s cache folder; return them.

    huggingface_hub keeps a half-downloaded blob to resume it later; after a failure we would rather leave
    the cache holding only whole files (a node that copies the cache must never see a partial one). A blob
    another process is still downloading is left alone: huggingface_hub holds its lock
    (``<cache>/.locks/<repo folder>/<blob>.lock``) while it writes, and we take that lock without waiting.
    """
    from filelock import FileLock, Timeout

    folder = repo_cache_folder(repo, repo_type, cache_dir)
    locks = folder.parent / ".locks" / folder.name
    removed: list[Path] = []
    for partial in sorted((folder / "blobs").glob("*.incomplete")):
        blob = partial.name.removesuffix(".incomplete")
        try:
            with FileLock(str(locks / f"{blob}.lock"), timeout=0):
                partial.unlink(missing_ok=True)
        except Timeout:  # being downloaded right now by someone else
            continue
        removed.append(partial)
    return removed


def discard_file(path: Path) -> None:
    """Remove one cached file: the snapshot's link and the blob it points at (a file that failed its check)."""
    blob = path.resolve()
    path.unlink(missing_ok=True)
    if blob != path:
        blob.unlink(missing_ok=True)


def content_mismatch(path: Path) -> str | None:
    """Whether a file just downloaded is the one the hub named, by the blob name huggingface_hub gave it.

    The blob is named by the hub's ETag: the sha256 of an LFS file (``X-Linked-Etag``), the git blob sha1 of
    a regular one. huggingface_hub checks only the size; a byte changed on the way (a broken proxy, a bad
    mirror) would be cached and read for ever. Returns what differs, or None (also for an ETag of another form).
    """
    import hashlib
    import re

    blob = path.resolve()
    expected = blob.name
    if re.fullmatch(r"[0-9a-f]{64}", expected):
        with blob.open("rb") as handle:
            actual = hashlib.file_digest(handle, "sha256").hexdigest()
        kind = "sha256"
    elif re.fullmatch(r"[0-9a-f]{40}", expected):
        data = blob.read_bytes()
        actual = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        kind = "git blob sha1"
    else:
        return None
    return None if actual == expected else f"{kind} {actual}, the hub's ETag says {expected}"


def describe(exc: BaseException) -> str:
    """An error with the cause huggingface_hub wraps it around (its "cannot find the requested files in the
    local cache" hides the HTTP 500 or the timeout that is the real reason)."""
    text = f"{type(exc).__name__}: {exc}"
    cause = exc.__cause__ or exc.__context__
    seen = {id(exc)}
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        text += f" (caused by {type(cause).__name__}: {cause})"
        cause = cause.__cause__ or cause.__context__
    return text
