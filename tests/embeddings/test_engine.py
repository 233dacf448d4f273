"""The extraction engine: out-of-memory back-off, long-input policy, progress bar, effective dtype, key parts."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geneb_bench.embeddings.engine import (
    CPU_NARROW_TOKEN_BUDGET,
    CPU_TOKEN_BUDGET,
    DEFAULT_TOKEN_BUDGET,
    PADDING_POLICY,
    default_token_budget,
    is_out_of_memory,
    progress_wanted,
)
from geneb_bench.models.base import ModelUnavailable
from geneb_bench.models.hf import HFEmbedder
from geneb_bench.models.loading import effective_dtype
from geneb_bench.models.random_init import build_random_model, char_tokenizer
from geneb_bench.protocol import REGIMES
from geneb_bench.runner.session import GenebSession
from geneb_bench.runner.settings import Settings

_dna = st.text(alphabet="ACGT", min_size=1, max_size=60)
_TINY = {"arch": "bert", "hidden_size": 32, "num_layers": 1, "num_heads": 2, "seed": 7}


@pytest.fixture(scope="module")
def bert() -> Iterator[HFEmbedder]:
    emb = HFEmbedder(build_random_model(_TINY), char_tokenizer(), max_tokens=64)
    yield emb
    emb.close()


class OomAbove:
    """Wraps ``HFEmbedder._forward``: raises out-of-memory when a batch holds more than ``limit`` tokens."""

    def __init__(self, emb: HFEmbedder, limit: int, error: type[BaseException] | None = None) -> None:
        self.forward, self.limit, self.calls, self.ooms = emb._forward, limit, 0, 0
        self.error = error or torch.cuda.OutOfMemoryError

    def __call__(self, ids: torch.Tensor, mask: torch.Tensor) -> Any:
        self.calls += 1
        if ids.numel() > self.limit:
            self.ooms += 1
            if self.error is RuntimeError:
                raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
            raise self.error("CUDA out of memory (simulated)")
        return self.forward(ids, mask)


# ---- out-of-memory back-off ----------------------------------------------------------------------


def test_oom_error_is_constructible_on_this_build() -> None:
    assert issubclass(torch.cuda.OutOfMemoryError, RuntimeError)
    assert is_out_of_memory(torch.cuda.OutOfMemoryError("x"))
    assert is_out_of_memory(RuntimeError("CUDA out of memory. Tried to allocate"))
    assert not is_out_of_memory(RuntimeError("shape mismatch"))
    assert not is_out_of_memory(ValueError("out of memory"))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sequences=st.lists(_dna, min_size=1, max_size=10),
    budget=st.integers(100, 2000),
    limit=st.integers(62, 400),
    runtime_error=st.booleans(),
)
def test_oom_backs_off_and_vectors_equal_unbatched(
    bert: HFEmbedder,
    monkeypatch: pytest.MonkeyPatch,
    sequences: list[str],
    budget: int,
    limit: int,
    runtime_error: bool,
) -> None:
    single = np.stack([bert.embed([s])[0] for s in sequences])
    with monkeypatch.context() as patch:
        fake = OomAbove(bert, limit, RuntimeError if runtime_error else None)
        patch.setattr(bert, "_forward", fake)
        patch.setattr(bert, "token_budget", budget)
        got = bert.embed(sequences)
        np.testing.assert_array_equal(got, single)  # a row's width follows its own length only
        if fake.ooms:
            assert bert.token_budget < budget  # halved at least once
        fitted, before = bert.token_budget, fake.ooms
        again = bert.embed(sequences)  # what fitted is remembered: budget never grows back
        if before == 0:  # no back-off: the same budget, the same batches, so the same bits
            np.testing.assert_array_equal(again, got)
        else:  # batches of another size: float sums in another order, equal only to rounding
            np.testing.assert_allclose(again, got, rtol=1e-5, atol=1e-6)
        assert bert.token_budget <= fitted
        if bert.token_budget <= limit:
            assert fake.ooms == before  # the remembered budget fits: no new out-of-memory
        if fake.ooms == before:  # the second call did not back off either: a third batches alike, bit for bit
            np.testing.assert_array_equal(bert.embed(sequences), again)


def test_oom_budget_is_remembered_per_embedder(bert: HFEmbedder, monkeypatch: pytest.MonkeyPatch) -> None:
    seqs = ["ACGT" * 10] * 12  # 42 tokens each
    monkeypatch.setattr(bert, "token_budget", 10_000)
    fake = OomAbove(bert, 42 * 3)
    monkeypatch.setattr(bert, "_forward", fake)
    bert.embed(seqs)
    assert fake.ooms >= 1
    assert bert.token_budget <= 42 * 3
    ooms = fake.ooms
    bert.embed(seqs)
    assert fake.ooms == ooms, "the second call starts at the budget that fitted"
    other = HFEmbedder(build_random_model(_TINY), char_tokenizer(), max_tokens=64)
    assert other.token_budget == default_token_budget("cpu", 64)  # another embedder keeps its own default


def test_the_token_budget_is_chosen_per_device_class_and_width() -> None:
    assert default_token_budget("cpu") == default_token_budget("cpu", 768) == CPU_TOKEN_BUDGET == 1_024
    assert default_token_budget("cpu", 64) == CPU_NARROW_TOKEN_BUDGET == 2_048  # per-forward overhead
    assert default_token_budget("cuda") == default_token_budget("cuda:1", 64) == DEFAULT_TOKEN_BUDGET
    # an HF model's width comes from its config (_TINY is 32 wide)
    assert HFEmbedder(build_random_model(_TINY), char_tokenizer()).token_budget == CPU_NARROW_TOKEN_BUDGET
    wide = build_random_model({**_TINY, "hidden_size": 256, "num_heads": 4})
    assert HFEmbedder(wide, char_tokenizer()).token_budget == CPU_TOKEN_BUDGET
    assert HFEmbedder(build_random_model(_TINY), char_tokenizer(), token_budget=123).token_budget == 123


def test_oom_on_a_single_sequence_is_a_clear_unavailable(
    bert: HFEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bert, "_forward", OomAbove(bert, 10))
    with pytest.raises(ModelUnavailable, match=r"single sequence of 22 tokens"):
        bert.embed(["ACGT" * 5])


def test_other_errors_are_not_retried(bert: HFEmbedder, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(ids: torch.Tensor, mask: torch.Tensor) -> Any:
        raise RuntimeError("shape mismatch")

    monkeypatch.setattr(bert, "_forward", broken)
    budget = bert.token_budget
    with pytest.raises(RuntimeError, match="shape mismatch"):
        bert.embed(["ACGT", "ACG"])
    assert bert.token_budget == budget


# ---- long-input policy ---------------------------------------------------------------------------


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=st.text(alphabet="ACGT", min_size=1, max_size=70), limit=st.integers(3, 20))
def test_window_is_mean_of_windows_and_truncate_is_the_first(sequence: str, limit: int) -> None:
    emb = _small(limit)
    room = limit - 2  # [CLS] ... [SEP]
    chunks = [sequence[i : i + room] for i in range(0, len(sequence), room)]
    per_window = emb.embed(chunks)  # each chunk fits: no truncation involved
    truncated = emb.embed([sequence])[0]
    np.testing.assert_allclose(truncated, per_window[0], atol=1e-6)
    emb.configure(long_input="window")
    windowed = emb.embed([sequence, "C"])
    np.testing.assert_allclose(windowed[0], per_window.mean(0), atol=1e-5)
    np.testing.assert_allclose(
        windowed[1], per_window_of("C", emb), atol=1e-6
    )  # within the limit: one window
    if len(set(chunks)) > 1:  # identical windows ("AA", limit 3) average to the first one
        assert not np.allclose(windowed[0], truncated, atol=1e-4)


_SMALL: dict[int, HFEmbedder] = {}


def _small(limit: int) -> HFEmbedder:
    if limit not in _SMALL:
        _SMALL[limit] = HFEmbedder(
            build_random_model(_TINY), char_tokenizer(), max_tokens=limit, token_budget=64
        )
    emb = _SMALL[limit]
    emb.configure(long_input="truncate")
    return emb


def test_windows_tokens(bert: HFEmbedder) -> None:
    emb = _small(6)
    windows = emb.windows(["ACGTACGTAC"])[0]
    assert [len(w) for w in windows] == [6, 6, 4]
    assert windows[0] == emb.encode(["ACGTACGTAC"])[0]
    with pytest.raises(ValueError, match="long_input"):
        emb.configure(long_input="chunks")


# ---- progress bar --------------------------------------------------------------------------------


def test_progress_auto_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("CI", raising=False)
    assert progress_wanted(5000, None)
    assert not progress_wanted(100, None)
    assert not progress_wanted(5000, None, interactive=False)  # nobody watches (not a terminal)
    assert progress_wanted(5000, True, interactive=False)
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    assert not progress_wanted(5000, None)
    assert progress_wanted(5000, True)
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    monkeypatch.setenv("CI", "true")
    assert not progress_wanted(5000, None)
    assert progress_wanted(10, True)
    assert not progress_wanted(10**6, False)


def test_progress_bar_shows_when_asked(bert: HFEmbedder, capsys: pytest.CaptureFixture[str]) -> None:
    bert.configure(progress=True)
    try:
        bert.embed(["ACGT", "ACGTT"])
    finally:
        bert.configure(progress=None)
    assert "embedding" in capsys.readouterr().err
    bert.embed(["ACGT", "ACGTT"])  # auto: small task, no bar
    assert "embedding" not in capsys.readouterr().err


# ---- dtype and session key parts -----------------------------------------------------------------


def test_effective_dtype() -> None:
    assert effective_dtype("bfloat16", "cpu") == "float32"
    assert effective_dtype("float16", "cpu") == "float32"
    assert effective_dtype("bfloat16", "cuda") == "bfloat16"
    assert effective_dtype("bfloat16", "cuda:1") == "bfloat16"
    assert effective_dtype("float32", "cuda") == "float32"


def _session(tmp_path: Path, **extra: Any) -> GenebSession:
    settings = Settings(
        suite="lite",
        models=("random-bert-tiny",),
        regimes=REGIMES,
        seeds=(13,),
        data_dir=None,
        cache_dir=tmp_path / "cache",
        results_dir=tmp_path / "results",
        device="cpu",
        **extra,
    )
    return GenebSession(settings)


def test_session_long_input_in_key_identity_and_embedder(tmp_path: Path) -> None:
    default, window = _session(tmp_path), _session(tmp_path, long_input="window")
    spec = default.models[0]
    data = default.task_data(default.suite.tasks[0])
    parts, parts_w = default.cache_parts(spec, data), window.cache_parts(spec, data)
    assert parts["long_input"] == "truncate"
    assert parts_w["long_input"] == "window"
    assert parts["dtype"] == "float32"
    # default results: the spec's identity and the padding grid the vectors were computed under
    assert default.model_identity(spec) == {**spec.identity(), "padding": PADDING_POLICY}
    assert window.model_identity(spec)["long_input"] == "window"
    embedder = window.embedder(spec)
    assert isinstance(embedder, HFEmbedder)
    assert embedder.long_input == "window"
    bf16 = dataclasses.replace(spec, options={**spec.options, "dtype": "bfloat16"})
    assert default.cache_parts(bf16, data)["dtype"] == "float32"  # CPU runs float32 whatever the recipe
    window.close()


def per_window_of(sequence: str, emb: HFEmbedder) -> np.ndarray:
    emb.configure(long_input="truncate")
    try:
        return cast(np.ndarray, emb.embed([sequence])[0])
    finally:
        emb.configure(long_input="window")
