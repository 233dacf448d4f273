"""Parameter counts recorded at run time: loaded module, safetensors headers, registry figure."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from geneb_bench.models.base import ModelSpec
from geneb_bench.models.registry import resolve_model
from geneb_bench.models.size import checkpoint_parameters, module_parameters, parameter_count

SHARED = Path(__file__).resolve().parents[3] / "shared" / "models"


def _folder_with_weights(tmp_path: Path, tensors: dict[str, np.ndarray], shards: int = 1) -> Path:
    from safetensors.numpy import save_file

    folder = tmp_path / "ckpt"
    folder.mkdir()
    names = sorted(tensors)
    if shards == 1:
        save_file(tensors, str(folder / "model.safetensors"))
        return folder
    weight_map: dict[str, str] = {}
    for i in range(shards):
        part = {n: tensors[n] for n in names[i::shards]}
        file = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        save_file(part, str(folder / file))
        weight_map |= dict.fromkeys(part, file)
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    (folder / "stray.safetensors").write_bytes(b"not named by the index: ignored")
    return folder


@pytest.mark.parametrize("shards", [1, 3])
def test_checkpoint_count_is_read_from_the_safetensors_headers(tmp_path: Path, shards: int) -> None:
    tensors: dict[str, np.ndarray] = {
        "a": np.zeros((3, 4), np.float32),
        "b": np.zeros(7, np.float16),
        "c": np.zeros((2, 2, 2), np.int8),
    }
    folder = _folder_with_weights(tmp_path, tensors, shards)
    spec = ModelSpec(key="mine", family="hf", source=str(folder))
    assert checkpoint_parameters(spec) == 12 + 7 + 8
    assert parameter_count(spec) == 27


def test_a_shared_checkpoint_folder_counts_its_tensors(tmp_path: Path) -> None:
    source = SHARED / "hyenadna"
    if not (source / "model.safetensors").is_file():
        pytest.skip(f"{source} not present")
    folder = Path(shutil.copytree(source, tmp_path / "hyenadna"))
    from safetensors.numpy import load_file

    expected = sum(math.prod(t.shape) for t in load_file(str(folder / "model.safetensors")).values())
    assert parameter_count(resolve_model(str(folder))) == expected > 0


def test_a_loaded_model_is_counted_by_numel_when_there_are_no_headers(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    module = torch.nn.Linear(5, 3)  # 15 weights + 3 biases

    class Loaded:
        model = module

    spec = ModelSpec(key="mine", family="hf", source="/nonexistent", params=999)
    assert module_parameters(module) == 18
    assert parameter_count(spec, Loaded()) == 18
    assert parameter_count(spec) == 999, "not loaded (embeddings cached): the registry's figure"
    # with a checkpoint, its headers count, loaded or not: one figure per model whatever the cache held
    folder = _folder_with_weights(tmp_path, {"w": np.zeros((4, 5), np.float32)})
    with_weights = ModelSpec(key="mine", family="hf", source=str(folder))
    assert parameter_count(with_weights, Loaded()) == parameter_count(with_weights) == 20


def test_random_control_counts_what_the_registry_declares() -> None:
    pytest.importorskip("transformers")
    from geneb_bench.models.random_init import build_random_model

    spec = resolve_model("random-bert-tiny")
    assert module_parameters(build_random_model(dict(spec.options))) == spec.params


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (ModelSpec(key="kmer-3", family="kmer", params=0), 0),  # no weights at all
        (ModelSpec(key="x", family="hf", source="org/not-cached-anywhere", params=None), None),
        (ModelSpec(key="x", family="extractor", source="mod:fn"), None),
    ],
)
def test_fallbacks_without_a_loaded_model_or_checkpoint(spec: ModelSpec, expected: int | None) -> None:
    assert parameter_count(spec, object()) == expected


def test_an_unreadable_header_is_an_unknown_count_not_a_failure(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"\x00" * 4)
    assert checkpoint_parameters(ModelSpec(key="bad", family="hf", source=str(folder))) is None


@pytest.mark.parametrize("shards", [1, 2])
def test_a_hub_model_is_counted_from_the_local_hub_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shards: int
) -> None:
    """The hub cache layout (snapshots/<commit>/, refs/main): the headers are read there, nothing downloads."""
    from huggingface_hub import constants

    commit = "0123456789abcdef0123456789abcdef01234567"
    snapshot = tmp_path / "hub" / "models--org--tiny" / "snapshots" / commit
    snapshot.parent.mkdir(parents=True)
    built = _folder_with_weights(tmp_path, {"w": np.zeros((5, 6), np.float32), "b": np.zeros(6)}, shards)
    shutil.move(built, snapshot)
    (tmp_path / "hub" / "models--org--tiny" / "refs").mkdir()
    (tmp_path / "hub" / "models--org--tiny" / "refs" / "main").write_text(commit)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))

    spec = ModelSpec(key="tiny", family="hf", source="org/tiny", revision="main", weights="hub")
    assert checkpoint_parameters(spec) == 36
    assert checkpoint_parameters(ModelSpec(key="t", family="hf", source="org/other", revision="main")) is None
