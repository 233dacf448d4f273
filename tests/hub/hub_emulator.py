"""A local stand-in for the Hugging Face hub, for the endpoints ``huggingface_hub`` 0.2x/0.3x calls.

The standard library's threading HTTP server on 127.0.0.1 (port chosen by the OS), serving from memory:

* ``GET /api/{models,datasets}/<id>/revision/<rev>``: repo info (``sha``, ``siblings``), which
  ``HfApi.model_info`` / ``dataset_info`` / ``repo_info`` and ``snapshot_download`` read;
* ``HEAD|GET [/datasets]/<id>/resolve/<rev>/<path>``: a file, with the headers ``hf_hub_download`` needs
  (``X-Repo-Commit``; ``ETag`` = the git blob sha1, or for LFS files ``X-Linked-Etag`` = sha256 and
  ``X-Linked-Size``), ``Range`` for resumed downloads, and the hub's ``X-Error-Code`` on 404s;
* ``HEAD /``: the reachability probe of ``geneb_bench.hub``.

Faults are injected per file (or on the revision endpoint) to test what a real hub or network does wrong.
Every request is logged, so tests can count what the client asked for.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

LFS_SUFFIXES = (".safetensors", ".bin", ".csv")  # served as LFS files: X-Linked-Etag is their sha256


def git_blob_sha1(data: bytes) -> str:
    """The id git (and the hub's ETag for a regular file) gives this content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Repo:
    repo_type: str  # "model" or "dataset"
    repo_id: str
    commit: str
    files: dict[str, bytes]
    branches: dict[str, str] = field(default_factory=dict)  # branch -> commit ("main" added)

    def __post_init__(self) -> None:
        self.branches.setdefault("main", self.commit)

    def commit_of(self, revision: str) -> str | None:
        return self.commit if revision == self.commit else self.branches.get(revision)


@dataclass(frozen=True)
class Fault:
    """What goes wrong for requests whose path contains ``match``.

    kind: ``status`` (answer ``status``), ``drop`` (close the connection after half the body),
    ``truncate`` (a GET whose Content-Length and body are shorter than the size HEAD announced),
    ``corrupt`` (one byte changed, headers of the true file), ``slow`` (wait ``delay`` s before answering).
    """

    match: str
    kind: str
    status: int = 500
    delay: float = 0.0
    methods: tuple[str, ...] = ("GET",)


class HubEmulator:
    def __init__(self) -> None:
        self.repos: dict[tuple[str, str], Repo] = {}
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str]] = []  # (method, path) of every request
        self._server: http.server.ThreadingHTTPServer | None = None

    # set-up -------------------------------------------------------------------------------------------
    def add_repo(self, repo: Repo) -> Repo:
        self.repos[(repo.repo_type, repo.repo_id)] = repo
        return repo

    def add_folder(
        self,
        repo_type: str,
        repo_id: str,
        commit: str,
        folder: Path,
        prefix: str = "",
        skip: tuple[str, ...] = (),
    ) -> Repo:
        """Serve every file under ``folder`` as ``<prefix><relative path>`` (added to the repo if it exists)."""
        repo = self.repos.get((repo_type, repo_id)) or self.add_repo(Repo(repo_type, repo_id, commit, {}))
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.name not in skip:
                repo.files[prefix + path.relative_to(folder).as_posix()] = path.read_bytes()
        return repo

    def requests(self, contains: str, method: str | None = None) -> int:
        return sum(1 for m, p in self.log if contains in p and (method is None or m == method))

    # server -------------------------------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> HubEmulator:
        emulator = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def handle(self) -> None:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
                    super().handle()

            def do_HEAD(self) -> None:
                emulator._answer(self, "HEAD")

            def do_GET(self) -> None:
                emulator._answer(self, "GET")

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # answering ----------------------------------------------------------------------------------------
    def _answer(self, h: http.server.BaseHTTPRequestHandler, method: str) -> None:
        path = urlsplit(h.path).path
        self.log.append((method, path))
        fault = next((f for f in self.faults if f.match in path and method in f.methods), None)
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
        if fault is not None and fault.kind == "status":
            return self._error(h, fault.status, "", "injected fault")
        if path == "/":
            return self._send(h, 200, b"", {})
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if len(parts) >= 6 and parts[0] == "api" and parts[4] == "revision":
            return self._revision(h, parts[1].removesuffix("s"), f"{parts[2]}/{parts[3]}", parts[5])
        repo_type = "model"
        if parts and parts[0] == "datasets":
            repo_type, parts = "dataset", parts[1:]
        if len(parts) >= 5 and parts[2] == "resolve":
            return self._file(
                h, method, repo_type, f"{parts[0]}/{parts[1]}", parts[3], "/".join(parts[4:]), fault
            )
        return self._error(h, 404, "", f"no such endpoint {path}")

    def _repo(
        self, h: http.server.BaseHTTPRequestHandler, repo_type: str, repo_id: str, rev: str
    ) -> Repo | None:
        repo = self.repos.get((repo_type, repo_id))
        if repo is None:
            self._error(h, 404, "RepoNotFound", f"Repository Not Found for url: {repo_id}")
            return None
        if repo.commit_of(rev) is None:
            self._error(h, 404, "RevisionNotFound", f"Invalid rev id: {rev}")
            return None
        return repo

    def _revision(
        self, h: http.server.BaseHTTPRequestHandler, repo_type: str, repo_id: str, rev: str
    ) -> None:
        repo = self._repo(h, repo_type, repo_id, rev)
        if repo is None:
            return
        info = {
            "id": repo_id,
            "sha": repo.commit_of(rev),
            "private": False,
            "siblings": [{"rfilename": name} for name in sorted(repo.files)],
        }
        self._send(h, 200, json.dumps(info).encode(), {"Content-Type": "application/json"})

    def _file(
        self,
        h: http.server.BaseHTTPRequestHandler,
        method: str,
        repo_type: str,
        repo_id: str,
        rev: str,
        name: str,
        fault: Fault | None,
    ) -> None:
        repo = self._repo(h, repo_type, repo_id, rev)
        if repo is None:
            return
        commit = repo.commit_of(rev)
        assert commit is not None
        if name not in repo.files:
            return self._error(h, 404, "EntryNotFound", f"{name} not found", {"X-Repo-Commit": commit})
        data = repo.files[name]
        headers = {"X-Repo-Commit": commit}
        if name.endswith(LFS_SUFFIXES):
            sha256 = hashlib.sha256(data).hexdigest()
            headers |= {
                "ETag": f'"{sha256}"',
                "X-Linked-Etag": f'"{sha256}"',
                "X-Linked-Size": str(len(data)),
            }
        else:
            headers["ETag"] = f'"{git_blob_sha1(data)}"'
        if method == "HEAD":
            return self._send(h, 200, b"", headers, length=len(data))
        kind = fault.kind if fault is not None else ""
        if kind == "corrupt":
            data = data[:-1] + bytes([data[-1] ^ 0x01])
        elif kind == "truncate":
            data = data[: len(data) // 2]
        status, start = 200, 0
        ranged = h.headers.get("Range", "")
        if ranged.startswith("bytes=") and kind != "truncate":
            start = int(ranged.removeprefix("bytes=").split("-")[0] or 0)
            status = 206
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        body = data[start:]
        if kind == "drop":  # announce the whole body, send half, hang up
            self._head(h, status, headers, len(body))
            h.wfile.write(body[: len(body) // 2])
            h.wfile.flush()
            h.close_connection = True
            return
        self._send(h, status, body, headers)

    @staticmethod
    def _head(
        h: http.server.BaseHTTPRequestHandler, status: int, headers: dict[str, str], length: int
    ) -> None:
        h.send_response(status)
        for key, value in headers.items():
            h.send_header(key, value)
        h.send_header("Content-Length", str(length))
        h.end_headers()

    def _send(
        self,
        h: http.server.BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        headers: dict[str, str],
        length: int | None = None,
    ) -> None:
        self._head(h, status, headers, len(body) if length is None else length)
        if h.command != "HEAD":
            h.wfile.write(body)

    def _error(
        self,
        h: http.server.BaseHTTPRequestHandler,
        status: int,
        code: str,
        message: str,
        extra: dict[str, str] | None = None,
    ) -> None:
        headers = {"Content-Type": "application/json", "X-Error-Message": message, **(extra or {})}
        if code:
            headers["X-Error-Code"] = code
        self._send(h, status, json.dumps({"error": message}).encode(), headers)


def main() -> None:
    """Serve the shared tasks and the MutBERT fixture for a demonstration: ``python -m tests.hub.hub_emulator``.

    Prints the endpoint (set ``HF_ENDPOINT`` to it); serves until killed or for ``--seconds``.
    """
    import argparse

    from tests.hub.conftest import _serve

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--seconds", type=float, default=600.0)
    args = parser.parse_args()
    server = _serve(HubEmulator()).start()
    print(server.endpoint, flush=True)
    try:
        time.sleep(args.seconds)
    finally:
        server.stop()
        for method, path in server.log:
            print(method, path, flush=True)


if __name__ == "__main__":
    main()
