"""Loading policy: the dtype computed is the dtype recorded, the checkpoint's own token limit wins, and
tokenizer clashes or vocabularies larger than the embedding table are skips naming the fix."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from geneb_bench.models.base import ModelUnavailable
from geneb_bench.models.hf import HFEmbedder
from geneb_bench.models.loading import effective_dtype, typed_name
from geneb_bench.models.random_init import build_random_model, char_tokenizer
from geneb_bench.models.recipe import validate_recipe
from geneb_bench.models.registry import build_embedder, resolve_model

HYENA_KEY = "hyenadna-medium-160k-seqlen-hf"  # recipe: bfloat16, max_tokens 160000, remote code


def saved_bert(folder: Path, **tokenizer_edits: Any) -> Path:
    build_random_model(
        {"arch": "bert", "hidden_size": 32, "num_layers": 1, "num_heads": 2, "seed": 3}
    ).save_pretrained(folder)
    char_tokenizer(256).save_pretrained(folder)
    if tokenizer_edits:
        config = json.loads((folder / "tokenizer_config.json").read_text())
        (folder / "tokenizer_config.json").write_text(json.dumps({**config, **tokenizer_edits}))
    return folder


def test_bf16_recipe_on_cpu_computes_and_records_float32(hyena_folder: Path, hf_offline: None) -> None:
    import torch
    import transformers

    spec = resolve_model(f"{HYENA_KEY}[path={hyena_folder}]")
    assert spec.options["dtype"] == "bfloat16"
    assert effective_dtype(str(spec.options["dtype"]), "cpu") == "float32"  # what the cache key records
    embedder = build_embedder(spec, "cpu")
    assert isinstance(embedder, HFEmbedder)
    assert {p.dtype for p in embedder.model.parameters()} == {torch.float32}
    sequences = ["ACGTTGCA" * 30, "GATTACA" * 11]
    got = embedder.embed(sequences)

    reference = transformers.AutoModel.from_pretrained(
        str(hyena_folder), trust_remote_code=True, dtype=torch.float32
    )
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(hyena_folder), trust_remote_code=True)
    expected = HFEmbedder(reference, tokenizer, recipe=validate_recipe({**spec.options, "dtype": "float32"}))
    np.testing.assert_allclose(got, expected.embed(sequences), rtol=1e-5, atol=1e-6)

    bf16 = transformers.AutoModel.from_pretrained(
        str(hyena_folder), trust_remote_code=True, dtype=torch.bfloat16
    )
    half = HFEmbedder(bf16, tokenizer, recipe=validate_recipe(dict(spec.options))).embed(sequences)
    assert np.abs(half - got).max() > 1e-3, "the test can tell bfloat16 from float32"


def test_checkpoint_limit_wins_over_a_longer_recipe(hyena_folder: Path, hf_offline: None) -> None:
    spec = resolve_model(f"{HYENA_KEY}[path={hyena_folder}]")
    assert spec.options["max_tokens"] == 160_000
    embedder = build_embedder(spec, "cpu")
    assert isinstance(embedder, HFEmbedder)
    assert (embedder.max_tokens, embedder.limit_source) == (1026, "config max_seq_len")
    vectors = embedder.embed(["ACGT" * 1000, "ACGTAC" * 20])  # 4,000 bases: over the 1k checkpoint's table
    assert vectors.shape[0] == 2
    assert np.isfinite(vectors).all()
    assert embedder.last_stats is not None
    assert embedder.last_stats.truncated == 1
    assert 0.2 < embedder.last_stats.mean_kept < 0.3  # ~1,024 of 4,000 bases


def test_local_variant_of_a_zoo_entry_is_not_the_official_key(hyena_folder: Path) -> None:
    spec = resolve_model(f"{HYENA_KEY}[path={hyena_folder}]")
    assert spec.key.startswith(f"{HYENA_KEY}+local-")
    assert spec.key != HYENA_KEY
    assert spec.weights == "local-dir"


def test_tokenizer_class_clash_is_a_skip_naming_the_fix(tmp_path: Path, hf_offline: None) -> None:
    folder = saved_bert(tmp_path / "clash", tokenizer_class="CharacterTokenizer")
    (folder / "tokenizer.json").unlink()  # only the class name is left: transformers' Japanese one answers
    with pytest.raises(ModelUnavailable) as caught:
        build_embedder(resolve_model(str(folder)), "cpu")
    message = str(caught.value)
    assert "tokenizer class CharacterTokenizer resolved to a different class" in message
    assert '"AutoTokenizer"' in message
    assert f"'{folder.resolve()}[trust_remote_code=true]'" in message


def test_vocabulary_larger_than_the_embedding_table_is_a_skip(tmp_path: Path, hf_offline: None) -> None:
    folder = saved_bert(tmp_path / "overflow")
    config = json.loads((folder / "config.json").read_text())
    vocab = json.loads((folder / "tokenizer.json").read_text())
    vocab["added_tokens"].append(
        {
            "id": 12,
            "content": "[EXTRA]",
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "special": True,
        }
    )
    (folder / "tokenizer.json").write_text(json.dumps(vocab))
    tok_config = json.loads((folder / "tokenizer_config.json").read_text())
    tok_config["additional_special_tokens"] = ["[EXTRA]"]
    (folder / "tokenizer_config.json").write_text(json.dumps(tok_config))
    with pytest.raises(
        ModelUnavailable,
        match=rf"ids up to 1\d but the model's embedding table has "
        rf"{config['vocab_size']} rows",
    ):
        build_embedder(resolve_model(str(folder)), "cpu")


def test_missing_tokenizer_files_are_a_skip(tmp_path: Path, hf_offline: None) -> None:
    folder = tmp_path / "weights-only"
    build_random_model({"arch": "bert", "hidden_size": 32, "num_layers": 1, "num_heads": 2}).save_pretrained(
        folder
    )
    with pytest.raises(ModelUnavailable, match="no tokenizer files"):
        build_embedder(resolve_model(str(folder)), "cpu")


def test_remote_code_hint_names_what_the_user_typed(tmp_path: Path) -> None:
    folder = saved_bert(tmp_path / "model")
    local = resolve_model(str(folder))
    assert typed_name(local, "trust_remote_code=true") == f"'{folder.resolve()}[trust_remote_code=true]'"
    resolve_model(f"{folder.resolve()}[trust_remote_code=true]")  # the suggested form is accepted
    hub = resolve_model("someorg/dna-model")
    assert typed_name(hub, "trust_remote_code=true").startswith("'someorg/dna-model@")
    variant = resolve_model(f"{HYENA_KEY}[path={folder}]")
    hint = typed_name(variant, "trust_remote_code=true")
    assert hint == f"'{HYENA_KEY}[path={folder.resolve()},trust_remote_code=true]'"
    assert resolve_model(hint.strip("'")).source == str(folder.resolve())


def test_unpinned_hub_id_hint_keeps_the_hub_id() -> None:
    from geneb_bench.models.loading import check_loadable

    with pytest.raises(ModelUnavailable) as caught:
        check_loadable(resolve_model("someorg/dna-model[trust_remote_code=true]"))
    hint = "'someorg/dna-model@<40-hex commit you reviewed>[trust_remote_code=true]'"
    assert hint in str(caught.value)
    resolve_model(hint.strip("'").replace("<40-hex commit you reviewed>", "0" * 40))  # the form is accepted


def test_local_identity_hashes_content_not_mtimes(tmp_path: Path) -> None:
    import os

    a = saved_bert(tmp_path / "a" / "model")
    b = tmp_path / "b" / "model"
    shutil.copytree(a, b)
    os.utime(b / "config.json", (1, 1))
    spec_a, spec_b = resolve_model(str(a)), resolve_model(str(b))
    assert spec_a.revision == spec_b.revision, "a copy is the same checkpoint"
    assert spec_a.key != spec_b.key
    assert spec_a.key.startswith("a__model-")
    assert spec_b.key.startswith("b__model-")
    weights = b / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1  # one bit of the weights
    weights.write_bytes(bytes(data))
    assert resolve_model(str(b)).revision != spec_a.revision


@pytest.mark.parametrize("typed", ["PoetschLab/GROVER", "GROVER@main", "geneb-test-org/not-cached@v1"])
def test_offline_and_not_cached_is_a_skip_saying_so(
    typed: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hf_offline: None
) -> None:
    """Said before transformers or snapshot_download try (and retry) anything, with how to get it."""
    import huggingface_hub.constants

    from geneb_bench.models.loading import load_pretrained

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the hub was asked although offline and not cached")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", forbidden)
    spec = resolve_model(typed)
    with pytest.raises(ModelUnavailable, match=r"offline \(HF_HUB_OFFLINE\) and not cached") as info:
        load_pretrained(spec, "cpu")
    message = str(info.value)
    assert f"{spec.source}@{spec.revision}" in message
    assert f"huggingface-cli download {spec.source} --revision {spec.revision}" in message


def test_another_revision_is_not_checked_against_the_published_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """model_files.csv lists the published commit's files: another commit loads as given, never compared
    with (and never refused for) hashes that are not its own."""
    import huggingface_hub

    from geneb_bench.models import verify
    from geneb_bench.models.loading import verified_source

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("fetched and verified against the published commit's file list")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", forbidden)
    monkeypatch.setattr(verify, "verify_folder", forbidden)
    other = resolve_model("PoetschLab/GROVER@" + "a" * 40)
    assert verify.release_for(other.key, other.source, other.revision) is not None, "GROVER has a file list"
    assert verified_source(other) == "PoetschLab/GROVER"
    with pytest.raises(ModelUnavailable, match="fetched and verified"):
        verified_source(resolve_model("PoetschLab/GROVER"))  # the published commit is fetched and verified
