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
