"""The generic Hugging Face embedder: pre-process, tokenise, batch by token budget, forward, pool in float32.

Used by the 40 GENEB models, any hub model, local checkpoints and the random-initialised controls alike, so
the controls and the tiny test stand-ins exercise exactly the code path real models take. What differs per
model is a declarative recipe (``geneb_bench.models.recipe``); the few true variants (RC-equivariant
pooling, DNABERT-2's fixes, one-hot inputs) are recipe fields, not subclasses.

transformers is pinned below 5 (pyproject.toml) because version 5 builds models on ``meta`` and silently
corrupts non-persistent buffers and tensor attributes of remote-code DNA models (rotary tables, HyenaDNA's
``z``, DNABERT-2's ALiBi); ``geneb_bench.models.guard`` checks and repairs every loaded model anyway, so a
silently wrong embedding is impossible on any version.
"""

from __future__ import annotations

import gc
import importlib.util
import inspect
import os
import re
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from geneb_bench.models.base import Embeddings, ModelSpec, ModelUnavailable
from geneb_bench.models.recipe import POOLINGS, preprocess, validate_recipe

__all__ = [
    "LONG_INPUT_POLICIES",
    "POOLINGS",
    "HFEmbedder",
    "effective_dtype",
    "is_out_of_memory",
    "load_pretrained",
    "pool",
    "rc_average",
]

# How to get the packages some families need; shown in the skip message.
INSTALL_HINTS = {
    "mamba_ssm": "pip install mamba-ssm causal-conv1d --no-build-isolation (Linux + CUDA GPU + nvcc only)",
    "flash_attn": "pip install flash-attn --no-build-isolation (Linux + CUDA GPU only)",
    "evo2": "pip install evo2 (CUDA GPU; FP8 layers of the 1B/20B/40B models need Hopper + transformer-engine)",
    "enformer_pytorch": "pip install enformer-pytorch",
    "biofm_eval": "install biofm-eval from the BioFM repository (m42-health)",
    "space": "install the SPACE code from its authors' repository",
}
# Padded tokens per forward pass. On CPU 4-8k beat 16k by ~20% on the GUE tasks (activations stay in cache;
# benchmarks/embed_bench.py --budget); larger batches buy nothing once a forward is compute-bound.
DEFAULT_TOKEN_BUDGET = 8_192
LONG_INPUT_POLICIES = ("truncate", "window")  # GENEB truncates; "window" = sliding windows, averaged
PROGRESS_MIN_SEQUENCES = 2_000  # tasks at least this large get a progress bar (when not quiet)


def effective_dtype(recipe_dtype: str, device: str) -> str:
    """The dtype a model really runs in: the recipe's half precision on GPU only; float32 on CPU, where
    bf16/fp16 matmuls are slow (or missing) and only lose accuracy. Part of the embedding cache key."""
    return recipe_dtype if str(device).startswith("cuda") else "float32"


def is_out_of_memory(exc: BaseException) -> bool:
    """A CUDA (or other accelerator / allocator) out-of-memory error, whatever class it arrives as."""
    import torch

    oom = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom is not None and isinstance(exc, oom):
        return True
    return isinstance(exc, RuntimeError | MemoryError) and "out of memory" in str(exc).lower()


def progress_wanted(n_sequences: int, progress: bool | None) -> bool:
    """``True``/``False`` as asked; ``None`` (auto): large tasks only, never under xdist workers or in CI."""
    if progress is not None:
        return progress
    if os.environ.get("PYTEST_XDIST_WORKER") or os.environ.get("CI"):
        return False
    return n_sequences >= PROGRESS_MIN_SEQUENCES


def pool(hidden: Any, mask: Any, method: str) -> Any:
    """Pool token states (batch, tokens, dim) to (batch, dim) in float32.

    ``mean`` is the GENEB default: mask-weighted mean over every position whose mask is 1 (special tokens
    included). ``last`` takes the last real token (right padding assumed).
    """
    import torch

    h = hidden.float()
    if h.ndim != 3 or tuple(h.shape[:2]) != tuple(mask.shape):  # else broadcasting can mix sequences silently
        raise ValueError(f"model output has shape {tuple(h.shape)}; expected (batch, tokens, dim) with "
                         f"(batch, tokens) = {tuple(mask.shape)}: check the recipe's states/submodule")
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
        token_budget: int = DEFAULT_TOKEN_BUDGET,
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
        self.token_budget = token_budget  # halved on out-of-memory and kept: it is what fitted
        self.long_input = "truncate"
        self.configure(long_input=long_input, progress=progress)
        parameters = inspect.signature(self.runner.forward).parameters
        self._forward_args = set(parameters)
        # transformers >= 4.54 passes output_hidden_states through **kwargs on most models
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
            self._forward_args.add("output_hidden_states")
        mask = self.recipe["accepts_mask"]
        self.accepts_mask = "attention_mask" in self._forward_args if mask == "auto" else bool(mask)
        self.max_tokens = int(self.recipe["max_tokens"]) or _model_limit(model, tokenizer)
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
        """Token ids per sequence after the recipe's pre-processing and truncation."""
        texts = [preprocess(s, self.recipe) for s in sequences]
        encoded = self.tokenizer(
            texts,
            truncation=True,
            max_length=self.max_tokens,
            add_special_tokens=bool(self.recipe["add_special_tokens"]),
        )["input_ids"]
        return [list(ids) for ids in encoded]

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
            full = self.tokenizer(texts, add_special_tokens=True, truncation=False, verbose=False)["input_ids"]
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
            per_sequence = self.windows(sequences)
            owner = np.repeat(np.arange(len(sequences)), [len(w) for w in per_sequence])
            flat = [ids for windows in per_sequence for ids in windows]
            vectors = self._embed_ids(flat, sequences, owner.tolist())
            if len(flat) == len(sequences):
                return vectors
            sums = np.zeros((len(sequences), vectors.shape[1]), dtype=np.float64)
            np.add.at(sums, owner, vectors)
            counts = np.bincount(owner, minlength=len(sequences))[:, None]
            return (sums / counts).astype(np.float32)  # the unweighted mean of the window embeddings
        return self._embed_ids(self.encode(sequences), sequences, list(range(len(sequences))))

    def _embed_ids(self, encoded: list[list[int]], sequences: Sequence[str], owner: list[int]) -> Embeddings:
        """One pooled float32 row per token-id list, computed in token-budget batches (see module doc)."""
        lengths = [len(ids) for ids in encoded]
        if min(lengths) == 0:
            bad = owner[lengths.index(0)]
            raise ValueError(f"the tokenizer produced no tokens for sequence {bad} ({sequences[bad][:20]!r}...)")
        # No mask, or a mean that would count padding: only equal lengths share a batch (no padding at all).
        same_length = not self.accepts_mask or self.pooling == "mean_unmasked"
        pending = deque(_token_budget_batches(lengths, self.token_budget, same_length))
        out: Embeddings | None = None
        bar = None
        if progress_wanted(len(encoded), self.progress):
            from tqdm.auto import tqdm

            bar = tqdm(total=len(encoded), desc="embedding", unit="seq", leave=False, mininterval=1.0)
        try:
            while pending:
                batch = pending.popleft()
                try:
                    vectors = self._embed_batch(encoded, lengths, batch)
                except Exception as exc:
                    if not is_out_of_memory(exc):
                        raise
                    pending.extendleft(reversed(self._back_off(exc, lengths, batch, same_length)))
                    continue
                if out is None:
                    out = np.empty((len(encoded), vectors.shape[1]), dtype=np.float32)
                out[batch] = vectors
                if bar is not None:
                    bar.update(len(batch))
        finally:
            if bar is not None:
                bar.close()
        assert out is not None
        return out

    def _back_off(self, exc: BaseException, lengths: list[int], batch: list[int], same_length: bool) -> list[list[int]]:
        """Out of memory on ``batch``: halve the token budget (kept for later batches and calls) and split."""
        width = max(lengths[i] for i in batch)
        if len(batch) == 1:
            raise ModelUnavailable(
                f"out of memory on {self.device} embedding a single sequence of {width} tokens (the model's "
                f"limit is {self.max_tokens}); this model does not fit here. Fix: a device with more memory, "
                "or a lower token limit with [max_tokens=N] (a new recipe, recorded)"
            ) from exc
        self._free_memory()
        self.token_budget = max(1, min(self.token_budget, len(batch) * width) // 2)
        sub = [lengths[i] for i in batch]
        return [[batch[j] for j in part] for part in _token_budget_batches(sub, self.token_budget, same_length)]

    def _embed_batch(self, encoded: list[list[int]], lengths: list[int], batch: list[int]) -> Embeddings:
        import torch

        pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        width = max(lengths[i] for i in batch)
        ids_np = np.full((len(batch), width), pad_id, dtype=np.int64)
        mask_np = np.zeros((len(batch), width), dtype=np.int64)
        for row, i in enumerate(batch):  # right padding: exact for masked and causal models
            ids_np[row, : lengths[i]] = encoded[i]
            mask_np[row, : lengths[i]] = 1
        with torch.inference_mode():
            ids = torch.from_numpy(ids_np).to(self.device)
            mask = torch.from_numpy(mask_np).to(self.device)
            pooled = pool(self._forward(ids, mask), mask, self.pooling)
            if self.recipe["rc_pooling"]:
                pooled = rc_average(pooled)
            vectors: Embeddings = pooled.float().cpu().numpy()
        return vectors

    def _free_memory(self) -> None:
        import torch

        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def close(self) -> None:
        import torch

        self.model = None
        self.runner = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


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


def _model_limit(model: Any, tokenizer: Any) -> int | None:
    limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(limit, int) and limit < 1_000_000:
        return limit
    positions = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    return int(positions) if isinstance(positions, int) else None


def is_commit(revision: str | None) -> bool:
    """A pinned revision is a full commit hash: branches and tags move under you."""
    return bool(revision and re.fullmatch(r"[0-9a-f]{40}", revision))


def missing_packages(spec: ModelSpec) -> list[str]:
    return [name for name in spec.requires if importlib.util.find_spec(name) is None]


def check_loadable(spec: ModelSpec) -> None:
    """Everything that makes a model a skip rather than a crash, before any download or code execution."""
    if spec.source is None:
        if spec.weights == "local":
            raise ModelUnavailable(
                f"{spec.key}: local path required, the weights are not on the hub ({spec.weights_note}). "
                f"Fix: download them and pass --geneb-model '{spec.key}[path=/dir/of/checkpoint]' "
                "(a transformers-format folder), or plug the authors' extractor with "
                "--geneb-model python:module:function."
            )
        raise ValueError(f"model {spec.key!r}: a Hugging Face model needs a hub id or a local path")
    missing = missing_packages(spec)
    if missing:
        hints = "; ".join(INSTALL_HINTS.get(m, f"pip install {m}") for m in missing)
        raise ModelUnavailable(f"{spec.key}: needs {', '.join(missing)}, not installed here. Fix: {hints}")
    local = Path(spec.source).expanduser().is_dir()
    if spec.options.get("trust_remote_code") and not local and not is_commit(spec.revision):
        raise ModelUnavailable(
            f"{spec.key}: refused to run remote code from {spec.source!r} at revision "
            f"{spec.revision or 'unpinned'}: trust_remote_code executes the repository's Python, so it is "
            "allowed only at a pinned commit. Fix: --geneb-model "
            f"'{spec.key}[revision=<40-hex commit you reviewed>]', or a local copy of the checkpoint folder."
        )


def _disable_triton_flash_attention(model: Any) -> None:
    """DNABERT-2 / DNABERT-S: with ``triton`` installed their old flash-attention kernel fails; setting the
    module-level ``flash_attn_qkvpacked_func`` to None selects their PyTorch attention path."""
    module_name = type(model).__module__
    package = module_name.rpartition(".")[0]
    for name, module in list(sys.modules.items()):
        ours = name == module_name or (package and name.startswith(package + "."))
        if ours and getattr(module, "flash_attn_qkvpacked_func", None) is not None:
            setattr(module, "flash_attn_qkvpacked_func", None)  # noqa: B010 - the attribute is dynamic


def load_pretrained(spec: ModelSpec, device: str, token_budget: int = DEFAULT_TOKEN_BUDGET) -> HFEmbedder:
    """Load a hub id or local checkpoint as its recipe says, check it, and wrap it in an ``HFEmbedder``.

    Remote code only when the recipe allows it (and, for hub ids, at a pinned commit); safetensors
    preferred; every loaded model goes through the post-load guard.
    """
    recipe = validate_recipe(spec.options, spec.key)
    check_loadable(spec)
    assert spec.source is not None
    try:
        import torch
        import transformers
    except ImportError as exc:  # pragma: no cover - transformers is a core dependency
        raise ModelUnavailable(f"transformers is not installed: {exc}") from exc
    from geneb_bench.models.guard import check_and_repair

    path = Path(spec.source).expanduser()
    local = path.is_dir()
    remote = bool(recipe["trust_remote_code"])
    common: dict[str, Any] = {"revision": None if local else spec.revision, "trust_remote_code": remote}
    model_kwargs: dict[str, Any] = {
        # Prefer safetensors: no pickle. On the hub transformers already takes them when present.
        "use_safetensors": True if local and any(path.glob("*.safetensors")) else None,
        _dtype_argument(): getattr(torch, recipe["dtype"]),
    }
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(spec.source, **common)
        if recipe["fix"] == "dnabert2":
            model_kwargs["config"] = transformers.BertConfig.from_pretrained(spec.source, **common)
        auto = getattr(transformers, recipe["auto_class"])
        model, loading = auto.from_pretrained(spec.source, **common, **model_kwargs, output_loading_info=True)
    except (OSError, ValueError) as exc:
        hint = ""
        if "trust_remote_code" in str(exc) and not remote:
            hint = f" It needs remote code: review it, then pass '{spec.key}[trust_remote_code=true]' (hub: also a commit)."
        raise ModelUnavailable(
            f"cannot load {spec.source!r} (revision {spec.revision}): {exc}.{hint} Offline? Pass a local "
            "checkpoint path with --geneb-model /path/to/model, or set HF_HOME to a populated cache."
        ) from exc
    check_weights_loaded(spec, loading.get("missing_keys", ()))
    if recipe["fix"] == "dnabert2":
        _disable_triton_flash_attention(model)
    check_and_repair(model)
    return HFEmbedder(model, tokenizer, recipe=recipe, device=device, token_budget=token_budget)


def check_weights_loaded(spec: ModelSpec, missing: Iterable[str]) -> None:
    """Refuse a checkpoint whose weights do not match its architecture.

    transformers initialises such layers at random and only warns, so the run would benchmark noise under
    the model's name. The pooler is exempt: checkpoints trained without it are common and no recipe pools
    through it.
    """
    lost = sorted(k for k in missing if k.split(".")[0] != "pooler" and ".pooler." not in k)
    if lost:
        shown = ", ".join(lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
        raise ModelUnavailable(
            f"{spec.source!r}: {len(lost)} weight tensor(s) of the architecture are not in the checkpoint "
            f"({shown}); transformers would initialise them at random. Wrong auto class or model type in the "
            "recipe, or weights saved from another architecture?"
        )


def _dtype_argument() -> str:
    """``dtype`` since transformers 4.56 (``torch_dtype`` is deprecated there), ``torch_dtype`` before."""
    import transformers

    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    return "dtype" if (major, minor) >= (4, 56) else "torch_dtype"
