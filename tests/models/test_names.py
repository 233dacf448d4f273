"""``[name=...]``: a model's slot (tables, gate, figures, submission), kept out of its identity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geneb_bench.models.registry import resolve_model, resolve_models


def _checkpoint(folder: Path, weights: bytes = b"w1") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (folder / "model.safetensors").write_bytes(weights)
    return folder


def test_a_name_is_the_slot_and_not_part_of_the_identity() -> None:
    named = resolve_model("kmer-3[name=my-kmer]")
    plain = resolve_model("kmer-3")
    assert (named.slot, named.key) == ("my-kmer", "kmer-3")
    assert named.identity() == plain.identity()  # renaming never recomputes
    assert plain.slot == "kmer-3"
    assert resolve_model("kmer-3[name=007]").slot == "007"  # as typed, not parsed as a number


def test_a_local_checkpoint_is_named_after_its_folder_and_keeps_its_content_hash(tmp_path: Path) -> None:
    folder = _checkpoint(tmp_path / "mymodels" / "my-dna-bert")
    before = resolve_model(str(folder))
    assert before.slot == "my-dna-bert"
    assert before.key.startswith("mymodels__my-dna-bert-")  # the content hash stays in the identity
    _checkpoint(folder, b"retrained")  # same folder, new weights
    after = resolve_model(str(folder))
    assert after.slot == before.slot  # the same slot: the release gate finds its baseline
    assert after.identity() != before.identity()
    assert resolve_model(f"{folder}[name=mine]").slot == "mine"
    assert resolve_model(f"{folder}[layer=1]").slot == "my-dna-bert+layer-1"


def test_a_zoo_key_with_a_local_path_is_named_after_the_folder(tmp_path: Path) -> None:
    folder = _checkpoint(tmp_path / "dnabert2-ft")
    spec = resolve_model(f"GROVER[path={folder}]")
    assert spec.slot == "dnabert2-ft"
    assert spec.key.startswith("GROVER+local-")


def test_a_folder_named_like_a_registry_model_is_not_passed_off_as_it(tmp_path: Path) -> None:
    assert resolve_model(str(_checkpoint(tmp_path / "GROVER"))).slot == "GROVER+local"
    with pytest.raises(ValueError, match="is the key of the registry model 'GROVER'"):
        resolve_model(f"{_checkpoint(tmp_path / 'x')}[name=GROVER]")


@pytest.mark.parametrize("bad", ["", "a@b", "tab\there"])
def test_a_bad_name_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="is not a name"):
        resolve_model(f"kmer-3[name={bad}]")


def test_two_models_under_one_name_in_one_run_are_refused() -> None:
    with pytest.raises(ValueError, match="two models under the name 'same'"):
        resolve_models(["kmer-3[name=same]", "kmer-4[name=same]"])


def test_two_local_folders_with_one_name_take_their_parent_folders(tmp_path: Path) -> None:
    first, second = _checkpoint(tmp_path / "run1" / "model"), _checkpoint(tmp_path / "run2" / "model", b"w2")
    assert [s.slot for s in resolve_models([str(first), str(second)])] == ["run1__model", "run2__model"]
    assert [s.slot for s in resolve_models([str(first), f"{second}[name=b]"])] == ["model", "b"]
