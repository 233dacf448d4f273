"""Verified checkpoints: missing or altered files refuse the model; verified files are not hashed again."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from geneb_bench.models import verify
from geneb_bench.models.base import ModelUnavailable
from geneb_bench.models.registry import build_embedder, resolve_model
from geneb_bench.models.zoo import geneb_models


def _release(
    folder: Path, key: str = "deepgene", provider: str = "google-drive", revision: str = ""
) -> verify.Release:
    files = tuple(
        verify.FileRecord(p.name, verify.sha256_file(p), p.stat().st_size)
        for p in sorted(folder.iterdir())
        if p.is_file()
    )
    return verify.Release(
        key, provider, "org/model" if revision else "https://example.org/r", revision, files
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "ckpt"
    out.mkdir()
    (out / "config.json").write_text('{"model_type": "bert"}', encoding="utf-8")
    (out / "pytorch_model.bin").write_bytes(os.urandom(4096))
    return out


def test_matching_folder_passes_and_is_stamped(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = _release(folder)
    stamp = tmp_path / "stamps.json"
    verify.verify_folder(release, folder, verify.Stamps(stamp))
    assert stamp.is_file()

    def no_hashing(path: Path) -> str:
        raise AssertionError(f"{path} hashed again")

    monkeypatch.setattr(verify, "sha256_file", no_hashing)
    verify.verify_folder(release, folder, verify.Stamps(stamp))  # from the stamp: no hashing
    weights = folder / "pytorch_model.bin"
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 1))
    with pytest.raises(AssertionError, match="hashed again"):  # a touched file is hashed again
        verify.verify_folder(release, folder, verify.Stamps(stamp))


def test_tampered_weight_is_refused_naming_file_and_both_hashes(folder: Path, tmp_path: Path) -> None:
    release = _release(folder)
    expected = next(f.sha256 for f in release.files if f.name == "pytorch_model.bin")
    stamps = verify.Stamps(tmp_path / "stamps.json")
    verify.verify_folder(release, folder, stamps)
    data = bytearray((folder / "pytorch_model.bin").read_bytes())
    data[100] ^= 0xFF
    (folder / "pytorch_model.bin").write_bytes(bytes(data))
    actual = verify.sha256_file(folder / "pytorch_model.bin")
    with pytest.raises(ModelUnavailable, match=r"pytorch_model\.bin differs") as info:
        verify.verify_folder(release, folder, verify.Stamps(tmp_path / "stamps.json"))
    assert expected in str(info.value)
    assert actual in str(info.value)


def test_missing_file_is_refused(folder: Path, tmp_path: Path) -> None:
    release = _release(folder)
    (folder / "config.json").unlink()
    with pytest.raises(ModelUnavailable, match=r"file config.json is missing \(expected sha256 [0-9a-f]{64}"):
        verify.verify_folder(release, folder, verify.Stamps(None))


def test_local_weights_model_is_refused_through_the_harness(
    stand_in: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hf_offline: None
) -> None:
    """deepgene[path=...]: the user's folder is checked against the release before it loads."""
    import shutil

    folder = tmp_path / "deepgene"
    shutil.copytree(stand_in("fixture-mask"), folder)
    release = _release(folder)
    monkeypatch.setattr(verify, "releases", lambda: {"deepgene": release})
    weights = next(folder.glob("*.safetensors"))
    weights.write_bytes(weights.read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(ModelUnavailable, match=f"{weights.name} differs from the published checkpoint"):
        build_embedder(resolve_model(f"deepgene[path={folder}]"), "cpu")


def test_every_release_lists_what_a_load_needs() -> None:
    for spec in geneb_models():
        release = verify.releases()[spec.key]
        needed = {f.name for f in release.needed()}
        assert needed, spec.key
        if spec.weights == "hub":
            assert "config.json" in needed, spec.key
            assert not any(n.endswith(".md") or n.startswith("jax_model/") for n in needed)


def test_hub_snapshot_is_verified_then_loaded_from(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A zoo model at its published commit: snapshot of the needed files, checked, loaded from there."""
    from geneb_bench.models.loading import verified_source

    spec = next(s for s in geneb_models() if s.key == "GROVER")
    release = _release(folder, "GROVER", "huggingface", str(spec.revision))
    release = dataclasses.replace(release, source=str(spec.source))
    monkeypatch.setattr(verify, "releases", lambda: {"GROVER": release})
    calls = []

    def snapshot_download(repo: str, revision: str, allow_patterns: list[str]) -> str:
        calls.append((repo, revision, sorted(allow_patterns)))
        return str(folder)

    monkeypatch.setattr("huggingface_hub.snapshot_download", snapshot_download)
    assert verified_source(spec) == str(folder)
    assert calls == [(spec.source, spec.revision, ["config.json", "pytorch_model.bin"])]
    (folder / "pytorch_model.bin").write_bytes(b"other weights")
    with pytest.raises(ModelUnavailable, match="differs"):
        verified_source(spec)
