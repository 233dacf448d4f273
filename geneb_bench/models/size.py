"""A model's parameter count, measured at run time, so reports can place any model on the scaling plot.

Why here and at run time: a user's model (a local checkpoint, a hub id, a random control) is not in the
published table, and a report must not reload a model to learn its size. The count is recorded in each
result (``ItemResult.n_params``), taken from the first source that knows it:

1. the checkpoint's safetensors headers (a local folder, or the hub cache; never a download): the sum of the
   tensor sizes, read from the headers without loading any weight -- the whole checkpoint, as the hub's
   "model size" counts it, and the same whether or not this run had to load the model (embeddings from the
   cache need no model). The loaded module can be smaller: a HyenaDNA checkpoint holds its LM head
   (33,784 values in the tiny test folder) that ``AutoModel`` leaves out (20,832);
2. the loaded model: the sum of ``numel`` over its parameters (tied weights counted once, as torch does),
   for models without a safetensors checkpoint (random controls, pickled weights);
3. the registry's declared count (``ModelSpec.params``; 0 for k-mer baselines).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from geneb_bench.models.base import ModelSpec


def module_parameters(model: Any) -> int | None:
    """``sum(p.numel())`` over a torch module's parameters; None for anything without ``parameters()``."""
    parameters = getattr(model, "parameters", None)
    if not callable(parameters):
        return None
    try:
        return int(sum(p.numel() for p in parameters()))
    except (TypeError, AttributeError):
        return None


def safetensors_parameters(files: list[Path]) -> int | None:
    """The number of values in the tensors of ``files``, from their headers (no weights are read)."""
    from safetensors import safe_open

    total = 0
    for path in files:
        try:
            with safe_open(str(path), framework="numpy") as handle:
                total += sum(math.prod(handle.get_slice(name).get_shape()) for name in handle.keys())  # noqa: SIM118
        except Exception:  # an unreadable header: the count is unknown, never a failed item
            return None
    return total if files else None


def _weight_files(folder: Path) -> list[Path]:
    """The safetensors files of a checkpoint folder: the shards its index names, else ``*.safetensors``."""
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        try:
            shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return []
        return [folder / name for name in shards]
    return sorted(folder.glob("*.safetensors"))


def _cached_hub_files(repo: str, revision: str | None) -> list[Path]:
    """The safetensors files of a hub model already in the local cache (never downloads)."""
    from geneb_bench.hub import cached_file

    index = cached_file(repo, "model.safetensors.index.json", revision)
    if index is not None:
        return _weight_files(index.parent)
    single = cached_file(repo, "model.safetensors", revision)
    return [single] if single is not None else []


def checkpoint_parameters(spec: ModelSpec) -> int | None:
    """The parameter count from a local folder's or the hub cache's safetensors headers, if there are any."""
    if not spec.source or spec.family not in {"hf"}:
        return None
    folder = Path(spec.source).expanduser()
    files = _weight_files(folder) if folder.is_dir() else _cached_hub_files(spec.source, spec.revision)
    return safetensors_parameters(files)


def parameter_count(spec: ModelSpec, embedder: object | None = None) -> int | None:
    """The model's parameter count: checkpoint headers, else the loaded module, else the registry's figure."""
    counted = checkpoint_parameters(spec)
    if counted is None and embedder is not None:
        counted = module_parameters(getattr(embedder, "model", None))
    if counted is None and spec.params is not None:
        counted = int(spec.params)
    return counted
