"""Verified checkpoints: a zoo model's files checked against ``model_files.csv`` before its first use.

``model_files.csv`` (package data, from a public GENEB runtime's frozen catalogue) lists every file of the
40 checkpoints at their pinned revision, or of the Google Drive / Dataverse release, with sha256 and size. A
missing file or another sha256 refuses the model (``ModelUnavailable`` naming the file and both hashes), so
a user knows the vectors come from the published weights and code. Hashing is remembered per file by
(size, mtime_ns, inode) in a small JSON stamp under the cache directory: a 14 GB model is hashed once.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from filelock import FileLock

from geneb_bench.io import atomic_write_text
from geneb_bench.models.base import ModelUnavailable

STAMP_NAME = "verified-files.json"
_DOCS = (".md", ".gitattributes", "LICENSE")  # not read by a load: not required
# not read by a load: NT-v2's JAX weights next to the PyTorch ones, a trainer's pickled arguments
_NOT_LOADED = ("jax_model/", ".joblib", "training_args.bin")


@dataclass(frozen=True)
class FileRecord:
    name: str  # path inside the checkpoint folder
    sha256: str
    size: int


@dataclass(frozen=True)
class Release:
    key: str  # GENEB key
    provider: str  # huggingface, google-drive, harvard-dataverse
    source: str  # hub id or release URL
    revision: str  # hub commit ("" for releases)
    files: tuple[FileRecord, ...]

    @property
    def on_hub(self) -> bool:
        return self.provider == "huggingface"

    def needed(self) -> tuple[FileRecord, ...]:
        """The files a load reads: no docs, no JAX weights, and no .bin where safetensors exist (hub)."""
        files = [
            f for f in self.files if not f.name.endswith(_DOCS) and not any(x in f.name for x in _NOT_LOADED)
        ]
        if self.on_hub and any(f.name.endswith(".safetensors") for f in files):
            files = [f for f in files if not f.name.startswith("pytorch_model")]
        return tuple(files)


@cache
def releases() -> dict[str, Release]:
    """``model_files.csv`` by GENEB key."""
    text = resources.files("geneb_bench.models").joinpath("model_files.csv").read_text(encoding="utf-8")
    rows: dict[str, list[dict[str, str]]] = {}
    for row in csv.DictReader(text.splitlines()):
        rows.setdefault(row["geneb_key"], []).append(row)
    return {
        key: Release(
            key,
            r[0]["provider"],
            r[0]["source"],
            r[0]["revision"],
            tuple(FileRecord(x["file"], x["sha256"], int(x["size"])) for x in r),
        )
        for key, r in rows.items()
    }


def release_for(key: str, source: str | None = None, revision: str | None = None) -> Release | None:
    """The release of a zoo key (a recipe override's ``key+field-value`` counts as its key), or the hub
    release with this source and commit (a hub id the user passes at a published commit)."""
    found = releases().get(key.split("+")[0])
    if found is not None:
        return found
    return next(
        (r for r in releases().values() if r.on_hub and (r.source, r.revision) == (source, revision)), None
    )


def sha256_file(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class Stamps:
    """Files already hashed: absolute path -> (size, mtime_ns, inode, sha256), kept in one JSON file."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, dict[str, int | str]] = {}
        if path is not None and path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = {}  # a damaged stamp costs one more hashing, nothing else
            self.entries = data if isinstance(data, dict) else {}

    @staticmethod
    def _stat(path: Path) -> dict[str, int]:
        st = path.stat()
        return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "inode": st.st_ino}

    def sha256(self, path: Path) -> str:
        """The file's sha256: from the stamp when size, mtime and inode are unchanged, else hashed now."""
        key = str(path.resolve())
        stat = self._stat(path)
        seen = self.entries.get(key)
        if seen is not None and all(seen.get(k) == v for k, v in stat.items()):
            return str(seen["sha256"])
        digest = sha256_file(path)
        self.entries[key] = {**stat, "sha256": digest}
        return digest

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.path) + ".lock"):
            merged = Stamps(self.path).entries  # keep what another process recorded meanwhile
            merged.update(self.entries)
            atomic_write_text(self.path, json.dumps(merged, indent=1, sort_keys=True))


def verify_folder(
    release: Release, folder: Path, stamps: Stamps, files: tuple[FileRecord, ...] | None = None
) -> None:
    """Refuse ``folder`` unless each expected file is there with the published sha256 (size checked first)."""
    where = f"{release.key}: {folder}"
    for record in files if files is not None else release.needed():
        path = folder / record.name
        if not path.is_file():
            keep = (
                " (a converted folder keeps the release file next to the transformers files: it is what is "
                "verified)"
                if record.name.endswith((".pth", ".ckpt"))
                else ""
            )
            raise ModelUnavailable(
                f"{where}: file {record.name} is missing (expected sha256 {record.sha256}, {record.size:,} bytes "
                f"from {release.source}{'@' + release.revision if release.revision else ''}); "
                f"a complete copy of the published checkpoint is needed{keep}"
            )
        size = path.stat().st_size
        actual = stamps.sha256(path)
        if actual != record.sha256:
            stamps.save()  # the good files need not be hashed again after the user replaces this one
            raise ModelUnavailable(
                f"{where}: file {record.name} differs from the published checkpoint: sha256 {actual} "
                f"({size:,} bytes), expected {record.sha256} ({record.size:,} bytes). Download it again from "
                f"{release.source}{'@' + release.revision if release.revision else ''}"
            )
    stamps.save()


def stamp_path(cache_dir: Path) -> Path:
    return cache_dir / STAMP_NAME


def default_stamp_path() -> Path:
    """Under the embedding cache directory ($GENEB_CACHE_DIR or the user cache dir)."""
    import os

    from platformdirs import user_cache_dir

    return stamp_path(Path(os.environ.get("GENEB_CACHE_DIR") or user_cache_dir("geneb-bench")).expanduser())


def code_files(folder: Path) -> list[Path]:
    """The Python a remote-code load of ``folder`` may import: every ``*.py`` (no hidden folders, caches)."""
    return sorted(
        p
        for p in folder.rglob("*.py")
        if p.is_file()
        and not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(folder).parts)
    )


def foreign_code(folder: Path) -> list[str]:
    """``auto_map`` entries of ``config.json``/``tokenizer_config.json`` that fetch code from another hub
    repository (``org/repo--module.Class``): remote code that is not in the folder at all."""
    found: list[str] = []
    for name in ("config.json", "tokenizer_config.json"):
        try:
            data = json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        auto_map = data.get("auto_map") if isinstance(data, dict) else None
        for ref in auto_map.values() if isinstance(auto_map, dict) else ():
            for item in ref if isinstance(ref, list) else [ref]:
                if isinstance(item, str) and "--" in item:
                    found.append(f"{name} auto_map {item}")
    return found


def origin(release: Release) -> str:
    """``source@commit`` (12 hex) of a hub release, the URL of any other."""
    return f"{release.source}@{release.revision[:12]}" if release.revision else release.source


def unpinned_code(release: Release | None, folder: Path) -> tuple[list[str], list[str]]:
    """(code files of ``folder`` that are the release's pinned bytes, what is not, in words).

    A file is pinned when the release lists a file of that path with the same sha256; a code file the
    release does not list, and code fetched from another repository, are not."""
    pinned = {f.name: f for f in release.files} if release is not None else {}
    matching: list[str] = []
    problems = [f"{ref} loads code from another repository" for ref in foreign_code(folder)]
    for path in code_files(folder):
        name = path.relative_to(folder).as_posix()
        record = pinned.get(name)
        if record is None:
            problems.append(
                f"{name} is not a file of {origin(release) if release else 'a pinned checkpoint'}"
            )
            continue
        actual = sha256_file(path)  # code files are small: no stamp
        if actual != record.sha256:
            problems.append(
                f"{name} has sha256 {actual[:16]}... ({path.stat().st_size:,} bytes), the pinned file "
                f"{record.sha256[:16]}... ({record.size:,} bytes)"
            )
        else:
            matching.append(name)
    return matching, problems
