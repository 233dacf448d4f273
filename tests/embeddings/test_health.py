"""Health checks: degenerate embeddings fail with the cause; token figures survive the cache; notes explain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geneb_bench.embeddings.health import (
    TOKEN_ARRAY,
    DegenerateEmbeddings,
    TokenStats,
    assess,
    constant_prediction_note,
    safe_char_bound,
    token_arrays,
)
from geneb_bench.models.hf import HFEmbedder
from geneb_bench.models.random_init import char_tokenizer


def random_dna(n: int, length: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list("ACGT"), length)) for _ in range(n)]


def split(vectors: np.ndarray, n_train: int, embedder: Any = None) -> dict[str, np.ndarray]:
    return {"train": vectors[:n_train], "test": vectors[n_train:], **token_arrays(embedder)}


def tiny_bert(vocab_size: int) -> Any:
    from transformers import BertConfig, BertModel

    return BertModel(
        BertConfig(
            vocab_size=vocab_size,
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
        ),
        add_pooling_layer=False,
    )


def test_wordpiece_on_long_dna_fails_with_the_cause(text_bert: Path) -> None:
    from transformers import AutoModel, AutoTokenizer

    embedder = HFEmbedder(AutoModel.from_pretrained(text_bert), AutoTokenizer.from_pretrained(text_bert))
    short = random_dna(12, 60, seed=1)
    vectors = embedder.embed(short)  # under 100 characters: real pieces, distinct vectors
    record = assess(split(vectors, 8, embedder), short, "model 'bert', task 't'")
    assert record["unk_only"] == 0
    assert record["distinct_vectors"] == len(set(short))

    long = random_dna(12, 150, seed=2)
    vectors = embedder.embed(long)
    assert embedder.last_stats is not None
    assert embedder.last_stats.unk_only == 12
    with pytest.raises(DegenerateEmbeddings) as caught:
        assess(split(vectors, 8, embedder), long, "model 'bert', task 't'")
    message = str(caught.value)
    assert "12 of 12 sequences became unknown tokens only ([UNK])" in message
    assert (
        "DNA passed as one word over max_input_chars_per_word=100; use [kmer=K] or a DNA tokenizer" in message
    )
    assert message.startswith("model 'bert', task 't'")


def test_constant_vectors_fail_without_token_figures() -> None:
    sequences = random_dna(20, 50)
    with pytest.raises(DegenerateEmbeddings, match=r"1 distinct vector\(s\) for 20 distinct sequences"):
        assess(split(np.ones((20, 8), dtype=np.float32), 15), sequences, "model 'm', task 't'")


def test_batching_noise_counts_as_one_vector_but_real_differences_do_not() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(1, 16)).astype(np.float32)
    noisy = base + rng.normal(scale=1e-7, size=(30, 16)).astype(np.float32)
    with pytest.raises(DegenerateEmbeddings):
        assess(split(noisy, 20), random_dna(30, 40), "w")
    distinct = rng.normal(size=(30, 16)).astype(np.float32)
    assert assess(split(distinct, 20), random_dna(30, 40), "w")["distinct_vectors"] == 30


def test_duplicated_sequences_do_not_count_against_the_model() -> None:
    sequences = random_dna(5, 40) * 4  # 5 distinct sequences, each 4 times
    vectors = np.repeat(np.random.default_rng(1).normal(size=(5, 8)), 1, axis=0)
    vectors = np.concatenate([vectors] * 4).astype(np.float32)
    record = assess(split(vectors, 12), sequences, "w")
    assert (record["distinct_sequences"], record["distinct_vectors"]) == (5, 5)


def test_near_constant_dimensions_are_counted() -> None:
    vectors = np.random.default_rng(2).normal(size=(40, 6)).astype(np.float32)
    vectors[:, [1, 4]] = 3.0
    record = assess(split(vectors, 30), random_dna(40, 30), "w")
    assert record["near_constant_dims"] == 2
    assert record["dim"] == 6


def test_token_figures_survive_the_cache_round_trip() -> None:
    stats = TokenStats(10, 400, 7, 0, 10, 3, 1.5, 512, "config max_seq_len", "wordpiece", 100)
    again = TokenStats.from_array(stats.to_array().astype(np.float32))  # the cache stores float32
    assert again == stats
    assert again.mean_kept == 0.5
    assert again.unk_fraction == pytest.approx(7 / 400)


def test_truncation_is_counted_with_the_fraction_kept() -> None:
    embedder = HFEmbedder(tiny_bert(10), char_tokenizer(512), max_tokens=52)  # 50 bases + [CLS] [SEP]
    sequences = ["ACGT" * 25, "ACGT" * 10, "A" * 200]  # 100, 40, 200 bases
    vectors = embedder.embed(sequences)
    stats = embedder.last_stats
    assert stats is not None
    assert (stats.truncated, stats.token_limit, stats.limit_source) == (2, 52, "recipe max_tokens")
    assert stats.mean_kept == pytest.approx((50 / 100 + 50 / 200) / 2, rel=0.02)
    record = assess(split(vectors, 2, embedder), sequences, "w")
    assert record["truncated"] == 2
    assert record["mean_kept"] == pytest.approx(0.375, rel=0.02)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.text(alphabet="ACGTN", min_size=1, max_size=400), min_size=1, max_size=6),
    st.integers(min_value=3, max_value=64),
)
def test_cutting_on_characters_first_keeps_the_tokens(sequences: list[str], limit: int) -> None:
    """The char bound is exact: the ids equal a whole-sequence tokenisation truncated by the tokenizer."""
    tokenizer = char_tokenizer(512)
    embedder = HFEmbedder(tiny_bert(10), tokenizer, max_tokens=limit)
    assert 0 < embedder.char_bound < 400 + limit
    whole = tokenizer(sequences, truncation=True, max_length=limit)["input_ids"]
    assert embedder.encode(sequences) == [list(ids) for ids in whole]


def test_char_bound_only_where_safe(text_bert: Path) -> None:
    from tokenizers import Tokenizer, models
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    assert safe_char_bound(char_tokenizer(), {}, 512) == 512 + 64
    assert safe_char_bound(char_tokenizer(), {"kmer": 6}, 512) == 512 + 6 + 64
    assert safe_char_bound(AutoTokenizer.from_pretrained(text_bert), {}, 20) > 100, (
        "an over-long word stays over the limit"
    )
    assert safe_char_bound(char_tokenizer(), {}, 0) == 0
    bpe = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(models.BPE({"A": 0, "C": 1, "AC": 2}, [("A", "C")]))
    )
    assert safe_char_bound(bpe, {}, 512) == 0, "BPE is not prefix-stable: tokenised whole, in chunks"


def test_constant_prediction_note() -> None:
    y_fit = np.array([0, 0, 0, 1])
    assert constant_prediction_note(np.zeros(5, dtype=int), y_fit) == (
        "predicts the majority class for every test row: MCC 0 by definition"
    )
    assert "class 1 for every test row" in str(constant_prediction_note(np.ones(5, dtype=int), y_fit))
    assert constant_prediction_note(np.array([0, 1, 0]), y_fit) is None


def test_unhealthy_record_key_is_in_the_cache_entry() -> None:
    embedder = HFEmbedder(tiny_bert(10), char_tokenizer(64))
    embedder.embed(["ACGT"])
    assert TOKEN_ARRAY in token_arrays(embedder)
    assert token_arrays(object()) == {}


# -- issue 24: each rule on both sides of its threshold, with the task's counts ---------------------------


def collapsed(n_distinct: int, n: int = 90, dim: int = 8) -> np.ndarray:
    """``n`` rows holding ``n_distinct`` distinct random vectors (the rest repeat the first)."""
    vectors = np.random.default_rng(3).normal(size=(n, dim)).astype(np.float32)
    vectors[n_distinct:] = vectors[0]
    return vectors


def test_half_collapsed_rows_get_a_note_and_fewer_than_half_fail() -> None:
    sequences = random_dna(90, 40, seed=4)
    record = assess(split(collapsed(46), 60), sequences, "w")  # was: passed with no note
    assert record["distinct_vectors"] == 46
    assert record["note"].startswith(
        "46 distinct vector(s) for 90 distinct sequences (51%; 90 rows, dim 8), under 90%"
    )
    assert "note" not in assess(split(collapsed(82), 60), sequences, "w"), "91%: above the note bound"
    assert "note" in assess(split(collapsed(80), 60), sequences, "w"), "89%: below it"
    with pytest.raises(
        DegenerateEmbeddings, match=r"44 distinct vector\(s\) for 90 distinct sequences \(49%"
    ):
        assess(split(collapsed(44), 60), sequences, "w")
    assert assess(split(collapsed(45), 60), sequences, "w")["distinct_vectors"] == 45, "50%: kept"


def test_one_dimensional_extractor_is_not_refused_but_a_constant_one_is() -> None:
    sequences = random_dna(90, 20, seed=5)
    gc = np.array([[sum(b in "GC" for b in s) / len(s)] for s in sequences], dtype=np.float32)
    record = assess(split(gc, 60), sequences, "w")  # was: "output does not depend on its input"
    assert record["distinct_vectors"] < 45, "GC content of 20-mers ties: under the 50% bound"
    assert record["dim"] == 1
    assert "a 1-dimensional output ties where its values coincide" in record["note"]
    with pytest.raises(DegenerateEmbeddings, match=r"1 distinct vector\(s\) for 90 distinct sequences"):
        assess(split(np.full((90, 1), 0.5, dtype=np.float32), 60), sequences, "w")
    with pytest.raises(DegenerateEmbeddings):  # the same ties in 4 dimensions: refused
        assess(split(np.repeat(gc, 4, axis=1), 60), sequences, "w")


def test_rows_of_n_that_become_unknown_only_fail_the_item(text_bert: Path) -> None:
    from transformers import AutoModel, AutoTokenizer

    embedder = HFEmbedder(AutoModel.from_pretrained(text_bert), AutoTokenizer.from_pretrained(text_bert))
    good = random_dna(12, 60, seed=6)
    vectors = embedder.embed(good)
    assert "unk_only_other" not in assess(split(vectors, 8, embedder), good, "w")
    with_n = [*good, "N" * 60]
    vectors = embedder.embed(with_n)
    with pytest.raises(DegenerateEmbeddings) as caught:  # was: passed
        assess(split(vectors, 8, embedder), with_n, "model 'bert', task 't'")
    assert "1 of 13 sequences hold no A/C/G/T (all N) and became [UNK] only" in str(caught.value)


def test_token_figures_cover_the_task_when_the_store_served_most_rows() -> None:
    from geneb_bench.embeddings.health import summary_lines

    embedder = HFEmbedder(tiny_bert(10), char_tokenizer(512), max_tokens=52)
    sequences = [*random_dna(89, 40, seed=7), "ACGT" * 500]
    embedder.embed(sequences[-1:])  # the other 89 came from the sequence store
    assert embedder.last_stats is not None
    assert embedder.last_stats.sequences == 1
    stats = TokenStats.from_array(token_arrays(embedder, sequences, covered=False)[TOKEN_ARRAY])
    assert (stats.sequences, stats.truncated) == (90, 1)
    vectors = np.random.default_rng(8).normal(size=(90, 16)).astype(np.float32)
    record = assess(
        {"train": vectors[:60], "test": vectors[60:], TOKEN_ARRAY: stats.to_array()}, sequences, "w"
    )
    assert "token_figures_of" not in record
    assert summary_lines("m", "t", record)[0].startswith("m / t: 1 of 90 sequences cut to 52 tokens")


def test_token_figures_of_older_cache_entries_still_read() -> None:
    old = TokenStats(10, 400, 7, 0, 10, 3, 1.5, 512, "config max_seq_len", "wordpiece", 100).to_array()[:11]
    assert TokenStats.from_array(old).unk_only_other == 0
