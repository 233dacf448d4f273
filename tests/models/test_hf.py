"""The Hugging Face embedder: pooling, token-budget batching, random-init controls, local checkpoints."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geneb_bench.embeddings.engine import POOLINGS, pool, token_budget_batches
from geneb_bench.models.base import ModelSpec, ModelUnavailable
from geneb_bench.models.hf import HFEmbedder
from geneb_bench.models.random_init import CHAR_VOCAB, build_random_model, char_tokenizer
from geneb_bench.models.registry import build_embedder, resolve_model

_dna = st.text(alphabet="ACGTN", min_size=5, max_size=120)


@pytest.fixture(scope="module")
def embedders() -> Iterator[dict[str, Any]]:
    built = {
        key: build_embedder(resolve_model(key), "cpu") for key in ("random-bert-tiny", "random-gpt2-tiny")
    }
    yield built
    for emb in built.values():
        emb.close()


# ---- pool --------------------------------------------------------------------------------------------


def _random_batch(
    seed: int, batch: int = 4, tokens: int = 9, dim: int = 6
) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    hidden = torch.randn(batch, tokens, dim, generator=gen)
    lengths = torch.randint(1, tokens + 1, (batch,), generator=gen)
    mask = (torch.arange(tokens)[None, :] < lengths[:, None]).long()
    return hidden, mask


@pytest.mark.parametrize("seed", range(5))
def test_pool_mean_is_mean_over_real_tokens(seed: int) -> None:
    hidden, mask = _random_batch(seed)
    got = pool(hidden, mask, "mean")
    for row in range(hidden.shape[0]):
        n = int(mask[row].sum())
        expected = hidden[row, :n].double().mean(0)
        np.testing.assert_allclose(got[row].numpy(), expected.numpy(), atol=1e-6)


def test_pool_other_methods() -> None:
    hidden, mask = _random_batch(0)
    np.testing.assert_array_equal(pool(hidden, mask, "cls").numpy(), hidden[:, 0].numpy())
    last = pool(hidden, mask, "last")
    for row in range(hidden.shape[0]):
        n = int(mask[row].sum())
        np.testing.assert_array_equal(last[row].numpy(), hidden[row, n - 1].numpy())
    np.testing.assert_allclose(pool(hidden, mask, "mean_unmasked").numpy(), hidden.mean(1).numpy(), atol=1e-6)
    full = torch.ones_like(mask)
    np.testing.assert_allclose(pool(hidden, full, "mean").numpy(), hidden.mean(1).numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="unknown pooling"):
        pool(hidden, mask, "max")


def test_pool_is_float32_for_half_inputs() -> None:
    hidden, mask = _random_batch(1)
    out = pool(hidden.to(torch.bfloat16), mask, "mean")
    assert out.dtype == torch.float32


# ---- token_budget_batches ---------------------------------------------------------------------------


def test_token_budget_batches_examples() -> None:
    """(width, rows) batches, widest first; the property test is tests/embeddings/test_invariance.py."""
    assert list(token_budget_batches([], 100)) == []
    assert list(token_budget_batches([17, 30, 20, 30], 60)) == [(30, [1, 3]), (20, [2]), (17, [0])]
    assert list(token_budget_batches([10, 3, 12], 100)) == [(16, [0, 1, 2])]  # at least 16 tokens a row
    assert list(token_budget_batches([16, 16, 20, 20], 1000, "equal_length")) == [(20, [2, 3]), (16, [0, 1])]
    # unpadded and under 16 tokens: one row a forward (the row count would pick the matmul kernel)
    assert list(token_budget_batches([10, 10], 1000, "equal_length")) == [(10, [0]), (10, [1])]
    assert list(token_budget_batches([500, 33], 100)) == [(512, [0]), (34, [1])]  # the width grid
    assert list(token_budget_batches([7, 7], 100, "per_sequence")) == [(7, [0]), (7, [1])]


# ---- batched == one at a time ------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["random-bert-tiny", "random-gpt2-tiny"])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequences=st.lists(_dna, min_size=1, max_size=8), budget=st.integers(50, 2000))
def test_batched_equals_one_at_a_time(
    embedders: dict[str, Any], key: str, sequences: list[str], budget: int
) -> None:
    emb = embedders[key]
    emb.token_budget = budget
    batched = emb.embed(sequences)
    emb.token_budget = 10**9
    single = np.stack([emb.embed([s])[0] for s in sequences])
    assert batched.shape == (len(sequences), 64)
    assert batched.dtype == np.float32
    assert np.isfinite(batched).all()
    np.testing.assert_array_equal(batched, single)  # batch-invariant: each row at its own length's width


@settings(max_examples=10, deadline=None)
@given(sequences=st.lists(_dna, min_size=1, max_size=8))
def test_batched_equals_single_without_mask(sequences: list[str]) -> None:
    """A model that takes no attention mask is batched by equal length only (no padding)."""
    model = build_random_model(
        {"arch": "gpt2", "hidden_size": 32, "num_layers": 1, "num_heads": 2, "seed": 3}
    )
    emb = HFEmbedder(model, char_tokenizer(), accepts_mask=False, token_budget=400)
    batched = emb.embed(sequences)
    single = np.stack([emb.embed([s])[0] for s in sequences])
    np.testing.assert_allclose(batched, single, atol=1e-5)


def test_same_key_same_vectors_across_builds(embedders: dict[str, Any]) -> None:
    seqs = ["ACGTACGTNNACGT", "GGGGCCCCAAAATTTT" * 3, "ACG"]
    for key in ("random-bert-tiny", "random-gpt2-tiny"):
        state = torch.random.get_rng_state()
        fresh = cast(HFEmbedder, build_embedder(resolve_model(key), "cpu"))
        assert torch.equal(torch.random.get_rng_state(), state), "building must not touch the global RNG"
        assert not fresh.model.training, "eval mode: no dropout"
        a = fresh.embed(seqs)
        b = fresh.embed(seqs)
        c = embedders[key].embed(seqs)
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
        fresh.close()
    # different architectures/seeds really differ
    bert = embedders["random-bert-tiny"].embed(seqs)
    gpt2 = embedders["random-gpt2-tiny"].embed(seqs)
    assert not np.allclose(bert, gpt2)


def test_seed_changes_weights() -> None:
    opts = {"arch": "bert", "hidden_size": 16, "num_layers": 1, "num_heads": 2}
    a = build_random_model({**opts, "seed": 0})
    b = build_random_model({**opts, "seed": 1})
    a2 = build_random_model({**opts, "seed": 0})
    wa, wb, wa2 = (m.embeddings.word_embeddings.weight for m in (a, b, a2))
    assert torch.equal(wa, wa2)
    assert not torch.equal(wa, wb)
    with pytest.raises(ValueError, match="unknown random-init architecture"):
        build_random_model({**opts, "arch": "lstm"})


def test_char_tokenizer() -> None:
    tok = char_tokenizer()
    ids = tok(["ACGTN", "AXC"])["input_ids"]
    vocab = {t: i for i, t in enumerate(CHAR_VOCAB)}
    assert ids[0] == [vocab["[CLS]"], *(vocab[c] for c in "ACGTN"), vocab["[SEP]"]]
    assert ids[1] == [vocab["[CLS]"], vocab["A"], vocab["[UNK]"], vocab["C"], vocab["[SEP]"]]
    assert tok.pad_token_id == 0


def test_embedder_edge_cases(embedders: dict[str, Any]) -> None:
    emb = embedders["random-bert-tiny"]
    assert emb.embed([]).shape[0] == 0
    long = emb.embed(["A" * 2000])  # truncated to max_tokens, not an error
    assert long.shape == (1, 64)
    assert np.isfinite(long).all()
    with pytest.raises(ValueError, match="unknown pooling"):
        HFEmbedder(
            build_random_model({"hidden_size": 16, "num_layers": 1, "num_heads": 2}),
            char_tokenizer(),
            pooling="max",
        )


def test_every_pooling_runs() -> None:
    model = build_random_model({"arch": "bert", "hidden_size": 16, "num_layers": 1, "num_heads": 2})
    seqs = ["ACGT", "ACGTACGTAC"]
    for method in POOLINGS:
        out = HFEmbedder(model, char_tokenizer(), pooling=method).embed(seqs)
        assert out.shape == (2, 16)
        assert np.isfinite(out).all()


# ---- hub loading code path, offline ------------------------------------------------------------------


@pytest.fixture
def hf_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline mode for this test. huggingface_hub/transformers read the variables at import time, so the
    module-level flags are patched as well (they may already be imported by other tests)."""
    import huggingface_hub.constants
    import transformers.utils.hub

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(transformers.utils.hub, "_is_offline_mode", True)


def test_local_checkpoint_folder(tmp_path: Path, hf_offline: None) -> None:
    model = build_random_model(
        {"arch": "bert", "hidden_size": 32, "num_layers": 2, "num_heads": 2, "seed": 7}
    )
    tokenizer = char_tokenizer(256)
    ckpt = tmp_path / "my.checkpoint-v1"
    model.save_pretrained(ckpt)
    tokenizer.save_pretrained(ckpt)

    spec = resolve_model(str(ckpt))
    assert spec.family == "hf"
    assert spec.source == str(ckpt.resolve())
    assert spec.key.startswith(f"{tmp_path.name}__my.checkpoint-v1-"), "parent/name plus a content hash"
    assert spec.revision is not None
    assert spec.revision.startswith("local-")
    assert resolve_model(str(ckpt)).revision == spec.revision, "the local fingerprint is stable"

    emb = build_embedder(spec, "cpu")
    try:
        assert isinstance(emb, HFEmbedder)
        seqs = ["ACGTACGTAC", "NNNACGT", "GATTACA" * 20]
        got = emb.embed(seqs)
        assert got.shape == (3, 32)
        expected = HFEmbedder(model, tokenizer).embed(seqs)
        np.testing.assert_allclose(got, expected, atol=1e-5)
    finally:
        emb.close()


def test_nonexistent_hub_id_offline(hf_offline: None) -> None:
    spec = resolve_model("geneb-test-nonexistent-org/no-such-model@v0")
    assert spec.source == "geneb-test-nonexistent-org/no-such-model"
    assert spec.revision == "v0"
    with pytest.raises(ModelUnavailable) as info:
        build_embedder(spec, "cpu")
    message = str(info.value)
    assert "geneb-test-nonexistent-org/no-such-model" in message
    assert "v0" in message
    assert "--geneb-model /path/to/model" in message
    assert "HF_HOME" in message


def test_hf_spec_without_source() -> None:
    with pytest.raises(ValueError, match="needs a hub id or a local path"):
        build_embedder(ModelSpec(key="x", family="hf"), "cpu")
