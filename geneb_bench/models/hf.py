"""The generic Hugging Face embedder: tokenise, batch by token budget, forward, pool in float32.

Used by hub models, local checkpoints and the random-initialised architecture controls alike, so the
controls exercise exactly the code path real models take.
"""

from __future__ import annotations

import gc
import inspect
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from geneb_bench.models.base import Embeddings, ModelSpec, ModelUnavailable

POOLINGS = ("mean", "cls", "last", "mean_unmasked")
DEFAULT_TOKEN_BUDGET = 16_384  # padded tokens per forward pass on CPU


def pool(hidden: Any, mask: Any, method: str) -> Any:
    """Pool token states (batch, tokens, dim) to (batch, dim) in float32.

    ``mean`` is the GENEB default: mask-weighted mean over every position whose mask is 1 (special tokens
    included). ``last`` takes the last real token (right padding assumed).
    """
    import torch

    h = hidden.float()
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


def _token_budget_batches(lengths: Sequence[int], budget: int, same_length: bool) -> Iterator[list[int]]:
    """Indices grouped longest-first so that (rows x longest) stays under ``budget`` padded tokens.

    Longest first: an out-of-memory shows on the first batch, not after an hour. ``same_length`` keeps
    models that take no attention mask exact (no padding at all).
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batch: list[int] = []
    for i in order:
        longest = lengths[batch[0]] if batch else lengths[i]
        new_len_differs = same_length and batch and lengths[i] != longest
        if batch and ((len(batch) + 1) * longest > budget or new_len_differs):
            yield batch
            batch = []
        batch.append(i)
    if batch:
        yield batch


class HFEmbedder:
    """Embeds with any ``transformers`` model + tokenizer pair, following a declarative recipe."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        pooling: str = "mean",
        max_tokens: int | None = None,
        device: str = "cpu",
        accepts_mask: bool | None = None,
        token_budget: int = DEFAULT_TOKEN_BUDGET,
    ) -> None:
        if pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {pooling!r}; known: {', '.join(POOLINGS)}")
        self.model = model.eval().to(device)
        self.tokenizer = tokenizer
        self.pooling = pooling
        self.device = device
        self.token_budget = token_budget
        self._forward_args = set(inspect.signature(self.model.forward).parameters)
        self.accepts_mask = "attention_mask" in self._forward_args if accepts_mask is None else accepts_mask
        self.max_tokens = max_tokens or _model_limit(model, tokenizer)

    def _forward(self, input_ids: Any, mask: Any) -> Any:
        kwargs: dict[str, Any] = {"input_ids": input_ids}
        if self.accepts_mask:
            kwargs["attention_mask"] = mask
        if "output_hidden_states" in self._forward_args:
            kwargs["output_hidden_states"] = True
        out = self.model(**kwargs)
        if getattr(out, "last_hidden_state", None) is not None:
            return out.last_hidden_state
        if getattr(out, "hidden_states", None) is not None:
            return out.hidden_states[-1]
        if isinstance(out, tuple):
            return out[0]
        raise TypeError(f"cannot find token states in {type(out).__name__} output")

    def embed(self, sequences: Sequence[str]) -> Embeddings:
        import torch

        if not sequences:
            return np.zeros((0, 0), dtype=np.float32)
        encoded = self.tokenizer(
            list(sequences), truncation=True, max_length=self.max_tokens, add_special_tokens=True
        )["input_ids"]
        lengths = [len(ids) for ids in encoded]
        if min(lengths) == 0:
            bad = lengths.index(0)
            raise ValueError(f"the tokenizer produced no tokens for sequence {bad} ({sequences[bad][:20]!r}...)")
        pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        out: Embeddings | None = None
        with torch.inference_mode():
            for batch in _token_budget_batches(lengths, self.token_budget, not self.accepts_mask):
                width = max(lengths[i] for i in batch)
                ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, i in enumerate(batch):  # right padding: exact for masked and causal models
                    ids[row, : lengths[i]] = torch.tensor(encoded[i])
                    mask[row, : lengths[i]] = 1
                ids, mask = ids.to(self.device), mask.to(self.device)
                pooled = pool(self._forward(ids, mask), mask, self.pooling).cpu().numpy()
                if out is None:
                    out = np.empty((len(sequences), pooled.shape[1]), dtype=np.float32)
                out[batch] = pooled
        assert out is not None
        return out

    def close(self) -> None:
        import torch

        self.model = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def _model_limit(model: Any, tokenizer: Any) -> int | None:
    limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(limit, int) and limit < 1_000_000:
        return limit
    positions = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    return int(positions) if isinstance(positions, int) else None


def load_pretrained(spec: ModelSpec, device: str) -> HFEmbedder:
    """Load a hub id or local checkpoint with ``AutoModel``; remote code only when the recipe allows it."""
    try:
        from transformers import AutoModel, AutoTokenizer
    except ImportError as exc:  # pragma: no cover - transformers is a core dependency
        raise ModelUnavailable(f"transformers is not installed: {exc}") from exc
    if spec.source is None:
        raise ValueError(f"model {spec.key!r}: a Hugging Face model needs a hub id or a local path")
    options: Mapping[str, Any] = spec.options
    remote = bool(options.get("trust_remote_code", False))
    kwargs: dict[str, Any] = {"revision": spec.revision, "trust_remote_code": remote}
    try:
        tokenizer = AutoTokenizer.from_pretrained(spec.source, **kwargs)
        model = AutoModel.from_pretrained(spec.source, use_safetensors=None, **kwargs)
    except (OSError, ValueError) as exc:
        raise ModelUnavailable(
            f"cannot load {spec.source!r} (revision {spec.revision}): {exc}. Offline? Pass a local "
            "checkpoint path with --geneb-model /path/to/model, or set HF_HOME to a populated cache."
        ) from exc
    return HFEmbedder(
        model,
        tokenizer,
        pooling=str(options.get("pooling", "mean")),
        max_tokens=options.get("max_tokens"),
        device=device,
    )
