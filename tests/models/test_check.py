"""``geneb models --check``: one line per model saying what a run here would do, with its pinned revision."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from geneb_bench.cli import main
from geneb_bench.models import check
from geneb_bench.models.registry import resolve_model
from geneb_bench.models.zoo import geneb_models


def _no_network(*args: object, **kwargs: object) -> None:
    raise AssertionError("the hub was probed although HF_HUB_OFFLINE is set")


def test_offline_check_pins_every_hub_model_and_names_each_skip(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("requests.head", _no_network)
    monkeypatch.setattr(check, "_hub_cached", lambda repo, revision: False)
    assert main(["models", "--check", "--json"]) == 0
    rows = {r["key"]: r for r in json.loads(capsys.readouterr().out)}
    hub = [s for s in geneb_models() if s.weights == "hub"]
    assert len(hub) == 31
    for spec in hub:
        assert re.fullmatch(r"[0-9a-f]{40}", rows[spec.key]["revision"]), spec.key
    assert not any("unpinned" in r["why"] for r in rows.values())
    for row in rows.values():
        assert row["verdict"] in ("runs", "skips")
        if row["verdict"] == "skips":
            assert re.match(
                r"(package missing|weights not local|offline \(HF_HUB_OFFLINE\) and not cached|no GPU|"
                r"served by its own)",
                row["why"],
            )
    assert rows["kmer-3"]["verdict"] == "runs"
    assert rows["DNABERT-S"]["why"] == "offline (HF_HUB_OFFLINE) and not cached"
    assert rows["deepgene"]["why"].startswith("weights not local")


def test_reasons(monkeypatch: pytest.MonkeyPatch) -> None:
    def never() -> bool:
        return False

    def always() -> bool:
        return True

    spec = next(s for s in geneb_models() if s.key == "GROVER")
    monkeypatch.setattr(check, "_hub_cached", lambda repo, revision: False)
    monkeypatch.setattr(check, "offline", lambda: False)
    assert check.availability(spec, always, never).verdict == "runs"
    assert check.availability(spec, never, never).why == "hub unreachable and not in the hub cache"
    monkeypatch.setattr(check, "offline", lambda: True)
    assert check.availability(spec, always, never).why == "offline (HF_HUB_OFFLINE) and not cached"
    monkeypatch.setattr(check, "_hub_cached", lambda repo, revision: True)
    assert check.availability(spec, never, never).verdict == "runs"
    assert "(files verified at first use)" in check.availability(spec, never, never).why
    other = resolve_model("GROVER@main")
    assert "files not verified" in check.availability(other, never, never).why, "no pinned hashes claimed"
    assert "not verified" in check.availability(resolve_model("someorg/dna-model"), never, never).why
    gpu_only = dataclasses.replace(
        spec, requires=("json",)
    )  # an importable module standing for a GPU package
    monkeypatch.setattr(check, "GPU_PACKAGES", frozenset({"json"}))
    assert check.availability(gpu_only, always, never).why.startswith("no GPU")
    broken = dataclasses.replace(spec, requires=("geneb_no_such_module",))
    assert "geneb_no_such_module not installed" in check.availability(broken, always, always).why
    branch = resolve_model("hyenadna-medium-160k-seqlen-hf[revision=main]")
    assert check.availability(branch, always, always).why.startswith("unpinned remote code")


def test_broken_install_is_named_with_its_cause(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    """A package that is present but fails to import (a CPU-only build) is a skip with the real cause."""
    from pathlib import Path

    from geneb_bench.models.loading import CUDA_EXTENSIONS, import_problem

    root = Path(str(tmp_path))
    (root / "fake_mamba").mkdir()
    (root / "fake_mamba" / "__init__.py").write_text("", encoding="utf-8")
    (root / "fake_broken.py").write_text(
        "raise ImportError('libcudart.so.12: cannot open')\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setitem(CUDA_EXTENSIONS, "fake_mamba", "fake_selective_scan_cuda")
    assert import_problem("fake_mamba") == "fake_selective_scan_cuda missing: fake_mamba needs a CUDA build"
    assert "libcudart.so.12" in str(import_problem("fake_broken"))
    assert import_problem("json") is None
