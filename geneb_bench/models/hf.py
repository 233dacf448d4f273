"""The Hugging Face adapter: recipe pre-processing, tokenisation and a ``forward(ids, mask)`` for the engine.

Used by the 40 GENEB models, any hub model, local checkpoints and the random-initialised controls alike, so
the controls and the tiny test stand-ins exercise exactly the code path real models take. What differs per
model is a declarative recipe (``geneb_bench.models.recipe``); the few true variants (RC-equivariant
pooling, DNABERT-2's fixes, one-hot inputs) are recipe fields, not subclasses. Batching, padding,
out-of-memory back-off, windows and pooling are the engine's (``geneb_bench.embeddings.engine``); which
checkpoints may load, and how, is ``geneb_bench.models.loading``.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from geneb_bench.embeddings.engine import (
    LONG_INPUT_POLICIES,
    POOLINGS,
    EmbeddingEngine,
    default_token_budget,
    free_device_memory,
)
from geneb_bench.embeddings.health import TokenCounter, TokenStats, safe_char_bound
from geneb_bench.models.base import Embeddings
from geneb_bench.models.recipe import preprocess, validate_recipe

__all__ = ["HFEmbedder", "effective_limit"]

# Config fields holding a checkpoint's position limit, across families (BERT, HyenaDNA, GPT-2).
CONFIG_LIMITS = ("max_position_embeddings", "max_seq_len", "n_positions")
ENCODE_CHUNK = 256  # sequences tokenised at once: bounds the tokenizer's peak memory on long inputs


class HFEmbedder:
    """Embeds with any ``transformers`` model + tokenizer pair, following a declarative recipe.

    Keyword arguments override the recipe's fields of the same meaning (kept for direct use in tests and
    the random-init controls).
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        recipe: Mapping[str, Any] | None = None,
        pooling: str | None = None,
        max_tokens: int | None = None,
        device: str = "cpu",
        accepts_mask: bool | None = None,
        token_budget: int | None = None,
        long_input: str = "truncate",
        progress: bool | None = None,
    ) -> None:
        options = dict(recipe or {})
        if pooling is not None:
            if pooling not in POOLINGS:
                raise ValueError(f"unknown pooling {pooling!r}; known: {', '.join(POOLINGS)}")
            options["pooling"] = pooling
        if max_tokens:
            options["max_tokens"] = int(max_tokens)
        if accepts_mask is not None:
            options["accepts_mask"] = accepts_mask
        self.recipe = validate_recipe(options)
        self.model = model.eval().to(device)
        self.runner = _submodule(self.model, self.recipe["submodule"])
        self.tokenizer = tokenizer
        self.pooling = str(self.recipe["pooling"])
        self.device = device
        self.long_input = "truncate"
        self.configure(long_input=long_input, progress=progress)
        parameters = inspect.signature(self.runner.forward).parameters
        self._forward_args = set(parameters)
        # transformers >= 4.54 passes output_hidden_states through **kwargs on most models
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
            self._forward_args.add("output_hidden_states")
        mask = self.recipe["accepts_mask"]
        self.accepts_mask = "attention_mask" in self._forward_args if mask == "auto" else bool(mask)
        self.max_tokens, self.limit_source = effective_limit(int(self.recipe["max_tokens"]), model, tokenizer)
        self.char_bound = safe_char_bound(tokenizer, self.recipe, self.max_tokens)
        self.last_stats: TokenStats | None = None  # of the last ``embed`` call: unknown tokens, truncation
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        if token_budget is None:  # the device's default for a model of this width
            token_budget = default_token_budget(device, _width(model))
        # No mask, or a mean that would count padding: only equal lengths share a batch (no padding).
        padded_ok = self.accepts_mask and self.pooling != "mean_unmasked"
        batching = str(self.recipe["batching"])
        if batching == "auto":
            batching = "bucket" if padded_ok else "equal_length"
        elif batching == "bucket" and not padded_ok:
            raise ValueError(
                "recipe batching = 'bucket' needs a model that takes an attention mask and a masked pooling"
            )
        self.engine = EmbeddingEngine(
            lambda ids, mask: self._forward(ids, mask),  # looked up per call: tests wrap ``_forward``
            pad_id=int(pad_id),
            device=device,
            pooling=self.pooling,
            rc_pooling=bool(self.recipe["rc_pooling"]),
            batching=batching,
            token_budget=token_budget,
            progress=self.progress,
            limit_note=f" (the model's limit is {self.max_tokens})",
        )
        self._hidden_states = self.recipe["states"] == "hidden_states"
        if self._hidden_states and "output_hidden_states" not in self._forward_args:
            raise ValueError("recipe asks for hidden_states but forward() takes no output_hidden_states")
        if getattr(tokenizer, "truncation_side", "right") != "right":
            tokenizer.truncation_side = "right"  # GENEB truncates the tail: keep the first max_tokens

    def configure(self, *, long_input: str | None = None, progress: bool | None = None) -> None:
        """Session-level settings: long-input policy and progress bar (None = auto)."""
        if long_input is not None:
            if long_input not in LONG_INPUT_POLICIES:
                raise ValueError(f"long_input {long_input!r}; known: {', '.join(LONG_INPUT_POLICIES)}")
            self.long_input = long_input
        self.progress = progress
        if hasattr(self, "engine"):
            self.engine.progress = progress

    @property
    def token_budget(self) -> int:
        """Padded tokens per forward; halved on out-of-memory and kept (the engine's)."""
        return self.engine.token_budget

    @token_budget.setter
    def token_budget(self, value: int) -> None:
        self.engine.token_budget = value

    def _inputs(self, ids: Any) -> Any:
        if self.recipe["input_mode"] != "one_hot":
            return ids
        import torch

        vocab = getattr(getattr(self.model, "config", None), "vocab_size", None) or len(self.tokenizer)
        dtype = next((p.dtype for p in self.runner.parameters()), torch.float32)
        return torch.nn.functional.one_hot(ids, int(vocab)).to(dtype)

    def _forward(self, input_ids: Any, mask: Any) -> Any:
        kwargs: dict[str, Any] = {"input_ids": self._inputs(input_ids)}
        if self.accepts_mask:
            kwargs["attention_mask"] = mask
        if self._hidden_states:
            kwargs["output_hidden_states"] = True
        out = self.runner(**kwargs)
        states = self.recipe["states"]
        if states == "tuple0":
            return out[0]
        if states == "hidden_states":
            return out.hidden_states[int(self.recipe["layer"])]
        if getattr(out, "last_hidden_state", None) is not None:
            return out.last_hidden_state
        if getattr(out, "hidden_states", None) is not None:
            return out.hidden_states[-1]
        if isinstance(out, tuple):
            return out[0]
        if "output_hidden_states" in self._forward_args and not self._hidden_states:
            self._hidden_states = True  # a wrapper (logits first): ask for the hidden states from now on
            return self._forward(input_ids, mask)
        raise TypeError(f"cannot find token states in {type(out).__name__} output")

    def encode(self, sequences: Sequence[str]) -> list[list[int]]:
        """Token ids per sequence after the recipe's pre-processing and truncation.

        Long inputs are cut on characters first where the tokenizer makes that exact (``char_bound``) and
        tokenised in chunks, so peak memory follows the token limit, not the total sequence length.
        Unknown tokens and truncation are counted into ``last_stats``.
        """
        special = bool(self.recipe["add_special_tokens"])
        counter = TokenCounter(self.tokenizer, self.max_tokens, self.limit_source, special)
        out: list[list[int]] = []
        for start in range(0, len(sequences), ENCODE_CHUNK):
            chunk = sequences[start : start + ENCODE_CHUNK]
            cut = [s[: self.char_bound] if self.char_bound else s for s in chunk]
            texts = [preprocess(s, self.recipe) for s in cut]
            kwargs: dict[str, Any] = {"add_special_tokens": special}
            if self.max_tokens:
                kwargs.update(truncation=True, max_length=self.max_tokens)
            encoded = [list(ids) for ids in self.tokenizer(texts, **kwargs)["input_ids"]]
            counter.add(encoded, texts, [len(s) for s in chunk], [len(s) for s in cut])
            out.extend(encoded)
        self.last_stats = counter.stats()
        return out

    def windows(self, sequences: Sequence[str]) -> list[list[list[int]]]:
        """Token ids of every window per sequence (long-input policy ``window``).

        The content tokens (no special tokens) are cut into consecutive, non-overlapping windows of
        ``max_tokens`` minus the special tokens; each window gets the special tokens back. The first window
        is exactly what ``encode`` (truncation) gives; a sequence within the limit is one window.
        """
        if not self.max_tokens:
            return [[ids] for ids in self.encode(sequences)]
        texts = [preprocess(s, self.recipe) for s in sequences]
        special = bool(self.recipe["add_special_tokens"])
        raw = self.tokenizer(texts, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
        full = raw
        if special:  # the special tokens this tokenizer puts around a sequence (any template), from itself
            full = self.tokenizer(texts, add_special_tokens=True, truncation=False, verbose=False)[
                "input_ids"
            ]
        counter = TokenCounter(self.tokenizer, 0, self.limit_source, special)  # windows: nothing is cut
        counter.add(
            [list(ids) for ids in full], texts, [len(s) for s in sequences], [len(s) for s in sequences]
        )
        self.last_stats = counter.stats()
        out = []
        for content, wrapped in zip(raw, full, strict=True):
            content, wrapped = list(content), list(wrapped)
            start = _find(wrapped, content)
            prefix, suffix = wrapped[:start], wrapped[start + len(content) :]
            room = self.max_tokens - len(prefix) - len(suffix)
            if room < 1:
                raise ValueError(f"token limit {self.max_tokens} leaves no room next to the special tokens")
            chunks = [content[i : i + room] for i in range(0, max(len(content), 1), room)]
            out.append([prefix + chunk + suffix for chunk in chunks])
        return out

    def embed(self, sequences: Sequence[str]) -> Embeddings:
        if not sequences:
            return np.zeros((0, 0), dtype=np.float32)
        if self.long_input == "window":
            return self.engine.embed_windows(self.windows(sequences), sequences)
        return self.engine.embed_ids(self.encode(sequences), sequences, list(range(len(sequences))))

    def close(self) -> None:
        self.model = None
        self.runner = None
        free_device_memory()


def _width(model: Any) -> int | None:
    """The model's hidden size from its config (BERT, T5-style and GPT-2 names), None when it has none."""
    config = getattr(model, "config", None)
    for name in ("hidden_size", "d_model", "n_embd"):
        value = getattr(config, name, None)
        if isinstance(value, int):
            return value
    return None


def _find(haystack: list[int], needle: list[int]) -> int:
    """Where the content tokens sit inside the tokens with specials (0 when there are none)."""
    for start in range(len(haystack) - len(needle) + 1):
        if haystack[start : start + len(needle)] == needle:
            return start
    raise ValueError("the special-token template changes the content tokens: window policy not supported")


def _submodule(model: Any, name: str) -> Any:
    """The child the recipe names (``bert`` of a BertForMaskedLM); a base model already is that child."""
    if not name:
        return model
    if hasattr(model, name):
        return getattr(model, name)
    if getattr(model, "base_model_prefix", None) == name:
        return model
    raise ValueError(f"{type(model).__name__} has no submodule {name!r}")


def effective_limit(recipe_limit: int, model: Any, tokenizer: Any) -> tuple[int, str]:
    """The smaller of the recipe's token limit and the checkpoint's own, and where it comes from.

    A recipe written for a long-context release (HyenaDNA 160k) must not push a 1k checkpoint past its
    position table: that fails deep inside the model, or worse, indexes garbage.
    """
    config = getattr(model, "config", None)
    limits: list[tuple[int, str]] = []
    if recipe_limit:
        limits.append((recipe_limit, "recipe max_tokens"))
    for name in CONFIG_LIMITS:
        value = getattr(config, name, None)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            limits.append((value, f"config {name}"))
    value = getattr(tokenizer, "model_max_length", None)
    if isinstance(value, int) and 0 < value < 1_000_000:  # transformers' "no limit" is ~1e30
        limits.append((value, "tokenizer model_max_length"))
    if not limits:
        return 0, "none"
    return min(limits, key=lambda item: item[0])
