"""``geneb download``: fill the Hugging Face cache once, where the hub is reachable, for nodes without network.

Tasks are fetched by the same function a run reads them with (``data.hub.download_task``: the pinned dataset
revision, cache first), and models by the same one a run loads them with (``models.loading.verified_source``:
a snapshot of the files a load reads at the pinned commit, each checked against ``model_files.csv``), after
hub branches are resolved through ``geneb.lock`` as a run resolves them. So what is downloaded is exactly what
``HF_HUB_OFFLINE=1`` runs later look for. A failure leaves no partial or unverified file in the cache.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from geneb_bench.data.task import TaskSpec
from geneb_bench.models.base import ModelSpec
from geneb_bench.models.verify import Release

Log = Callable[[str], None]


@dataclass(frozen=True)
class Fetched:
    """One task or model: where it comes from, where it now lies in the cache, or why it could not."""

    kind: str  # "task" or "model"
    name: str
    source: str  # repo@revision[:folder], or what the item needs instead
    path: str | None = None  # the local folder (None: nothing to download, or failed)
    verified: bool = False  # every file matched the published sha256
    error: str | None = None

    def line(self) -> str:
        if self.error is not None:
            return f"FAILED {self.kind} {self.name}: {self.error}"
        if self.path is None:
            return f"{self.kind} {self.name}: {self.source}"
        check = ", sha256 verified" if self.verified else ""
        return f"{self.kind} {self.name}: {self.source} -> {self.path}{check}"


def expand_models(names: Iterable[str]) -> tuple[str, ...]:
    """Model names as ``--geneb-model`` takes them, with ``zoo`` standing for the 40 published models.

    ``zoo`` is expanded here from the zoo registry unless the registry's own expansion already knows it.
    """
    from geneb_bench.models.registry import expand_model_names
    from geneb_bench.models.zoo import geneb_models

    zoo = [spec.key for spec in geneb_models()]
    listed: list[str] = []
    for name in names:
        listed.extend(zoo if name == "zoo" else [name])
    return expand_model_names(listed)


def download_tasks(specs: Sequence[TaskSpec], log: Log = print) -> list[Fetched]:
    """The train/test files of each published task at the pinned revision, into the hub cache."""
    from geneb_bench.data.csv_tasks import TaskUnavailable
    from geneb_bench.data.hub import download_task

    done: list[Fetched] = []
    for spec in specs:
        if spec.location is None:
            item = Fetched("task", spec.task_id, "built in or a local file: nothing to download")
        else:
            try:
                train, _test = download_task(spec.task_id, spec.location)
                item = Fetched("task", spec.task_id, str(spec.location), str(train.parent))
            except TaskUnavailable as exc:
                item = Fetched("task", spec.task_id, str(spec.location), error=str(exc))
        log(item.line())
        done.append(item)
    return done


def download_models(
    names: Sequence[str], lock_path: Path, trust_remote_code: bool = False, log: Log = print
) -> list[Fetched]:
    """Each model's checkpoint at its pinned commit into the hub cache, verified where a manifest exists."""
    from geneb_bench.models.lockfile import pin_specs
    from geneb_bench.models.registry import resolve_models

    specs = pin_specs(
        resolve_models(expand_models(names)), lock_path, trust_remote_code=trust_remote_code, log=log
    )
    done = []
    for spec in specs:
        item = download_model(spec)
        log(item.line())
        done.append(item)
    return done


def download_model(spec: ModelSpec) -> Fetched:
    """One model: a zoo checkpoint at its published commit is fetched and verified by the run's own code."""
    from geneb_bench.hub import describe, discard_partial, offline
    from geneb_bench.models.loading import is_commit, verified_source
    from geneb_bench.models.verify import release_for

    if spec.family != "hf" or spec.source is None or Path(spec.source).expanduser().is_dir():
        return Fetched("model", spec.key, "built in or a local folder: nothing to download")
    if spec.weights not in ("hub", ""):
        where = spec.weights_note or "outside the hub"
        return Fetched(
            "model", spec.key, f"weights {spec.weights} ({where}): not on the hub, fetch them yourself"
        )
    source = f"{spec.source}@{spec.revision or 'main'}"
    if spec.options.get("trust_remote_code") and not is_commit(spec.revision):
        return Fetched(
            "model",
            spec.key,
            source,
            error="runs remote code at a branch: pass --trust-remote-code to resolve it to a commit "
            "(recorded in geneb.lock) or name a commit with @<40-hex>",
        )
    release = release_for(spec.key if spec.group == "geneb" else "", spec.source, spec.revision)
    try:
        if release is not None and release.on_hub and release.revision == spec.revision:
            return Fetched("model", spec.key, source, verified_source(spec), verified=True)
        from huggingface_hub import snapshot_download

        folder = snapshot_download(spec.source, revision=spec.revision)
        _check_against_etags(Path(folder))
        return Fetched(
            "model", spec.key, source + " (no published manifest: checked against the hub's ETags)", folder
        )
    except Exception as exc:  # network, hub, check: this model fails, the others are still fetched
        if not offline():
            discard_partial(spec.source, "model")
        if release is not None:
            _discard_mismatched(spec, release)
        return Fetched("model", spec.key, source, error=describe(exc))


def _check_against_etags(folder: Path) -> None:
    """Without a manifest, each file is checked against the id the hub gave it; a wrong one is removed."""
    from geneb_bench.hub import content_mismatch, discard_file
    from geneb_bench.models.base import ModelUnavailable

    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        wrong = content_mismatch(path)
        if wrong is not None:
            discard_file(path)
            raise ModelUnavailable(f"{path.relative_to(folder)} is not the hub's file ({wrong}); removed")


def _discard_mismatched(spec: ModelSpec, release: Release) -> None:
    """Remove the cached files of ``spec`` that differ from its manifest: a later run must not find them."""
    from huggingface_hub import try_to_load_from_cache

    from geneb_bench.hub import discard_file
    from geneb_bench.models.verify import sha256_file

    assert spec.source is not None
    for record in release.needed():
        found = try_to_load_from_cache(spec.source, record.name, revision=spec.revision)
        if isinstance(found, str) and sha256_file(Path(found)) != record.sha256:
            discard_file(Path(found))


def run(args: argparse.Namespace) -> int:
    """The ``geneb download`` command: 0 when everything asked for is in the cache, 1 when something is not."""
    from geneb_bench.data.suites import get_suite
    from geneb_bench.hub import offline
    from geneb_bench.models.lockfile import LOCK_NAME

    if args.suite is None and not args.model:
        raise ValueError(
            "name what to download: --suite geneb (its tasks), --model KEY (repeatable), or both"
        )
    if offline():
        print(
            "geneb download: HF_HUB_OFFLINE is set: only what is already cached is checked", file=sys.stderr
        )
    done: list[Fetched] = []
    if args.suite is not None:
        suite = get_suite(args.suite)
        wanted = args.task or [t.task_id for t in suite.tasks]
        done += download_tasks(suite.select(wanted))
    if args.model:
        lock = Path(args.lock_file or LOCK_NAME).expanduser()
        done += download_models(args.model, lock, args.trust_remote_code)
    failed = [f for f in done if f.error is not None]
    if args.json:
        print(json.dumps([asdict(f) for f in done], indent=1))
    from huggingface_hub import constants

    print(
        f"geneb download: {len(done) - len(failed)} of {len(done)} ready in the hub cache {constants.HF_HUB_CACHE}"
        + (f"; {len(failed)} failed" if failed else "; run offline with HF_HUB_OFFLINE=1"),
        file=sys.stderr,
    )
    return 1 if failed else 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "download",
        help="fill the Hugging Face cache with a suite's tasks and/or models at their pinned revisions "
        "(then run with HF_HUB_OFFLINE=1 where there is no network)",
    )
    parser.add_argument(
        "--suite",
        default=None,
        help="download this suite's tasks (geneb: the 100 published; default: no tasks)",
    )
    add_task_argument(parser)
    parser.add_argument(
        "--model",
        action="append",
        default=None,
        metavar="KEY",
        help="a model as --geneb-model takes it, repeatable; zoo = the 40 published models (default: none)",
    )
    parser.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="resolve remote-code models at a branch to a commit (recorded in the lock file)",
    )
    parser.add_argument("--lock-file", default=None, help=f"the lock file (default: ./{'geneb.lock'})")
    parser.add_argument("--json", action="store_true", help="also print one JSON list of what was fetched")


def add_task_argument(parser: argparse.ArgumentParser) -> None:
    """``--task TASK_ID`` (repeatable), as ``geneb download`` and ``geneb plan`` take it."""
    parser.add_argument(
        "--task",
        action="append",
        default=None,
        metavar="TASK_ID",
        help="only this task, repeatable (default: every task of the suite)",
    )
