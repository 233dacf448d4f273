"""Batch invariance: a sequence's vector is the same bits whatever it is embedded with, in what order, after
an out-of-memory back-off and under any token budget (``np.array_equal``, never allclose).

Checked on random-bert-tiny over a variable-length task (20-400 bp) and on the REAL remote code of four
families (``shared/models/``: HyenaDNA, DNABERT-2, GENA-LM, MutBERT; copied to a temporary folder).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geneb_bench.embeddings.engine import (
    EXACT_UP_TO,
    MIN_WIDTH,
    WIDTHS_PER_OCTAVE,
    EmbeddingEngine,
    padded_width,
    padding_overhead,
    token_budget_batches,
)
from geneb_bench.models.hf import HFEmbedder
from geneb_bench.models.registry import build_embedder, resolve_model

SHARED = Path(os.environ.get("GENEB_SHARED_MODELS", "/work/shared/models"))


def variable_task(n: int, low: int, high: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list("ACGT"), size=int(k))) for k in rng.integers(low, high + 1, size=n)]


# ---- the plan -----------------------------------------------------------------------------------------


@given(st.integers(1, 200_000))
def test_padded_width_is_a_function_of_the_length_alone(length: int) -> None:
    width = padded_width(length)
    assert length <= width
    assert padded_width(width) == width  # a grid: widths are fixed points
    if length <= EXACT_UP_TO:
        assert width == max(length, MIN_WIDTH)
    else:
        assert width < length * (1 + 1 / WIDTHS_PER_OCTAVE)
    for batching in ("equal_length", "per_sequence"):
        assert padded_width(length, batching) == length


@given(
    st.lists(st.integers(1, 3000), min_size=1, max_size=60),
    st.integers(1, 20_000),
    st.sampled_from(["bucket", "equal_length", "per_sequence"]),
)
def test_every_row_is_planned_once_at_its_own_width(lengths: list[int], budget: int, batching: str) -> None:
    seen: list[int] = []
    widths = []
    for width, batch in token_budget_batches(lengths, budget, batching):
        widths.append(width)
        assert all(padded_width(lengths[i], batching) == width for i in batch)
        assert len(batch) * width <= budget or len(batch) == 1
        if batching == "per_sequence" or width < MIN_WIDTH:  # short unpadded rows: one per matmul
            assert len(batch) == 1
        seen.extend(batch)
    assert sorted(seen) == list(range(len(lengths)))
    assert widths == sorted(widths, reverse=True)  # widest first: an out-of-memory shows at once


def test_padding_overhead_of_a_variable_length_task_is_small() -> None:
    lengths = [len(s) + 2 for s in variable_task(2000, 20, 4000, seed=1)]
    assert padding_overhead(lengths) <= 1.0625
    assert padding_overhead(lengths, "equal_length") == 1.0


# ---- the checks, for any embedder -------------------------------------------------------------------


class OomAbove:
    """Wraps an embedder's ``_forward``: out of memory when a batch holds more than ``limit`` rows."""

    def __init__(self, forward: Callable[[Any, Any], Any], limit: int) -> None:
        self.forward, self.limit, self.ooms = forward, limit, 0

    def __call__(self, ids: torch.Tensor, mask: torch.Tensor) -> Any:
        if ids.shape[0] > self.limit:
            self.ooms += 1
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return self.forward(ids, mask)


def assert_invariant(emb: HFEmbedder, seqs: list[str], others: list[str]) -> np.ndarray:
    """The same sequences alone, with another task's, under two budgets and after an OOM back-off."""
    batched = emb.engine.batching != "per_sequence"  # one row per forward: nothing for a back-off to split
    widths = [padded_width(len(ids), emb.engine.batching) for ids in emb.encode(seqs)]
    assert max(widths.count(w) for w in widths) > 2 or not batched, "no width with 3 rows: no OOM back-off"
    budget = emb.token_budget
    reference = emb.embed(seqs)
    assert np.isfinite(reference).all()
    alone = np.stack([emb.embed([s])[0] for s in seqs])
    assert np.array_equal(alone, reference), "one sequence per call"
    mixed = emb.embed([*others, *seqs[::-1]])[len(others) :][::-1]
    assert np.array_equal(mixed, reference), "with another task's sequences"
    try:
        emb.token_budget = 64
        assert np.array_equal(emb.embed(seqs), reference), "budget 64 tokens"
        emb.token_budget = 1 << 20
        assert np.array_equal(emb.embed(seqs), reference), "budget 1M tokens"
        emb.token_budget = budget
        if not batched:
            return reference
        oom = OomAbove(emb._forward, limit=2)  # ``seqs`` holds more than two of one width
        emb._forward = oom  # type: ignore[method-assign,assignment]
        try:
            after_oom = emb.embed(seqs)
        finally:
            del emb._forward  # the class's method again
        assert oom.ooms >= 1
        assert np.array_equal(after_oom, reference), "after an out-of-memory back-off"
    finally:
        emb.token_budget = budget
    return reference


# ---- random-bert-tiny on a variable-length task -----------------------------------------------------

# task Q of the issue: random sequences of 20-400 bp, and three of one length (rows that share a batch)
VARIABLE = variable_task(8, 20, 400, seed=5) + variable_task(3, 101, 101, seed=7)
SHORT = variable_task(8, 20, 120, seed=4)  # for the property test: many orders, cheap
OTHERS = variable_task(6, 20, 400, seed=6)


@pytest.fixture(scope="module")
def tiny() -> Iterator[HFEmbedder]:
    emb = build_embedder(resolve_model("random-bert-tiny"), "cpu")
    assert isinstance(emb, HFEmbedder)
    emb.configure(progress=False)
    yield emb
    emb.close()


def test_random_bert_tiny_is_batch_invariant(tiny: HFEmbedder) -> None:
    assert tiny.engine.batching == "bucket"
    assert_invariant(tiny, VARIABLE, OTHERS)


def test_short_sequences_are_batch_invariant(tiny: HFEmbedder) -> None:
    """1-13 bp (3-15 tokens): a matmul of under 12 rows takes another sgemm kernel, so a short row's bits
    followed the number of rows of its length in the forward until the minimum width (``MIN_WIDTH``)."""
    short = variable_task(6, 1, 13, seed=8) + variable_task(3, 5, 5, seed=9)
    assert {padded_width(len(ids)) for ids in tiny.encode(short)} == {MIN_WIDTH}
    assert_invariant(tiny, short, OTHERS)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(range(len(SHORT))))
def test_random_bert_tiny_in_any_order(tiny: HFEmbedder, order: list[int]) -> None:
    reference = _REFERENCE.setdefault("tiny", tiny.embed(SHORT))
    shuffled = tiny.embed([SHORT[i] for i in order])
    assert np.array_equal(shuffled[np.argsort(order)], reference)


_REFERENCE: dict[str, np.ndarray] = {}


def test_the_old_plan_was_not_invariant(tiny: HFEmbedder) -> None:
    """Why the grid: padding one sequence to another width moves its vector (so the test above can fail)."""
    ids = tiny.encode(VARIABLE[-1:])[0]  # 101 bp: 103 tokens, computed at 104
    engine = tiny.engine
    at_own = engine._embed_batch([ids], padded_width(len(ids)), [0])
    at_wider = engine._embed_batch([ids], 2 * padded_width(len(ids)), [0])
    assert not np.array_equal(at_own, at_wider)
    np.testing.assert_allclose(at_own, at_wider, rtol=1e-4, atol=1e-5)  # only the last bits move


def test_engine_rows_do_not_depend_on_their_companions() -> None:
    """At the engine level, with a forward that mixes rows if anything batches wrongly."""
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(16, 2, 32, batch_first=True, dropout=0.0).eval()
    table = torch.nn.Embedding(10, 16)

    def forward(ids: torch.Tensor, mask: torch.Tensor) -> Any:
        return layer(table(ids), src_key_padding_mask=~mask.bool())

    engine = EmbeddingEngine(forward, pad_id=0, device="cpu", progress=False)
    rng = np.random.default_rng(2)
    encoded = [list(rng.integers(1, 10, size=int(n))) for n in rng.integers(3, 90, size=30)]
    reference = engine.embed_ids(encoded, ["x"] * 30, list(range(30)))
    for i in range(0, 30, 7):
        assert np.array_equal(engine.embed_ids([encoded[i]], ["x"], [0])[0], reference[i])


# ---- the real remote code of four families ----------------------------------------------------------

# zoo key -> (shared/models folder, the batching its recipe declares, why)
REAL = {
    "gena-lm-bert-large-t2t": ("gena_lm", "bucket", "masked BERT: padded to the width grid"),
    "MutBERT": ("mutbert", "bucket", "one-hot input, masked: padded to the width grid"),
    "hyenadna-medium-160k-seqlen-hf": (
        "hyenadna",
        "equal_length",
        "no attention mask (its long convolution would see padding): only equal lengths share a batch",
    ),
    "dnabert2-no-flashattention": (
        "dnabert2",
        "per_sequence",
        "MosaicBERT unpads: a batch's tokens are concatenated and attention runs at the batch's longest real "
        "length, so rows depend on their companions even at one padded width: one row per forward",
    ),
}


@pytest.fixture(scope="module", params=sorted(REAL))
def real_code(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HFEmbedder]:
    if not SHARED.is_dir():
        pytest.skip(f"real-code folders not found at {SHARED} (GENEB_SHARED_MODELS)")
    pytest.importorskip("einops", reason="pip install 'geneb-bench[models]'")
    import huggingface_hub.constants
    import transformers.utils.hub

    from tests.models.test_real_code import PREPARE, _copy

    key: str = request.param
    name = REAL[key][0]
    folder = _copy(name, tmp_path_factory.mktemp(name))
    prepare = PREPARE[name]
    if prepare is not None:
        prepare(folder)
    with pytest.MonkeyPatch.context() as patch:  # offline; verified-file stamps in a temporary cache
        patch.setenv("GENEB_CACHE_DIR", str(tmp_path_factory.mktemp("geneb-cache")))
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
        patch.setattr(transformers.utils.hub, "_is_offline_mode", True)
        emb = build_embedder(resolve_model(f"{key}[path={folder}]"), "cpu")
        assert isinstance(emb, HFEmbedder)
        emb.configure(progress=False)
        yield emb
        emb.close()


def test_real_code_families_are_batch_invariant(real_code: HFEmbedder) -> None:
    seqs = variable_task(6, 5, 80, seed=8)
    seqs += (
        variable_task(1, 40, 40, seed=10) * 3
    )  # one sequence thrice: rows that share a batch, any tokenizer
    others = variable_task(4, 5, 80, seed=9)
    assert_invariant(real_code, seqs, others)


def test_real_code_batching_is_declared(real_code: HFEmbedder, request: pytest.FixtureRequest) -> None:
    _, batching, why = REAL[request.node.callspec.params["real_code"]]
    assert real_code.engine.batching == batching, why
