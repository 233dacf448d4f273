"""``geneb.lock``: hub branches resolved to commits once, then reused, the way ``uv.lock`` pins packages.

Zoo entries carry their commit (``zoo.toml``). Anything else on the hub (a hub id the user passes, a zoo
entry with ``[revision=main]``) names a branch, which moves. Before a run the harness resolves each such
branch to its commit (``HfApi().model_info(repo, revision=...).sha``), prints it, and records it here; later
runs, and the other machines of a sweep that share the file, read the commit from the lock instead of the
network, so the code and weights they load (and the identity in the cache key and every result) are the same.
Remote code at a branch is resolved only with the explicit ``--geneb-trust-remote-code`` opt-in.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path

from geneb_bench.hub import offline
from geneb_bench.io import atomic_write_text
from geneb_bench.models.base import ModelSpec
from geneb_bench.models.loading import is_commit

LOCK_NAME = "geneb.lock"
LOCK_VERSION = 1

Resolver = Callable[[str, str], str]


def resolve_commit(repo: str, revision: str) -> str:
    """The commit a hub branch or tag points at now (network: one metadata call, no download)."""
    from huggingface_hub import HfApi

    sha = HfApi().model_info(repo, revision=revision).sha
    if not is_commit(sha):
        raise ValueError(f"hub returned no commit for {repo}@{revision} (got {sha!r})")
    return str(sha)


def cached_commit(repo: str, revision: str) -> str | None:
    """The commit of ``revision`` in the local hub cache (``refs/<branch>``), for offline runs."""
    try:
        from huggingface_hub.constants import HF_HUB_CACHE
    except ImportError:  # pragma: no cover - a transformers dependency
        return None
    ref = Path(HF_HUB_CACHE) / f"models--{repo.replace('/', '--')}" / "refs" / revision
    try:
        sha = ref.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return sha if is_commit(sha) else None


class LockFile:
    """The pins of one project: ``(hub id, branch) -> commit``, read from and written to a TOML file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pins: dict[tuple[str, str], str] = {}
        if path.is_file():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ValueError(f"{path}: not a readable geneb lock file ({exc}); fix or delete it") from exc
            for n, entry in enumerate(data.get("model", []), 1):
                try:
                    source, revision, commit = entry["source"], entry["revision"], entry["commit"]
                except (KeyError, TypeError):
                    raise ValueError(
                        f"{path}: [[model]] entry {n} needs source, revision and commit"
                    ) from None
                if not is_commit(commit):
                    raise ValueError(
                        f"{path}: [[model]] entry {n} ({source}@{revision}): commit {commit!r} "
                        "is not a 40-hex commit"
                    )
                self.pins[(str(source), str(revision))] = str(commit)

    def get(self, source: str, revision: str) -> str | None:
        return self.pins.get((source, revision))

    def record(self, source: str, revision: str, commit: str) -> None:
        self.pins[(source, revision)] = commit
        lines = [
            "# geneb.lock: hub branches resolved to commits by geneb-bench. Commit this file so every run",
            "# and machine loads the same code and weights; delete an entry to resolve it again.",
            f"version = {LOCK_VERSION}",
            "",
        ]
        for (src, rev), sha in sorted(self.pins.items()):
            # JSON strings are valid TOML basic strings for these ids
            lines += [
                "[[model]]",
                f"source = {json.dumps(src)}",
                f"revision = {json.dumps(rev)}",
                f"commit = {json.dumps(sha)}",
                "",
            ]
        atomic_write_text(self.path, "\n".join(lines))


def pin_specs(
    specs: Iterable[ModelSpec],
    lock_path: Path,
    *,
    trust_remote_code: bool,
    resolver: Resolver = resolve_commit,
    log: Callable[[str], None] = print,
) -> tuple[ModelSpec, ...]:
    """Replace every hub branch by its commit: from the lock, else the hub cache (offline) or the resolver.

    Remote-code models at a branch are resolved only with ``trust_remote_code`` (the user's opt-in);
    without it they keep the branch and ``loading.check_loadable`` refuses them with the fix. The same
    opt-in lets a local folder's remote code run when it is not the pinned bytes (``loading``). A branch that
    cannot be resolved (offline, no cache) is kept as is: such a model cannot download anything either.
    """
    lock: LockFile | None = None
    pinned: list[ModelSpec] = []
    for spec in specs:
        if trust_remote_code and spec.weights == "local-dir" and not spec.remote_code_opt_in:
            # the flag is the user's opt-in for a local folder's remote code too (models.loading)
            spec = dataclasses.replace(spec, remote_code_opt_in="--geneb-trust-remote-code")
        branch = spec.revision or "main"
        if spec.family != "hf" or spec.weights != "hub" or spec.source is None or is_commit(spec.revision):
            pinned.append(spec)
            continue
        if spec.options.get("trust_remote_code") and not trust_remote_code:
            pinned.append(spec)
            continue
        lock = lock or LockFile(lock_path)
        commit = lock.get(spec.source, branch)
        if commit is not None:
            log(f"geneb: {spec.source}@{branch} -> {commit} (from {lock_path})")
        else:
            commit = cached_commit(spec.source, branch)
            if commit is None and not offline():
                try:
                    commit = resolver(spec.source, branch)
                except Exception as exc:  # unreachable hub: the load decides (cache or skip)
                    log(f"geneb: cannot resolve {spec.source}@{branch} to a commit ({exc}); kept as {branch}")
            if commit is not None:
                lock.record(spec.source, branch, commit)
                log(f"geneb: {spec.source}@{branch} -> {commit} (recorded in {lock_path})")
        pinned.append(dataclasses.replace(spec, revision=commit) if commit else spec)
    return tuple(pinned)
