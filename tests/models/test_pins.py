"""Pinned by default: zoo revisions, the trust flags they imply, the lock file, and the commit in every key."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from geneb_bench.models.base import ModelSpec
from geneb_bench.models.lockfile import LockFile, pin_specs
from geneb_bench.models.registry import resolve_model
from geneb_bench.models.verify import releases
from geneb_bench.models.zoo import geneb_models
from tests.conftest import SWEEP_SCOPE

SHARED_REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"  # ../shared next to the clone
ZOO = {s.key: s for s in geneb_models()}
COMMIT_A, COMMIT_B = "a" * 40, "b" * 40


def _packaged(name: str) -> list[dict[str, str]]:
    text = resources.files("geneb_bench.models").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def test_every_hub_entry_carries_the_published_commit() -> None:
    revisions = {r["geneb_key"]: r for r in _packaged("model_revisions.csv")}
    hub = [s for s in ZOO.values() if s.weights == "hub"]
    assert len(hub) == 31
    for spec in hub:
        row = revisions[spec.key]
        assert (spec.source, spec.revision) == (row["hub_id"], row["commit"]), spec.key
    files = releases()
    for spec in hub:  # and model_files.csv lists the files of exactly that commit
        assert (files[spec.key].source, files[spec.key].revision) == (spec.source, spec.revision)


@pytest.mark.parametrize("name", ["model_revisions.csv", "model_files.csv"])
def test_package_data_equals_the_reference(name: str) -> None:
    reference = SHARED_REFERENCE / name
    if not reference.is_file():
        pytest.skip(f"{reference} not on this machine")
    with reference.open(encoding="utf-8") as handle:
        assert _packaged(name) == list(csv.DictReader(handle))


def _ships_code(key: str) -> tuple[bool, bool]:
    """(model code, tokenizer code) of a release, from its file names in model_files.csv."""
    names = [f.name for f in releases()[key].files if f.name.endswith(".py")]
    tokenizer = [n for n in names if re.match(r"(tokeni[sz]ation|tokenizer)", Path(n).name)]
    return bool(set(names) - set(tokenizer)), bool(tokenizer)


def test_trust_remote_code_agrees_with_the_checkpoint_files() -> None:
    """A hub entry that ships Python (model or tokenizer) needs remote code for both loads (one recipe field
    is passed to AutoTokenizer and the auto class); an entry without Python must not run any."""
    wrong = []
    for spec in ZOO.values():
        if spec.weights != "hub":
            continue
        model_code, tokenizer_code = _ships_code(spec.key)
        needs = model_code or tokenizer_code
        if bool(spec.options.get("trust_remote_code")) != needs:
            wrong.append(
                f"{spec.key}: model code {model_code}, tokenizer code {tokenizer_code}, "
                f"trust_remote_code {spec.options.get('trust_remote_code')}"
            )
    assert not wrong, "\n".join(wrong)
    assert _ships_code("GENERator-eukaryote-3b-base") == (True, True)


# ---- the lock file: branch -> commit once, then reused ------------------------------------------------


def _hub(name: str, **options: object) -> ModelSpec:
    spec = resolve_model(name)
    return dataclasses.replace(spec, options={**spec.options, **options})


def test_branch_is_resolved_once_printed_and_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub_online: None
) -> None:
    monkeypatch.setattr("geneb_bench.models.lockfile.cached_commit", lambda repo, rev: None)
    lock = tmp_path / "geneb.lock"
    calls: list[tuple[str, str]] = []
    lines: list[str] = []

    def resolver(repo: str, revision: str) -> str:
        calls.append((repo, revision))
        return COMMIT_A

    specs = (_hub("someorg/dna-model"), resolve_model("kmer-3"), ZOO["DNABERT-S"])
    pinned = pin_specs(specs, lock, trust_remote_code=False, resolver=resolver, log=lines.append)
    assert calls == [("someorg/dna-model", "main")]
    assert pinned[0].revision == COMMIT_A
    assert pinned[1:] == specs[1:], "built-ins and pinned zoo entries are left alone"
    assert any(COMMIT_A in line and "recorded" in line for line in lines)
    assert LockFile(lock).get("someorg/dna-model", "main") == COMMIT_A
    again = pin_specs(
        specs[:1], lock, trust_remote_code=False, resolver=lambda r, v: COMMIT_B, log=lines.append
    )
    assert again[0].revision == COMMIT_A, "a later run reuses the lock, not today's branch head"


def test_remote_code_at_a_branch_needs_the_opt_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub_online: None
) -> None:
    monkeypatch.setattr("geneb_bench.models.lockfile.cached_commit", lambda repo, rev: None)
    lock = tmp_path / "geneb.lock"
    branch = resolve_model("hyenadna-medium-160k-seqlen-hf[revision=main]")
    kept = pin_specs((branch,), lock, trust_remote_code=False, resolver=lambda r, v: COMMIT_A, log=print)
    assert kept[0].revision == "main"
    assert not lock.exists()
    opted = pin_specs((branch,), lock, trust_remote_code=True, resolver=lambda r, v: COMMIT_A, log=print)
    assert opted[0].revision == COMMIT_A
    from geneb_bench.models.loading import check_loadable

    check_loadable(opted[0])  # now pinned: allowed


def test_offline_never_calls_the_resolver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("geneb_bench.models.lockfile.cached_commit", lambda repo, rev: None)

    def resolver(repo: str, revision: str) -> str:
        raise AssertionError("network call offline")

    kept = pin_specs(
        (_hub("someorg/dna-model"),), tmp_path / "l", trust_remote_code=True, resolver=resolver, log=print
    )
    assert kept[0].revision == "main"


def test_bad_lock_file_is_named(tmp_path: Path) -> None:
    lock = tmp_path / "geneb.lock"
    lock.write_text('[[model]]\nsource = "a/b"\nrevision = "main"\ncommit = "abc"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"geneb.lock.*40-hex"):
        LockFile(lock)


def test_plugin_option_pins_through_the_lock(tmp_path: Path) -> None:
    """A run reads the project's geneb.lock and shows the locked commit in its header (no network)."""
    import subprocess
    import sys

    (tmp_path / "test_nothing.py").write_text("def test_nothing():\n    pass\n", encoding="utf-8")
    (tmp_path / "geneb.lock").write_text(
        f'version = 1\n\n[[model]]\nsource = "someorg/dna-model"\nrevision = "main"\ncommit = "{COMMIT_A}"\n',
        encoding="utf-8",
    )
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--geneb-model",
            "someorg/dna-model",
            "-p",
            "no:cacheprovider",
            f"--rootdir={tmp_path}",
            str(tmp_path / "test_nothing.py"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"someorg/dna-model@{COMMIT_A}" in run.stdout
    assert "from " in run.stderr
    assert COMMIT_A in run.stderr


# ---- the commit is part of every key -------------------------------------------------------------------


def test_cache_and_results_of_one_commit_are_not_reused_at_another(tmp_path: Path) -> None:
    from geneb_bench.data.suites import get_suite
    from geneb_bench.protocol import get_regime
    from geneb_bench.runner.session import BenchItem, GenebSession
    from geneb_bench.runner.settings import Settings

    base = resolve_model("kmer-3")
    task = get_suite("lite").tasks[0]

    def session(commit: str) -> tuple[GenebSession, BenchItem]:
        spec = dataclasses.replace(base, revision=commit)
        settings = Settings(
            suite="lite",
            models=("kmer-3",),
            specs=(spec,),
            regimes=(get_regime("1shot"),),
            seeds=(13,),
            data_dir=None,
            cache_dir=tmp_path / "cache",
            results_dir=tmp_path / "results",
            device="cpu",
        )
        return GenebSession(settings), BenchItem(spec, task, get_regime("1shot"))

    first, item_a = session(COMMIT_A)
    outcome = first.run_item(item_a)
    assert outcome.result.model_identity["revision"] == COMMIT_A
    other, item_b = session(COMMIT_B)
    data = other.task_data(task)
    assert other.cache.read(other.cache_parts(item_b.model, data)) is None
    assert other.finished_result(item_b, data) is None
    later = other.run_item(item_b)
    assert not later.resumed
    assert later.result.model_identity["revision"] == COMMIT_B
    same, item_a2 = session(COMMIT_A)  # control: the same commit is reused
    assert same.cache.read(same.cache_parts(item_a2.model, data)) is not None


def test_run_json_records_each_model_revision(sweep: Any, stand_in: Any) -> None:
    import json

    sweep.good_task("t1")
    folder = stand_in("bert-char")
    result = sweep.run(models=("kmer-3", str(folder)))
    result.assert_outcomes(passed=4)
    run = json.loads((sweep.root / "out" / SWEEP_SCOPE / "run.json").read_text())
    revisions = run["model_revisions"]
    assert revisions["kmer-3"] is None
    local = resolve_model(str(folder))
    assert revisions[local.key] == local.revision
    assert str(local.revision).startswith("local-")


# ---- models served by their own package (issue 24.12) ------------------------------------------------------
# Their packages (enformer-pytorch, biofm-eval, SPACE) are not installed here and their weights cannot be
# downloaded: the hub, the package loader and the published file list are replaced by fakes that record
# what they were asked. The file list is the fake snapshot's own (a monkeypatched model_files.csv release
# at the published source and commit), so verification passes only on those bytes.

PACKAGE_KEYS = ["space", "BioFM-265M", "enformer-official-rough"]


@pytest.fixture
def fake_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``fake_package(key)`` -> (calls to the package loader, calls to snapshot_download, snapshot folder)."""
    import importlib.machinery
    import sys
    import types

    import huggingface_hub

    from geneb_bench.models import verify
    from geneb_bench.models.packages import PACKAGE_LOADERS

    monkeypatch.setenv("GENEB_CACHE_DIR", str(tmp_path / "cache"))

    def make(key: str) -> tuple[list[tuple[str, dict[str, Any]]], list[dict[str, Any]], Path]:
        spec = ZOO[key]
        published = releases()[key]
        snapshot = tmp_path / "snapshot"
        snapshot.mkdir()
        for record in published.needed():
            (snapshot / record.name).write_bytes(f"{key} {record.name}".encode())
        files = tuple(
            verify.FileRecord(
                f.name, verify.sha256_file(snapshot / f.name), (snapshot / f.name).stat().st_size
            )
            for f in published.needed()
        )
        fake = dataclasses.replace(published, files=files)
        monkeypatch.setattr(verify, "releases", lambda: {**releases(), key: fake})
        downloads: list[dict[str, Any]] = []

        def snapshot_download(repo_id: str, **kwargs: Any) -> str:
            downloads.append({"repo_id": repo_id, **kwargs})
            return str(snapshot)

        monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
        loads: list[tuple[str, dict[str, Any]]] = []

        class Loader:
            @classmethod
            def from_pretrained(cls, source: str, **kwargs: Any) -> str:
                loads.append((source, kwargs))
                return "model"

        module, name = PACKAGE_LOADERS[key]
        for part in [module.rpartition(".")[0], module]:
            if part:
                fake_module = types.ModuleType(part)
                fake_module.__spec__ = importlib.machinery.ModuleSpec(part, None)
                monkeypatch.setitem(sys.modules, part, fake_module)
        setattr(sys.modules[module], name, Loader)
        assert spec.revision == published.revision
        return loads, downloads, snapshot

    return make


@pytest.mark.parametrize("key", PACKAGE_KEYS)
def test_package_models_load_the_verified_snapshot_at_their_pin(key: str, fake_package: Any) -> None:
    """Was: no commit in the zoo entry, so the package loader fetched whatever main is (3 of 34 unpinned)."""
    from geneb_bench.models.packages import load_pinned

    row = {r["geneb_key"]: r for r in _packaged("model_revisions.csv")}[key]
    assert (ZOO[key].source, ZOO[key].revision) == (row["hub_id"], row["commit"])
    loads, downloads, snapshot = fake_package(key)
    assert load_pinned(key, torch_dtype="bfloat16") == "model"
    needed = [f.name for f in releases()[key].needed()]
    assert downloads == [{"repo_id": row["hub_id"], "revision": row["commit"], "allow_patterns": needed}]
    assert loads == [(str(snapshot), {"torch_dtype": "bfloat16"})], "the checked folder is what is loaded"


def test_an_altered_package_snapshot_is_refused_before_loading(fake_package: Any) -> None:
    from geneb_bench.models.base import ModelUnavailable
    from geneb_bench.models.packages import load_pinned

    loads, _, snapshot = fake_package("enformer-official-rough")
    (snapshot / "pytorch_model.bin").write_bytes(b"other weights")
    with pytest.raises(ModelUnavailable, match=r"pytorch_model\.bin differs from the published checkpoint"):
        load_pinned("enformer-official-rough")
    assert loads == []


def test_without_a_snapshot_the_pin_goes_to_the_package_loader(
    fake_package: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from geneb_bench.models import loading
    from geneb_bench.models.packages import load_pinned

    loads, _, _ = fake_package("BioFM-265M")
    monkeypatch.setattr(loading, "verified_source", lambda spec: spec.source)
    load_pinned("BioFM-265M")
    assert loads == [("m42-health/BioFM-265M", {"revision": "52218bbdd383c123f6ced585c9cf2f62ae1fbb17"})]


def test_a_missing_package_is_a_skip_naming_the_install() -> None:
    import importlib.util

    from geneb_bench.models.base import ModelUnavailable
    from geneb_bench.models.packages import load_pinned

    if importlib.util.find_spec("enformer_pytorch") is not None:
        pytest.skip("enformer-pytorch is installed here")

    with pytest.raises(
        ModelUnavailable, match=r"enformer_pytorch not installed\. Fix: pip install enformer-pytorch"
    ):
        load_pinned("enformer-official-rough")
