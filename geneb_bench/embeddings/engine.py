"""The extraction engine: token ids in, one pooled float32 row per sequence out, whatever the model.

Every adapter (Hugging Face checkpoints, Evo 2, the random controls) supplies only a ``forward(ids, mask)``
that returns token states (batch, tokens, dim); the engine owns everything between the tokenizer and the
vectors: batch-invariant token-budget batching with right padding, out-of-memory back-off, the long-input window policy,
pooling (incl. reverse-complement averaging) and the progress bar. One place, so every model gets the same
arithmetic, and ``ENGINE_VERSION`` (part of the embedding cache key) changes whenever that arithmetic does.

Batch invariance: a row's output depends on the padded width it is computed at (padding a sequence from 103
to 128 tokens moves its mean by ~2e-7 on CPU), not on how many rows share the batch or which, once a matmul
has 12 rows or more (``MIN_WIDTH``). So every sequence is computed at ``padded_width(its own token length)``,
a fixed grid (``PADDING_POLICY``), and only sequences of the same width share a batch: a vector never depends
on its companions, the task order, the sequence store's history or the out-of-memory back-off
(docs/extraction.md).

Where the bar goes is the process's ``ProgressOutput``: a tqdm bar on stderr by default (the pytest-free
runner, scripts, notebooks); the pytest plugin installs its own (``set_progress_output``), because pytest
captures stderr during a test and xdist workers have no terminal at all.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

import numpy as np

from geneb_bench.models.base import Embeddings, ModelUnavailable
from geneb_bench.models.recipe import POOLINGS

__all__ = [
    "BATCHINGS",
    "CPU_NARROW_TOKEN_BUDGET",
    "CPU_TOKEN_BUDGET",
    "DEFAULT_TOKEN_BUDGET",
    "ENGINE_VERSION",
    "LONG_INPUT_POLICIES",
    "MIN_WIDTH",
    "PADDING_POLICY",
    "POOLINGS",
    "EmbeddingEngine",
    "ProgressBar",
    "ProgressOutput",
    "StderrProgress",
    "default_token_budget",
    "is_out_of_memory",
    "open_progress",
    "padded_width",
    "padding_overhead",
    "pool",
    "progress_wanted",
    "rc_average",
    "set_progress_output",
    "token_budget_batches",
]

# Bump when batching, padding, pooling or window averaging change the vectors: old cache entries then miss.
# 3: at least MIN_WIDTH tokens a row; 2: batch-invariant padding grid; 1: each batch padded to its longest member
ENGINE_VERSION = "3"
# How a sequence's padded width follows from its own token length alone (recorded in the cache key and result).
# MIN_WIDTH: torch's CPU sgemm (MKL) computes a row in other bits when a matmul has fewer than 12 rows (tokens
# x batch rows: 1-3, 5-7, 9-11 differ from 12 and more, measured), so a short sequence's vector would depend
# on how many of its length share its forward. At 16 tokens or more every forward is past that.
MIN_WIDTH = 16
EXACT_UP_TO = 32  # widths from MIN_WIDTH up to this are exact
WIDTHS_PER_OCTAVE = 16  # above: 16 widths per doubling, so padding adds < 1/16 (6.25%) to any sequence
PADDING_POLICY = (
    f"grid: at least {MIN_WIDTH}, exact to {EXACT_UP_TO} tokens, then {WIDTHS_PER_OCTAVE} widths per octave"
)
# "bucket": the grid above (needs an attention mask); "equal_length": only equal token lengths share a batch,
# no padding at all (models without a mask, an unmasked mean); "per_sequence": one row per forward (a model
# whose rows are not independent of the batch, e.g. batch statistics or cross-row state).
BATCHINGS = ("bucket", "equal_length", "per_sequence")
# Padded tokens per forward pass, per device class, chosen by measurement: rows per forward never move a vector
# (the width grid above), only the speed. On 2 CPU cores (benchmarks/embed_bench.py --budgets, and forward
# passes timed at 2-78 rows of 104 and 304 tokens, interleaved): a 6 x 384 BERT ran 10-15% faster at 900-1,250
# tokens a forward than at 2,000 (its activations stay in the caches), a 12 x 768 one was flat from 400 to
# 2,000, and a 64-wide one was fastest near 2,000 (per-forward overhead). An accelerator wants larger batches.
DEFAULT_TOKEN_BUDGET = 8_192
CPU_TOKEN_BUDGET = 1_024
CPU_NARROW_TOKEN_BUDGET = 2_048  # CPU, models narrower than NARROW_HIDDEN
NARROW_HIDDEN = 256


def default_token_budget(device: str, hidden_size: int | None = None) -> int:
    """The token budget of a forward pass on ``device`` ("cpu", "cuda", "cuda:1", ...) for a model of
    ``hidden_size`` (None: unknown)."""
    if str(device).split(":")[0] != "cpu":
        return DEFAULT_TOKEN_BUDGET
    narrow = hidden_size is not None and hidden_size < NARROW_HIDDEN
    return CPU_NARROW_TOKEN_BUDGET if narrow else CPU_TOKEN_BUDGET


LONG_INPUT_POLICIES = ("truncate", "window")  # GENEB truncates; "window" = sliding windows, averaged
PROGRESS_MIN_SEQUENCES = 2_000  # tasks at least this large get a progress bar (when not quiet)

Forward = Callable[[Any, Any], Any]  # (ids, mask) -> token states (batch, tokens, dim)


def is_out_of_memory(exc: BaseException) -> bool:
    """A CUDA (or other accelerator / allocator) out-of-memory error, whatever class it arrives as."""
    import torch

    oom = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom is not None and isinstance(exc, oom):
        return True
    return isinstance(exc, RuntimeError | MemoryError) and "out of memory" in str(exc).lower()


def progress_wanted(n_sequences: int, progress: bool | None, interactive: bool = True) -> bool:
    """``True``/``False`` as asked; ``None`` (auto): large tasks in runs a person watches (``interactive``: a
    terminal), never under xdist workers or in CI."""
    if progress is not None:
        return progress
    if os.environ.get("PYTEST_XDIST_WORKER") or os.environ.get("CI") or not interactive:
        return False
    return n_sequences >= PROGRESS_MIN_SEQUENCES


class ProgressBar(Protocol):
    """What the engine drives: a tqdm bar, or anything with its ``update``/``reset``/``close``."""

    def update(self, n: int = 1) -> object: ...

    def reset(self, total: int | None = None) -> None: ...

    def close(self) -> None: ...


class ProgressOutput(Protocol):
    """Where extraction progress goes: decides whether an extraction of ``total`` sequences gets a bar
    (``progress``: forced, off, or None = auto) and makes it."""

    def open(self, total: int, progress: bool | None) -> ProgressBar | None: ...


class StderrProgress:
    """The default: tqdm (``tqdm.auto``, so a notebook gets its widget) on stderr, by ``progress_wanted``."""

    def open(self, total: int, progress: bool | None) -> ProgressBar | None:
        interactive = sys.stderr.isatty() or "ipykernel" in sys.modules
        if not progress_wanted(total, progress, interactive):
            return None
        from tqdm.auto import tqdm

        bar: ProgressBar = tqdm(total=total, desc="embedding", unit="seq", leave=False, mininterval=1.0)
        return bar


_progress_output: ProgressOutput = StderrProgress()


def set_progress_output(output: ProgressOutput | None) -> ProgressOutput:
    """Send every later extraction's progress to ``output`` (None: back to stderr); returns the output it
    replaces, so the caller can put it back."""
    global _progress_output
    previous = _progress_output
    _progress_output = output if output is not None else StderrProgress()
    return previous


def open_progress(total: int, progress: bool | None) -> ProgressBar | None:
    """A bar for an extraction of ``total`` sequences from the process's output, or None."""
    return _progress_output.open(total, progress)


def pool(hidden: Any, mask: Any, method: str) -> Any:
    """Pool token states (batch, tokens, dim) to (batch, dim) in float32.

    ``mean`` is the GENEB default: mask-weighted mean over every position whose mask is 1 (special tokens
    included). ``last`` takes the last real token (right padding assumed).
    """
    import torch

    h = hidden.float()
    if h.ndim != 3 or tuple(h.shape[:2]) != tuple(mask.shape):  # else broadcasting can mix sequences silently
        raise ValueError(
            f"model output has shape {tuple(h.shape)}; expected (batch, tokens, dim) with "
            f"(batch, tokens) = {tuple(mask.shape)}: check the recipe's states/submodule"
        )
    m = mask.to(h.dtype)
    if method == "mean":
        return (h * m.unsqueeze(-1)).sum(1) / m.sum(1, keepdim=True).clamp(min=1.0)
    if method == "mean_unmasked":
        return h.mean(1)
    if method == "cls":
        return h[:, 0]
    if method == "last":
        last = mask.long().sum(1) - 1
        return h[torch.arange(h.shape[0], device=h.device), last]
    raise ValueError(f"unknown pooling {method!r}; known: {', '.join(POOLINGS)}")


def rc_average(pooled: Any) -> Any:
    """Reverse-complement-equivariant models (Caduceus-PS, PlantCaduceus) carry the forward strand in the
    first half of the channels and the reverse complement, channel-flipped, in the second: average the
    halves after flipping the second back. Done on the pooled vector (equal to per-token for a mean)."""
    dim = pooled.shape[-1]
    if dim % 2:
        raise ValueError(f"rc_pooling needs an even hidden size, got {dim}")
    return (pooled[..., : dim // 2] + pooled[..., dim // 2 :].flip(-1)) / 2


def padded_width(length: int, batching: str = "bucket") -> int:
    """The width a sequence of ``length`` tokens is computed at: a function of its length alone.

    ``bucket``: at least ``MIN_WIDTH``, exact up to ``EXACT_UP_TO``, then rounded up to a multiple of
    2**(bit_length - 5), i.e. ``WIDTHS_PER_OCTAVE`` widths per doubling (worst case +6.25% tokens, ~3% on
    average). Otherwise exact.
    """
    if batching != "bucket":
        return length
    if length <= EXACT_UP_TO:
        return max(length, MIN_WIDTH)
    step = 1 << (length.bit_length() - WIDTHS_PER_OCTAVE.bit_length())
    return -(-length // step) * step


def token_budget_batches(
    lengths: Sequence[int], budget: int, batching: str = "bucket"
) -> Iterator[tuple[int, list[int]]]:
    """(width, indices) batches: sequences of one padded width, at most ``budget`` padded tokens each.

    Widest first: an out-of-memory shows on the first batch, not after an hour. Within a width the rows keep
    their input order; how many share a batch never changes a row's numbers (only the width does), so the
    budget is free to follow the device. ``per_sequence``, and unpadded widths under ``MIN_WIDTH`` (where
    the number of rows would choose the matmul kernel): one row per batch.
    """
    if batching not in BATCHINGS:
        raise ValueError(f"unknown batching {batching!r}; known: {', '.join(BATCHINGS)}")
    groups: dict[int, list[int]] = {}
    for i, n in enumerate(lengths):
        groups.setdefault(padded_width(n, batching), []).append(i)
    for width in sorted(groups, reverse=True):
        rows = 1 if batching == "per_sequence" or width < MIN_WIDTH else max(1, budget // width)
        members = groups[width]
        for start in range(0, len(members), rows):
            yield width, members[start : start + rows]


def padding_overhead(lengths: Sequence[int], batching: str = "bucket") -> float:
    """Tokens computed / tokens needed under ``batching`` (1.0 = no padding)."""
    return sum(padded_width(n, batching) for n in lengths) / max(1, sum(lengths))


def free_device_memory() -> None:
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


class _OutOfMemory(Exception):
    """Out of memory on ``batch`` (of ``width`` tokens): the plan is restarted at a lower budget."""

    def __init__(self, cause: BaseException, width: int, batch: list[int]) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.width = width
        self.batch = batch


class EmbeddingEngine:
    """Runs a ``forward(ids, mask)`` over token-id lists: batches, pads, backs off, pools, averages windows.

    ``batching`` (``BATCHINGS``) says how rows may share a forward: padded to the width grid (models with a
    mask), equal lengths only (no mask, or a mean that would count padding), or one per forward.
    ``token_budget`` (padded tokens per forward) sets only how many rows of one width share a forward; it is
    halved on out-of-memory and kept (what fitted), and the call that hit the limit starts over.
    """

    def __init__(
        self,
        forward: Forward,
        *,
        pad_id: int,
        device: str,
        pooling: str = "mean",
        rc_pooling: bool = False,
        batching: str = "bucket",
        token_budget: int | None = None,
        progress: bool | None = None,
        limit_note: str = "",
    ) -> None:
        if pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {pooling!r}; known: {', '.join(POOLINGS)}")
        if batching not in BATCHINGS:
            raise ValueError(f"unknown batching {batching!r}; known: {', '.join(BATCHINGS)}")
        self.forward = forward
        self.pad_id = pad_id
        self.device = device
        self.pooling = pooling
        self.rc_pooling = rc_pooling
        self.batching = batching
        # None: the device's default (``default_token_budget``)
        self.token_budget = token_budget if token_budget is not None else default_token_budget(device)
        self.progress = progress
        self.limit_note = limit_note  # how the model's token limit reads in an out-of-memory message
        self.tokens_embedded = 0  # tokens run through the model, for the resources of a result

    def embed_windows(
        self, per_sequence: Sequence[Sequence[list[int]]], sequences: Sequence[str]
    ) -> Embeddings:
        """One row per sequence: its windows embedded, then their unweighted mean (one window: as is)."""
        owner = np.repeat(np.arange(len(per_sequence)), [len(w) for w in per_sequence])
        flat = [ids for windows in per_sequence for ids in windows]
        vectors = self.embed_ids(flat, sequences, owner.tolist())
        if len(flat) == len(per_sequence):
            return vectors
        sums = np.zeros((len(per_sequence), vectors.shape[1]), dtype=np.float64)
        np.add.at(sums, owner, vectors)
        counts = np.bincount(owner, minlength=len(per_sequence))[:, None]
        return (sums / counts).astype(np.float32)

    def embed_ids(self, encoded: list[list[int]], sequences: Sequence[str], owner: list[int]) -> Embeddings:
        """One pooled float32 row per token-id list, each at its own padded width."""
        lengths = [len(ids) for ids in encoded]
        if min(lengths) == 0:
            bad = owner[lengths.index(0)]
            raise ValueError(
                f"the tokenizer produced no tokens for sequence {bad} ({sequences[bad][:20]!r}...)"
            )
        bar = open_progress(len(encoded), self.progress)
        try:
            while True:
                try:
                    vectors = self._embed_plan(encoded, lengths, bar)
                    self.tokens_embedded += sum(lengths)
                    return vectors
                except _OutOfMemory as oom:
                    self._back_off(oom.cause, oom.width, oom.batch)  # lowers the budget, or gives up
                    if bar is not None:
                        bar.reset()
        finally:
            if bar is not None:
                bar.close()

    def _embed_plan(
        self, encoded: list[list[int]], lengths: list[int], bar: ProgressBar | None
    ) -> Embeddings:
        """Every row from one plan at the current budget (out of memory restarts it at a lower one)."""
        out: Embeddings | None = None
        for width, batch in token_budget_batches(lengths, self.token_budget, self.batching):
            try:
                vectors = self._embed_batch(encoded, width, batch)
            except Exception as exc:
                if not is_out_of_memory(exc):
                    raise
                raise _OutOfMemory(exc.with_traceback(None), width, batch) from None  # free the tensors
            if out is None:
                out = np.empty((len(encoded), vectors.shape[1]), dtype=np.float32)
            out[batch] = vectors
            if bar is not None:
                bar.update(len(batch))
        assert out is not None
        return out

    def _back_off(self, exc: BaseException, width: int, batch: list[int]) -> None:
        """Out of memory on ``batch``: halve the token budget (kept for later calls: it is what fits), so the
        caller restarts the plan; a single sequence that does not fit is the model's end here."""
        if len(batch) == 1:
            raise ModelUnavailable(
                f"out of memory on {self.device} embedding a single sequence of {width} tokens{self.limit_note}; "
                "this model does not fit here. Fix: a device with more memory, or a lower token limit with "
                "[max_tokens=N] (a new recipe, recorded)"
            ) from exc
        free_device_memory()
        self.token_budget = max(1, min(self.token_budget, len(batch) * width) // 2)

    def _embed_batch(self, encoded: list[list[int]], width: int, batch: list[int]) -> Embeddings:
        import torch

        ids_np = np.full((len(batch), width), self.pad_id, dtype=np.int64)
        mask_np = np.zeros((len(batch), width), dtype=np.int64)
        for row, i in enumerate(batch):  # right padding: exact for masked and causal models
            ids_np[row, : len(encoded[i])] = encoded[i]
            mask_np[row, : len(encoded[i])] = 1
        with torch.inference_mode():
            ids = torch.from_numpy(ids_np).to(self.device)
            mask = torch.from_numpy(mask_np).to(self.device)
            pooled = pool(self.forward(ids, mask), mask, self.pooling)
            if self.rc_pooling:
                pooled = rc_average(pooled)
            vectors: Embeddings = pooled.float().cpu().numpy()
        return vectors
