"""What is wrong with a local checkpoint folder, in words, before (or instead of) transformers' own errors.

Why: transformers reports a folder without tokenizer files as "requires the protobuf library", a
``config.json`` holding a list as a ``TypeError``, a truncated ``model.safetensors`` as a bare
``SafetensorError`` and a pickle that ``torch.load(weights_only=True)`` refuses as a TensorFlow problem.
Each check here names the file, the real problem and the fix, as a ``ModelUnavailable`` (the model's items
are skipped with that reason; the other models run).
"""

from __future__ import annotations

import json
from pathlib import Path

from geneb_bench.models.base import ModelUnavailable

__all__ = ["check_local_checkpoint", "refused_pickle"]

# Files from which transformers can build a tokenizer (fast, slow, sentencepiece, remote code).
TOKENIZER_PATTERNS = (
    "tokenizer*.json",
    "vocab*",
    "merges.txt",
    "*.model",
    "special_tokens_map.json",
    "tokenization_*.py",
    "*.tiktoken",
)
PICKLE_WEIGHTS = ("pytorch_model*.bin", "*.pt", "*.pth", "*.ckpt")


def check_local_checkpoint(folder: Path) -> None:
    """Refuse, naming the file and the fix, a folder whose config, tokenizer or safetensors weights are broken."""
    config = folder / "config.json"
    if config.is_file():
        try:
            data = json.loads(config.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}  # not JSON at all: transformers' own message names the file and is clear
        if not isinstance(data, dict):
            raise ModelUnavailable(
                f"'{config}' holds a JSON {type(data).__name__}, not an object of model settings (malformed "
                "config). Fix: restore config.json from the original checkpoint, or write it with "
                "model.config.save_pretrained(folder)"
            )
    if not any(next(folder.glob(pattern), None) for pattern in TOKENIZER_PATTERNS):
        raise ModelUnavailable(
            f"'{folder}' has no tokenizer files (no tokenizer.json, tokenizer_config.json, vocab file or "
            "sentencepiece model). Fix: copy them from the original checkpoint, or save the tokenizer into the "
            "folder with tokenizer.save_pretrained(folder)"
        )
    for weights in sorted(folder.glob("*.safetensors")):
        try:
            from safetensors import safe_open

            with safe_open(str(weights), framework="numpy"):
                pass  # the header and the length it promises are checked on open; no tensor is read
        except Exception as exc:  # SafetensorError (not exported under a stable name)
            raise ModelUnavailable(
                f"'{weights}' is truncated or corrupt ({exc}; {weights.stat().st_size} bytes on disk). Fix: "
                "copy or download it again, and compare its size and sha256 with the source"
            ) from exc


def refused_pickle(folder: Path) -> str | None:
    """Why a pickle-only checkpoint was refused, when it was: ``torch.load(weights_only=True)`` rejects
    pickles that hold more than tensors, because unpickling such objects can execute code."""
    if next(folder.glob("*.safetensors"), None) is not None:
        return None
    import pickle

    import torch

    for pattern in PICKLE_WEIGHTS:
        for weights in sorted(folder.glob(pattern)):
            try:
                torch.load(weights, weights_only=True, map_location="cpu", mmap=True)
            except pickle.UnpicklingError as exc:
                found = [line for line in str(exc).splitlines() if "GLOBAL" in line or "Unsupported" in line]
                what = f" ({found[0].strip()[:200]})" if found else ""
                return (
                    f"'{weights}' is a pickle checkpoint that holds more than tensors{what}; it was refused "
                    "because unpickling it could execute code. Fix: use the checkpoint's safetensors version, "
                    "or, if you trust its source, convert it to model.safetensors in an isolated environment"
                )
            except Exception:  # any other failure is not this diagnosis
                continue
    return None
