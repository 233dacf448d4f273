"""Loading policy for Hugging Face checkpoints: what may load, at which revision, in which dtype, and checks.

Separate from the adapter (``models.hf``): this module decides whether remote code may run (only at a
pinned commit or from a local folder), which packages a family needs, which dtype a device computes in,
and refuses checkpoints whose weights do not match their architecture. Version shims for transformers
live here too.

transformers is pinned below 5 (pyproject.toml) because version 5 builds models on ``meta`` and silently
corrupts non-persistent buffers and tensor attributes of remote-code DNA models (rotary tables, HyenaDNA's
``z``, DNABERT-2's ALiBi); ``geneb_bench.models.guard`` checks and repairs every loaded model anyway, so a
silently wrong embedding is impossible on any version.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from geneb_bench.embeddings.engine import DEFAULT_TOKEN_BUDGET
from geneb_bench.models.base import ModelSpec, ModelUnavailable
from geneb_bench.models.hf import HFEmbedder
from geneb_bench.models.recipe import validate_recipe

# How to get the packages some families need; shown in the skip message.
INSTALL_HINTS = {
    "mamba_ssm": "pip install mamba-ssm causal-conv1d --no-build-isolation (Linux + CUDA GPU + nvcc only)",
    "flash_attn": "pip install flash-attn --no-build-isolation (Linux + CUDA GPU only)",
    "evo2": "pip install evo2 (CUDA GPU; FP8 layers of the 1B/20B/40B models need Hopper + transformer-engine)",
    "enformer_pytorch": "pip install enformer-pytorch",
    "biofm_eval": "install biofm-eval from the BioFM repository (m42-health)",
    "space": "install the SPACE code from its authors' repository",
}


def effective_dtype(recipe_dtype: str, device: str) -> str:
    """The dtype a model really runs in: the recipe's half precision on GPU only; float32 on CPU, where
    bf16/fp16 matmuls are slow (or missing) and only lose accuracy. Part of the embedding cache key."""
    return recipe_dtype if str(device).startswith("cuda") else "float32"


def is_commit(revision: str | None) -> bool:
    """A pinned revision is a full commit hash: branches and tags move under you."""
    return bool(revision and re.fullmatch(r"[0-9a-f]{40}", revision))


def missing_packages(spec: ModelSpec) -> list[str]:
    return [name for name in spec.requires if importlib.util.find_spec(name) is None]


def install_hint(module: str) -> str:
    return INSTALL_HINTS.get(module, f"pip install {module}")


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
        hints = "; ".join(install_hint(m) for m in missing)
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
