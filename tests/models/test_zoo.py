"""The 40 GENEB models: registry invariants, and every entry's recipe run on a tiny stand-in of its family.

A stand-in keeps the entry's recipe (auto class, dtype, token limit, pre-processing, where the states come
from, mask, pooling, fixes) and swaps only the weights source for a tiny local checkpoint of the same class.
Entries without a stand-in (weights not on the hub, or served by their own package) are skipped with the
reason their loader gives.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict, cast

import numpy as np
import pytest
import torch
import transformers

from geneb_bench.models.base import ModelSpec, ModelUnavailable
from geneb_bench.models.hf import HFEmbedder
from geneb_bench.models.loading import load_pretrained
from geneb_bench.models.recipe import describe_recipe
from geneb_bench.models.registry import build_embedder, list_models, resolve_model
from geneb_bench.models.zoo import geneb_models

LEADERBOARD = Path(__file__).resolve().parents[3] / "shared" / "reference" / "geneb_leaderboard_mcc.csv"
ZOO = {spec.key: spec for spec in geneb_models()}


class _Tol(TypedDict):
    rtol: float
    atol: float


def _official_keys() -> set[str]:
    if LEADERBOARD.is_file():
        with LEADERBOARD.open() as f:
            return {r["leaderboard_key"] for r in csv.DictReader(f) if r["provenance"] == "official"}
    from geneb_bench.reports.published import _published_models  # the packaged copy of the same table

    return set(_published_models().index)


def test_forty_entries_with_the_leaderboard_keys() -> None:
    keys = [s.key for s in geneb_models()]
    assert len(keys) == 40
    assert len(set(keys)) == 40
    assert set(keys) == _official_keys()
    assert [s.rank for s in geneb_models()] == list(range(1, 41))
    registry = {s.key for s in list_models()}
    assert set(keys) <= registry
    for spec in geneb_models():
        assert spec.group == "geneb"
        assert spec.params
        assert spec.params > 0
        assert all((spec.architecture, spec.tokenization, spec.pretraining_data))
        if spec.weights == "hub":
            assert spec.revision is not None
            assert re.fullmatch(r"[0-9a-f]{40}", spec.revision), (
                "every hub entry is pinned (tests/models/test_pins.py)"
            )
            assert "/" in str(spec.source)
        elif spec.weights == "package":  # the weights their package loads, pinned too (models.packages)
            assert re.fullmatch(r"[0-9a-f]{40}", str(spec.revision))
            assert "/" in str(spec.source)
        else:
            assert spec.source is None
        assert describe_recipe(spec).startswith(spec.key)


def test_recipes_match_the_authors_table() -> None:
    """Spot checks against shared/reference/geneb_models.csv (the exceptions the protocol names)."""
    opt = {k: s.options for k, s in ZOO.items()}
    assert opt["DNABERT-S"]["pooling"] == "cls"
    assert opt["genomics-fm"]["pooling"] == "cls"
    for key in (
        "hyenadna-large-1m-seqlen-hf",
        "hyenadna-medium-160k-seqlen-hf",
        "METAGENE-1",
        "evo-1-131k-base",
    ):
        assert opt[key]["pooling"] == "mean_unmasked", key
    assert opt["Omni-DNA-1B"]["max_tokens"] == 250
    assert opt["GenomeOcean-4B"]["max_tokens"] == 1024
    assert opt["gena-lm-bert-base"]["max_tokens"] == 512
    assert opt["gena-lm-bert-base"]["submodule"] == "bert"
    assert opt["hyenadna-large-1m-seqlen-hf"]["max_tokens"] == 160_000
    assert opt["nucleotide-transformer-v2-50m-multi-species"]["auto_class"] == "AutoModelForMaskedLM"
    assert opt["dnabert2-no-flashattention"]["fix"] == "dnabert2"
    assert opt["GENERator-eukaryote-3b-base"]["multiple_of"] == 6
    assert opt["MutBERT"]["input_mode"] == "one_hot"
    assert opt["caduceus-ps_seqlen-131k_d_model-256_n_layer-16"]["rc_pooling"] is True
    assert opt["caduceus-ph_seqlen-1k_d_model-256_n_layer-4_lr-8e-3"]["rc_pooling"] is False
    for key in ("hyenadna-large-1m-seqlen-hf", "GenomeOcean-500M", "METAGENE-1"):
        assert opt[key]["dtype"] == "bfloat16", key
    for key, spec in ZOO.items():
        if spec.family == "hf" and "mamba" in spec.architecture.lower():
            assert "mamba_ssm" in spec.requires, key
    assert ZOO["evo-1-131k-base"].requires == ("einops", "flash_attn")
    for key in ("DNABERT-S", "dnabert2-no-flashattention"):  # their real bert_layers.py imports einops
        assert "einops" in ZOO[key].requires, key
    assert {k for k, s in ZOO.items() if s.weights == "local"} == {
        "dna_gpt3b_m",
        "dna_gpt0.1b_h",
        "genomics-fm",
        "deepgene",
        "JanusDNA_72_w",
        "JanusDNA_72_wo",
    }


# ---- every entry on its stand-in ----------------------------------------------------------------------

_RESULTS: dict[tuple[str, str], None] = {}


def _sequences() -> list[str]:
    rng = random.Random(5)
    lengths = [7, 30, 61, 12, 90, 30, 45]
    return [
        "".join(rng.choice("ACGTN" if i == 3 else "ACGT") for _ in range(n)) for i, n in enumerate(lengths)
    ]


def _direct(folder: Path, recipe: dict[str, Any], seq: str, limit: int | None) -> np.ndarray:
    """The recipe computed by hand for one sequence (no padding, no batching): the reference."""
    text = seq
    k = recipe["multiple_of"]
    if k and len(text) % k:
        text = (
            text[: len(text) - len(text) % k]
            if recipe["multiple_mode"] == "trim"
            else text + "N" * (k - len(text) % k)
        )
    text = recipe["prefix"] + text.upper()
    tok = transformers.AutoTokenizer.from_pretrained(folder)
    ids = tok(
        text, truncation=limit is not None, max_length=limit, add_special_tokens=recipe["add_special_tokens"]
    )
    input_ids = torch.tensor([ids["input_ids"]])
    model = (
        getattr(transformers, recipe["auto_class"])
        .from_pretrained(folder, trust_remote_code=True, dtype=getattr(torch, recipe["dtype"]))
        .eval()
    )
    if recipe["submodule"] and hasattr(model, recipe["submodule"]):
        model = getattr(model, recipe["submodule"])
    inputs: Any = input_ids
    if recipe["input_mode"] == "one_hot":
        inputs = torch.nn.functional.one_hot(input_ids, model.config.vocab_size).to(model.dtype)
    kwargs: dict[str, Any] = {"input_ids": inputs}
    if recipe["accepts_mask"] is True:
        kwargs["attention_mask"] = torch.ones_like(input_ids)
    with torch.no_grad():
        if recipe["states"] == "hidden_states":
            states = model(**kwargs, output_hidden_states=True).hidden_states[recipe["layer"]]
        else:
            out = model(**kwargs)
            states = out[0] if recipe["states"] == "tuple0" else out.last_hidden_state
    states = states[0].float()
    vec = (
        states[0]
        if recipe["pooling"] == "cls"
        else states[-1]
        if recipe["pooling"] == "last"
        else states.mean(0)
    )
    if recipe["rc_pooling"]:
        d = vec.shape[0] // 2
        vec = (vec[:d] + vec[d:].flip(0)) / 2
    return cast(np.ndarray, vec.numpy())


def _check_recipe(spec: ModelSpec, folder: Path) -> None:
    # the stand-in's remote code is the test's own, not the pinned bytes: allowed explicitly
    stand_in = dataclasses.replace(
        spec, source=str(folder), requires=(), weights="local-dir", remote_code_opt_in="test stand-in"
    )
    emb = build_embedder(stand_in, "cpu")
    assert isinstance(emb, HFEmbedder)
    assert not emb.model.training
    recipe = emb.recipe
    bf16 = recipe["dtype"] != "float32"
    tol: _Tol = {"rtol": 5e-2, "atol": 5e-2} if bf16 else {"rtol": 1e-4, "atol": 1e-5}
    seqs = _sequences()

    emb.token_budget = 10**9
    batched = emb.embed(seqs)
    assert batched.dtype == np.float32
    assert np.isfinite(batched).all()
    emb.token_budget = 100
    small = emb.embed(seqs)
    singles = np.stack([emb.embed([s])[0] for s in seqs])
    np.testing.assert_allclose(batched, singles, **tol)  # padding excluded: batch composition is irrelevant
    np.testing.assert_allclose(small, singles, **tol)
    np.testing.assert_array_equal(emb.embed(seqs), small)  # deterministic
    np.testing.assert_array_equal(emb.embed([s.lower() for s in seqs]), small)  # the recipe upper-cases
    assert not np.allclose(singles[0], singles[1]), "different sequences give different vectors"

    limit = emb.max_tokens
    assert limit is not None
    for seq, got in zip(seqs[:3], singles[:3], strict=True):
        np.testing.assert_allclose(got, _direct(folder, recipe, seq, limit), **tol)
    if limit <= 2000:
        long = "ACGTTGCA" * (limit + 20)  # more tokens than the limit in every tokenizer here
        assert len(emb.encode([long])[0]) == limit, "over-long input is truncated to the recipe's limit"
        vec = emb.embed([long])
        np.testing.assert_allclose(vec[0], _direct(folder, recipe, long, limit), **tol)
    else:  # 160k-token recipes: the stand-in has 2,048 positions; check the truncation length only
        long = "ACGT" * (limit // 4 + 10)
        assert len(emb.encode([long])[0]) == limit
    emb.close()


@pytest.mark.parametrize("key", list(ZOO))
def test_entry_recipe_on_stand_in(key: str, stand_in: Callable[[str], Path], hf_offline: None) -> None:
    spec = ZOO[key]
    if not spec.stand_in:
        with pytest.raises(ModelUnavailable) as info:
            build_embedder(spec, "cpu")
        pytest.skip(f"no offline stand-in: {info.value}")
    memo = (
        spec.stand_in,
        json.dumps({k: v for k, v in spec.options.items() if k != "trust_remote_code"}, sort_keys=True),
    )
    if memo not in _RESULTS:  # entries that share a recipe and a stand-in are checked once
        _check_recipe(spec, stand_in(spec.stand_in))
        _RESULTS[memo] = None


# ---- what cannot run here is a skip with the reason and the fix --------------------------------------


def test_missing_cuda_packages_are_a_clean_skip() -> None:
    for key in (
        "caduceus-ps_seqlen-131k_d_model-256_n_layer-16",
        "PlantCaduceus_l32",
        "eccdnamamba_weights",
        "evo-1-131k-base",
    ):
        spec = ZOO[key]
        pkg = spec.requires[0]
        try:
            __import__(pkg)
        except ImportError:
            pass
        else:  # pragma: no cover - a CUDA machine with the package
            continue
        with pytest.raises(ModelUnavailable, match=f"{pkg} not installed") as info:
            build_embedder(spec, "cpu")
        assert "pip install" in str(info.value)


@pytest.mark.parametrize("key", ["dna_gpt3b_m", "genomics-fm", "deepgene", "JanusDNA_72_w"])
def test_local_path_required(key: str) -> None:
    with pytest.raises(ModelUnavailable, match="local path required") as info:
        build_embedder(ZOO[key], "cpu")
    assert f"{key}[path=" in str(info.value)


@pytest.mark.parametrize("key", ["space", "enformer-official-rough", "BioFM-265M"])
def test_package_models_skip_with_the_way_to_run_them(key: str) -> None:
    with pytest.raises(ModelUnavailable, match="python:module:function"):
        build_embedder(ZOO[key], "cpu")


def test_local_weights_through_path_override(
    stand_in: Callable[[str], Path], hf_offline: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model whose weights are not on the hub runs from a folder the user names (once its files are the
    published ones: here the published list is replaced by the stand-in's own files)."""
    from geneb_bench.models import verify

    folder = stand_in("fixture-mask")
    files = tuple(
        verify.FileRecord(p.name, verify.sha256_file(p), p.stat().st_size)
        for p in sorted(folder.iterdir())
        if p.is_file()
    )
    release = verify.Release("deepgene", "google-drive", "https://example.org/release", "", files)
    monkeypatch.setattr(verify, "releases", lambda: {"deepgene": release})
    spec = resolve_model(f"deepgene[path={folder}]")
    assert spec.key.startswith("deepgene+local-"), "a local variant, never the official model's key"
    assert spec.source == str(folder.resolve())
    assert spec.revision is not None
    assert spec.revision.startswith("local-")
    emb = build_embedder(spec, "cpu")
    assert emb.embed(["ACGT", "ACGTACGT"]).shape == (2, 32)
    emb.close()


def test_remote_code_needs_a_pinned_commit_on_the_hub() -> None:
    from geneb_bench.models.loading import check_loadable

    check_loadable(ZOO["hyenadna-medium-160k-seqlen-hf"])  # pinned zoo entry: runs its remote code, no flag
    branch = resolve_model("hyenadna-medium-160k-seqlen-hf[revision=main]")
    with pytest.raises(ModelUnavailable, match="refused to run remote code") as info:
        load_pretrained(branch, "cpu")
    assert "--geneb-trust-remote-code" in str(info.value)
    assert "revision=<40-hex" in str(info.value)
    user_opt_in = resolve_model("someorg/dna-model@v1.0[trust_remote_code=true]")
    assert user_opt_in.options["trust_remote_code"] is True
    with pytest.raises(ModelUnavailable, match="refused"):
        load_pretrained(user_opt_in, "cpu")


def test_remote_code_is_off_unless_allowed(stand_in: Callable[[str], Path], hf_offline: None) -> None:
    folder = stand_in("fixture-mask")
    spec = resolve_model(str(folder))
    assert spec.options["trust_remote_code"] is False
    assert "trust_remote_code=true" in spec.description
    with pytest.raises(ModelUnavailable, match=r"trust_remote_code=true"):
        build_embedder(spec, "cpu")
    allowed = resolve_model(f"{folder}[trust_remote_code=true]")
    assert allowed.key == spec.key
    emb = build_embedder(allowed, "cpu")
    assert emb.embed(["ACGT"]).shape == (1, 32)
    emb.close()
