"""Health checks on a (model, task) embedding: a broken model must never yield a plausible-looking number.

A text tokenizer that turns every DNA sequence into ``[UNK]``, weights that did not load, or a recipe that
pools a constant all give one vector for every sequence; the probe then scores MCC 0 and the item would
pass. So every embedding is checked: unknown-token fraction and sequences made only of unknown tokens
(from the tokenizer, counted by ``TokenCounter`` while encoding), distinct vectors against distinct
sequences, near-constant dimensions, truncation, and afterwards constant predictions per seed. Past the
thresholds the item fails with the cause, the counts it measured and the fix; short of them, the figures go
into the result, with a note when they deserve one (docs/reliability.md lists every bound). Outputs of a
few dimensions (GC content) tie legitimately, so for them only a constant output fails.

The token figures are kept in the embedding cache as one small float array (``TOKEN_ARRAY``), so a cached
embedding reports the same figures as a fresh one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "DISTINCT_MIN_FRACTION",
    "DISTINCT_NOTE_FRACTION",
    "LOW_DIM",
    "TOKEN_ARRAY",
    "DegenerateEmbeddings",
    "TokenCounter",
    "TokenStats",
    "assess",
    "constant_prediction_note",
    "safe_char_bound",
    "token_arrays",
    "with_predictions",
]

DISTINCT_MIN_FRACTION = 0.5  # fewer distinct vectors than this share of distinct sequences fails the item
DISTINCT_NOTE_FRACTION = 0.9  # fewer than this share (but not under the failure bound) gets a note
LOW_DIM = 4  # outputs of fewer dimensions (GC content: 1) tie legitimately: they fail only when constant
NEAR_CONSTANT_REL = 1e-6  # a dimension whose spread is below this share of the largest spread is constant
DISTINCT_TOLERANCE = 1e-4  # vectors closer than this (relative) count as one: batching noise is ~1e-6
CHAR_MARGIN = 64  # characters kept past the exact bound: the token at the cut may straddle it
TOKEN_ARRAY = "tokens"  # name of the token figures in a cache entry
_DNA = re.compile(r"[ACGTacgt]")
_CAUSES = ("", "wordpiece", "unknown")
_LIMIT_SOURCES = (
    "none",
    "recipe max_tokens",
    "config max_position_embeddings",
    "config max_seq_len",
    "config n_positions",
    "tokenizer model_max_length",
)


class DegenerateEmbeddings(ValueError):
    """The embedding cannot carry information about the sequences: the item fails with cause and fix."""


@dataclass(frozen=True)
class TokenStats:
    """What the tokenizer did to one task's sequences (recorded in every result)."""

    sequences: int
    tokens: int  # content tokens (special tokens excluded) after truncation
    unk_tokens: int
    unk_only: int  # DNA sequences whose content tokens are all the unknown token
    distinct_inputs: int  # distinct token-id lists the model saw
    truncated: int  # sequences cut to the token limit
    kept_sum: float  # sum over truncated sequences of the fraction kept
    token_limit: int
    limit_source: str
    cause: str = ""  # "wordpiece" (one word over max_input_chars_per_word), "unknown", or ""
    cause_param: int = 0  # max_input_chars_per_word for "wordpiece"
    unk_only_other: int = 0  # sequences without A/C/G/T (all N, say) whose content tokens are all unknown

    @property
    def unk_fraction(self) -> float:
        return self.unk_tokens / self.tokens if self.tokens else 0.0

    @property
    def mean_kept(self) -> float:
        """Mean fraction of a truncated sequence kept (1.0 when nothing was cut)."""
        return self.kept_sum / self.truncated if self.truncated else 1.0

    def to_array(self) -> np.ndarray:
        source = _LIMIT_SOURCES.index(self.limit_source) if self.limit_source in _LIMIT_SOURCES else 0
        return np.array(
            [
                self.sequences,
                self.tokens,
                self.unk_tokens,
                self.unk_only,
                self.distinct_inputs,
                self.truncated,
                self.kept_sum,
                self.token_limit,
                source,
                _CAUSES.index(self.cause),
                self.cause_param,
                self.unk_only_other,
            ],
            dtype=np.float64,
        )

    @classmethod
    def from_array(cls, values: np.ndarray) -> TokenStats:
        v = [float(x) for x in np.asarray(values, dtype=np.float64).ravel()]
        i = [round(x) for x in v] + [0] * (12 - len(v))  # entries cached before a field existed: 0
        return cls(
            i[0], i[1], i[2], i[3], i[4], i[5], v[6], i[7], _LIMIT_SOURCES[i[8]], _CAUSES[i[9]], i[10], i[11]
        )

    def cause_text(self, unk: str) -> str:
        if self.cause == "wordpiece":
            return (
                f"DNA passed as one word over max_input_chars_per_word={self.cause_param}; "
                "use [kmer=K] or a DNA tokenizer"
            )
        return (
            f"the tokenizer has no tokens for DNA (every base became {unk}): not a DNA vocabulary, or the "
            "wrong letter case; use a DNA tokenizer, [kmer=K] or [case=lower]/[case=keep]"
        )


def _backend_model(tokenizer: Any) -> Any:
    return getattr(getattr(tokenizer, "backend_tokenizer", None), "model", None)


def _wordpiece_limit(tokenizer: Any) -> int | None:
    """``max_input_chars_per_word`` of a WordPiece tokenizer (fast or slow), else None."""
    for holder in (_backend_model(tokenizer), getattr(tokenizer, "wordpiece_tokenizer", None)):
        value = getattr(holder, "max_input_chars_per_word", None)
        if isinstance(value, int):
            return value
    return None


def _longest_token(tokenizer: Any) -> int:
    """Characters in the longest non-special vocabulary entry (WordPiece ``##`` prefixes removed)."""
    special = set(getattr(tokenizer, "all_special_tokens", ()) or ())
    try:
        vocab = tokenizer.get_vocab()
    except (AttributeError, NotImplementedError, TypeError):
        return 0
    lengths = [len(t[2:] if t.startswith("##") else t) for t in vocab if t not in special]
    return max(lengths, default=0)


def safe_char_bound(tokenizer: Any, recipe: Mapping[str, Any], max_tokens: int) -> int:
    """How many leading characters of a sequence fix its first ``max_tokens`` tokens exactly (0: unknown).

    Exact where tokens are read left to right and cover at most C characters each: overlapping k-mer
    words (one base each), word-level and WordPiece vocabularies (greedy longest match), and slow
    tokenizers whose vocabulary is single characters (HyenaDNA's). BPE and Unigram are not prefix-stable,
    so they are tokenised whole (in chunks). The bound keeps a WordPiece word over its length limit over it.
    """
    if max_tokens <= 0:
        return 0
    k = int(recipe.get("kmer", 0))
    if k > 0:  # "ACGTAC CGTACG ...": one word per base, at least one token per word
        return max_tokens + k + CHAR_MARGIN
    backend = _backend_model(tokenizer)
    kind = type(backend).__name__ if backend is not None else ""
    longest = _longest_token(tokenizer)
    if kind in ("WordLevel", "WordPiece") or getattr(tokenizer, "wordpiece_tokenizer", None) is not None:
        per_token = longest
    elif backend is None and longest == 1:
        per_token = 1
    else:
        return 0
    if per_token <= 0:
        return 0
    bound = max_tokens * per_token + CHAR_MARGIN
    word_limit = _wordpiece_limit(tokenizer)
    return max(bound, word_limit + 1) if word_limit is not None else bound


class TokenCounter:
    """Counts unknown tokens and truncation while an adapter encodes a task, chunk by chunk."""

    def __init__(self, tokenizer: Any, max_tokens: int, limit_source: str, special: bool) -> None:
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.limit_source = limit_source
        unk = getattr(tokenizer, "unk_token_id", None)
        self.unk_id = unk if isinstance(unk, int) else None
        self.special_ids = set(getattr(tokenizer, "all_special_ids", ()) or ()) - {self.unk_id}
        self.room = max_tokens
        if special and max_tokens:
            try:
                self.room = max_tokens - int(tokenizer.num_special_tokens_to_add(pair=False))
            except (AttributeError, NotImplementedError, TypeError, ValueError):
                self.room = max_tokens
        self.sequences = self.tokens = self.unk_tokens = self.unk_only = self.unk_only_other = 0
        self.truncated = 0
        self.kept_sum = 0.0
        self.inputs: set[int] = set()
        self.longest_word = 0

    def add(
        self,
        encoded: Sequence[list[int]],
        texts: Sequence[str],
        lengths: Sequence[int],
        cut_lengths: Sequence[int],
    ) -> None:
        """One chunk: token ids after truncation, the texts tokenised, original and cut character lengths."""
        at_limit = []
        for row, (ids, text) in enumerate(zip(encoded, texts, strict=True)):
            self.sequences += 1
            self.inputs.add(hash(tuple(ids)))
            content = [i for i in ids if i not in self.special_ids]
            unk = sum(i == self.unk_id for i in content) if self.unk_id is not None else 0
            self.tokens += len(content)
            self.unk_tokens += unk
            if content and unk == len(content) and not _DNA.search(text):
                self.unk_only_other += 1  # all N (or other non-ACGT letters): the model sees nothing of it
            elif content and unk == len(content):
                self.unk_only += 1
                self.longest_word = max(self.longest_word, max((len(w) for w in text.split()), default=0))
            if self.max_tokens and len(ids) >= self.max_tokens:
                at_limit.append(row)
        if not at_limit:
            return
        full = self.tokenizer(
            [texts[r] for r in at_limit], add_special_tokens=False, truncation=False, verbose=False
        )["input_ids"]
        for row, ids in zip(at_limit, full, strict=True):
            if len(ids) > self.room:
                total = len(ids) * lengths[row] / max(cut_lengths[row], 1)  # the cut part scaled to the whole
                self.truncated += 1
                self.kept_sum += min(1.0, self.room / total)

    def stats(self) -> TokenStats:
        cause, param = "", 0
        if self.unk_only:
            word_limit = _wordpiece_limit(self.tokenizer)
            if word_limit is not None and self.longest_word > word_limit:
                cause, param = "wordpiece", word_limit
            else:
                cause = "unknown"
        return TokenStats(
            self.sequences,
            self.tokens,
            self.unk_tokens,
            self.unk_only,
            len(self.inputs),
            self.truncated,
            self.kept_sum,
            self.max_tokens,
            self.limit_source,
            cause,
            param,
            self.unk_only_other,
        )


def token_arrays(
    embedder: Any, sequences: Sequence[str] | None = None, *, covered: bool = True
) -> dict[str, np.ndarray]:
    """The embedder's token figures for the cache entry ({} for embedders without a tokenizer).

    The figures describe the task ``sequences``: unless the embedder's last call was on exactly these rows
    (``covered``), e.g. when some came from the sequence store or repeated rows were embedded once, the
    whole task is tokenised again to count them -- tokenising is cheap beside the forward pass, and the
    figures then never depend on what the store held ("1 of 1 sequences" for a 90-row task).
    """
    if not hasattr(embedder, "last_stats"):
        return {}
    stats = embedder.last_stats
    stale = not isinstance(stats, TokenStats) or not covered or stats.sequences != len(sequences or ())
    if sequences is not None and stale:  # also an embedder loaded only to count (every vector from the store)
        count = embedder.windows if getattr(embedder, "long_input", "") == "window" else embedder.encode
        count(list(sequences))
        stats = embedder.last_stats
    return {TOKEN_ARRAY: stats.to_array()} if isinstance(stats, TokenStats) else {}


def _distinct_rows(vectors: np.ndarray) -> int:
    """Distinct vectors up to batching noise: a random projection, rounded at a relative tolerance."""
    if len(vectors) == 0:
        return 0
    x = np.asarray(vectors, dtype=np.float64)
    projection = x @ np.random.default_rng(0).standard_normal((x.shape[1], 8))
    scale = float(np.sqrt(np.mean(projection**2)))
    if scale == 0.0 or not np.isfinite(scale):
        return 1
    return int(np.unique(np.round(projection / (scale * DISTINCT_TOLERANCE)), axis=0).shape[0])


def _near_constant(vectors: np.ndarray) -> int:
    spread = np.asarray(vectors, dtype=np.float64).std(axis=0)
    top = float(spread.max(initial=0.0))
    return int((spread <= top * NEAR_CONSTANT_REL).sum()) if top > 0 else int(spread.size)


def assess(
    arrays: Mapping[str, np.ndarray],
    sequences: Sequence[str],
    where: str,
    *,
    dtype: str = "",
    unk: str = "[UNK]",
) -> dict[str, Any]:
    """The health record of one (model, task) embedding; raises ``DegenerateEmbeddings`` above the thresholds.

    ``arrays`` is the cache entry (train, test, and the token figures when the model has a tokenizer);
    ``sequences`` are train then test, as embedded; ``dtype`` is the one the model computed in (recorded).
    """
    vectors = np.concatenate([arrays["train"], arrays["test"]])
    distinct_sequences = len(set(sequences))
    record: dict[str, Any] = {
        "sequences": len(sequences),
        "distinct_sequences": distinct_sequences,
        "distinct_vectors": _distinct_rows(vectors),
        "dim": int(vectors.shape[1]) if vectors.ndim == 2 else 0,
        "near_constant_dims": _near_constant(vectors) if len(vectors) else 0,
    }
    if dtype:
        record["dtype"] = dtype
    stats = TokenStats.from_array(arrays[TOKEN_ARRAY]) if TOKEN_ARRAY in arrays else None
    if stats is not None:
        record |= {
            "unk_fraction": round(stats.unk_fraction, 6),
            "unk_only": stats.unk_only,
            "distinct_inputs": stats.distinct_inputs,
            "token_limit": stats.token_limit,
            "limit_source": stats.limit_source,
            "truncated": stats.truncated,
            "mean_kept": round(stats.mean_kept, 4),
        }
    problems = []
    n = len(sequences)
    counted = str(n)
    if stats is not None and stats.sequences != n:  # figures of part of the task: say which part
        record["token_figures_of"] = stats.sequences
        counted = f"the {stats.sequences} tokenised (of the task's {n})"
    if stats is not None and stats.unk_only:
        problems.append(
            f"{stats.unk_only} of {counted} sequences became unknown tokens only "
            f"({unk}): {stats.cause_text(unk)}"
        )
    if stats is not None and stats.unk_only_other:
        record["unk_only_other"] = stats.unk_only_other
        problems.append(
            f"{stats.unk_only_other} of {counted} sequences hold no A/C/G/T (all N) and became {unk} only: "
            "the model sees nothing of them; drop those rows from the task, or use a tokenizer with an N token"
        )
    distinct, dim = record["distinct_vectors"], record["dim"]
    share = distinct / distinct_sequences if distinct_sequences else 1.0
    measured = (
        f"{distinct} distinct vector(s) for {distinct_sequences} distinct sequences ({share:.0%}; "
        f"{n} rows, dim {dim})"
    )
    inputs_collapsed = stats is not None and distinct >= DISTINCT_MIN_FRACTION * stats.distinct_inputs
    constant = distinct <= 1 < distinct_sequences
    few = share < DISTINCT_MIN_FRACTION and (dim >= LOW_DIM or constant)
    if few and not problems and not inputs_collapsed:
        problems.append(
            f"{measured}, under the {DISTINCT_MIN_FRACTION:.0%} bound: the model's output does not depend "
            "on its input (weights not loaded or untrained, or the recipe's states/submodule/pooling pick a "
            "constant); check the checkpoint and the recipe"
        )
    elif share < DISTINCT_MIN_FRACTION and inputs_collapsed and not problems:
        record["note"] = (
            f"truncation to {record.get('token_limit')} tokens leaves "
            f"{record.get('distinct_inputs')} distinct inputs for {distinct_sequences} sequences"
        )
    elif share < DISTINCT_NOTE_FRACTION and not problems:
        why = (
            f"a {dim}-dimensional output ties where its values coincide"
            if dim < LOW_DIM
            else "some sequences share a vector: check the recipe's pooling and the tokenizer"
        )
        record["note"] = f"{measured}, under {DISTINCT_NOTE_FRACTION:.0%}: {why}"
    if problems:
        raise DegenerateEmbeddings(
            f"{where}: degenerate embeddings, {'; '.join(problems)}. Nothing was scored."
        )
    return record


def constant_prediction_note(predictions: np.ndarray, y_fit: np.ndarray) -> str | None:
    """A note when a fitted probe predicts one class for every test row (MCC is then 0 by definition)."""
    classes = np.unique(predictions)
    if classes.size != 1:
        return None
    labels, counts = np.unique(y_fit, return_counts=True)
    majority = labels[np.argmax(counts)]
    which = "the majority class" if classes[0] == majority else f"class {int(classes[0])}"
    return f"predicts {which} for every test row: MCC 0 by definition"


def with_predictions(record: Mapping[str, Any] | None, per_seed: Iterable[Any]) -> dict[str, Any] | None:
    """The health record plus the seeds whose probe predicted one class everywhere."""
    if record is None:
        return None
    constant = [int(s.seed) for s in per_seed if s.note and "for every test row" in s.note]
    return {**record, "constant_prediction_seeds": constant}


def summary_lines(model: str, task: str, record: Mapping[str, Any]) -> list[str]:
    """Human lines for the run summary: only what deserves attention."""
    lines = []
    if record.get("truncated"):
        lines.append(
            f"{model} / {task}: {record['truncated']} of {record['sequences']} sequences cut to "
            f"{record.get('token_limit')} tokens ({record.get('limit_source')}), "
            f"mean {record.get('mean_kept', 1.0):.0%} kept"
        )
    if record.get("unk_fraction"):
        lines.append(f"{model} / {task}: {record['unk_fraction']:.2%} unknown tokens")
    if record.get("near_constant_dims"):
        lines.append(
            f"{model} / {task}: {record['near_constant_dims']} of {record['dim']} dimensions constant"
        )
    if record.get("note"):
        lines.append(f"{model} / {task}: {record['note']}")
    return lines
