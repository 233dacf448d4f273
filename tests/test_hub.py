"""geneb_bench.hub: offline mode by huggingface_hub's rule, one reachability probe through its session."""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import huggingface_hub
import huggingface_hub.constants
import pytest
import requests

from geneb_bench import hub


@pytest.mark.parametrize(
    ("hf", "transformers", "expected"),
    [
        ("1", None, True),
        ("yes", None, True),
        ("ON", None, True),
        ("true", None, True),
        ("0", None, False),
        ("no", None, False),
        (None, "1", True),  # huggingface_hub's fallback variable
        ("", "1", True),  # an empty HF_HUB_OFFLINE falls through to it, as in huggingface_hub
        ("0", "1", False),  # HF_HUB_OFFLINE decides when set
    ],
)
def test_offline_follows_huggingface_hub_rule(
    monkeypatch: pytest.MonkeyPatch,
    hub_online: None,
    hf: str | None,
    transformers: str | None,
    expected: bool,
) -> None:
    for name, value in (("HF_HUB_OFFLINE", hf), ("TRANSFORMERS_OFFLINE", transformers)):
        if value is not None:
            monkeypatch.setenv(name, value)
    assert hub.offline() is expected
    # the same rule huggingface_hub applied at import, evaluated on today's variables
    parsed = huggingface_hub.constants._is_true(
        os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE")
    )
    assert hub.offline() is parsed


def test_without_variables_the_imported_constant_decides(
    monkeypatch: pytest.MonkeyPatch, hub_online: None
) -> None:
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    assert hub.offline()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    assert not hub.offline()


class _Session:
    def __init__(self, error: Exception | None) -> None:
        self.error = error
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def head(self, url: str, **kwargs: Any) -> None:
        self.calls.append((url, kwargs))
        if self.error is not None:
            raise self.error


@pytest.mark.parametrize("error", [None, requests.exceptions.ProxyError("proxy refused")])
def test_reachability_asks_huggingface_hub_session_once(
    monkeypatch: pytest.MonkeyPatch, hub_online: None, error: Exception | None
) -> None:
    session = _Session(error)
    monkeypatch.setattr(huggingface_hub, "get_session", lambda: session)
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", "https://hub.invalid")
    monkeypatch.setattr(hub, "_reachable", {})
    assert hub.hub_reachable(timeout=1.5) is (error is None)
    assert hub.hub_reachable(timeout=1.5) is (error is None)
    assert [url for url, _ in session.calls] == ["https://hub.invalid"], "one probe per process and endpoint"
    assert session.calls[0][1]["timeout"] == 1.5


def test_offline_never_probes(monkeypatch: pytest.MonkeyPatch) -> None:
    session = _Session(None)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub, "get_session", lambda: session)
    monkeypatch.setattr(hub, "_reachable", {})
    assert not hub.hub_reachable()
    assert session.calls == []


@pytest.fixture
def local_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A local HTTP server standing for the hub endpoint (no network)."""
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", endpoint)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    huggingface_hub.configure_http_backend()  # default factory: fresh sessions
    yield endpoint
    server.shutdown()
    server.server_close()
    huggingface_hub.configure_http_backend()  # default factory: fresh sessions


def test_the_probe_goes_through_the_proxy_huggingface_hub_uses(
    monkeypatch: pytest.MonkeyPatch, hub_online: None, local_endpoint: str
) -> None:
    """The endpoint answers directly; through a proxy that refuses, it does not. A raw socket to the endpoint
    (the earlier probe) said "reachable" here, and every download then failed at the proxy."""
    monkeypatch.setattr(hub, "_reachable", {})
    assert hub.hub_reachable(timeout=2.0)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # discard port: nothing listens
    monkeypatch.setattr(hub, "_reachable", {})
    assert not hub.hub_reachable(timeout=2.0)


def test_cached_file_never_downloads(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    assert hub.cached_file("geneb-test-org/not-cached", "config.json") is None
    assert hub.cached_file("not a repo id", "config.json") is None
    snapshot = tmp_path / "models--geneb-test-org--cached" / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (tmp_path / "models--geneb-test-org--cached" / "refs").mkdir()
    (tmp_path / "models--geneb-test-org--cached" / "refs" / "main").write_text("a" * 40)
    assert hub.cached_file("geneb-test-org/cached", "config.json") == snapshot / "config.json"
