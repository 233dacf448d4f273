"""Post-load check: no tensor that ``from_pretrained`` does not load may be left wrong.

Why: transformers 5 builds models on the meta device and gives tensors that are not in the checkpoint
empty storage, so non-persistent buffers computed in ``__init__`` (rotary ``inv_freq``, HyenaDNA's ``z``)
come back as garbage (wrong embeddings, no error) and plain tensor attributes (DNABERT-2's ALiBi matrix)
stay on ``meta``. We pin ``transformers<5``, and this check makes the hazard impossible to miss on any
version: it rebuilds a fresh instance of the same class from ``model.config`` on CPU (parameters on
``meta``, so a 7B model costs no weight memory), compares every non-persistent buffer and tensor attribute,
and repairs the ones that differ by copying the freshly computed value. A parameter left on ``meta``
cannot be repaired (its values are in the checkpoint) and raises.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class LoadCheckError(RuntimeError):
    """A loaded model holds tensors that were never initialised and cannot be rebuilt."""


@contextmanager
def _parameters_on_meta() -> Iterator[None]:
    """Register every new parameter on ``meta``: the fresh instance needs its buffers, not its weights."""
    import torch

    original = torch.nn.Module.register_parameter

    def register(module: torch.nn.Module, name: str, param: torch.nn.Parameter | None) -> None:
        original(module, name, param)
        if param is not None and param.device.type != "meta":
            module._parameters[name] = torch.nn.Parameter(param.to("meta"), requires_grad=param.requires_grad)

    torch.nn.Module.register_parameter = register  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        torch.nn.Module.register_parameter = original  # type: ignore[method-assign]


def _fresh_instance(model: Any) -> Any:
    """``type(model)(model.config)`` on CPU, in the model's dtype, without touching the global RNG."""
    import torch

    dtype = getattr(model, "dtype", torch.float32)
    previous = torch.get_default_dtype()
    with torch.random.fork_rng(devices=[]), _parameters_on_meta(), torch.device("cpu"):
        torch.manual_seed(0)
        if dtype.is_floating_point:
            torch.set_default_dtype(dtype)
        try:
            return type(model)(model.config)
        finally:
            torch.set_default_dtype(previous)


def _same(loaded: Any, fresh: Any) -> bool:
    import torch

    if loaded.device.type == "meta" or loaded.shape != fresh.shape:
        return False
    a, b = loaded.detach().cpu(), fresh.detach().cpu()
    if a.is_floating_point() or b.is_floating_point():
        a, b = a.double(), b.double()
        if not torch.isfinite(a).all() and torch.isfinite(b).all():
            return False
        return bool(torch.allclose(a, b, rtol=1e-2, atol=1e-3, equal_nan=True))
    return bool(torch.equal(a, b))


def _tensor_attributes(module: Any) -> dict[str, Any]:
    import torch

    return {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, torch.Tensor) and not isinstance(value, torch.nn.Parameter)
    }


def check_and_repair(model: Any) -> list[str]:
    """Verify (and repair) every tensor ``from_pretrained`` does not load; return the repaired names.

    Raises ``LoadCheckError`` for a parameter on ``meta``. If the fresh instance cannot be built, the
    check cannot vouch for the model: on transformers >= 5 that is an error, below 5 (where the hazard
    does not exist) a warning.
    """
    import transformers

    meta = [name for name, p in model.named_parameters() if p.device.type == "meta"]
    if meta:
        raise LoadCheckError(f"parameters left uninitialised on the meta device after loading: {meta[:5]}")
    try:
        fresh = _fresh_instance(model)
    except Exception as exc:
        message = f"post-load check could not rebuild {type(model).__name__} from its config: {exc}"
        if int(transformers.__version__.split(".")[0]) >= 5:
            raise LoadCheckError(message + " (transformers >= 5 corrupts such models silently)") from exc
        warnings.warn(message, RuntimeWarning, stacklevel=2)
        return []
    fresh_modules = dict(fresh.named_modules())
    repaired: list[str] = []
    for mod_name, module in model.named_modules():
        reference = fresh_modules.get(mod_name)
        if reference is None:
            continue
        prefix = f"{mod_name}." if mod_name else ""
        for name in sorted(module._non_persistent_buffers_set):
            loaded, expected = module._buffers.get(name), reference._buffers.get(name)
            if loaded is None or expected is None or _same(loaded, expected):
                continue
            device = loaded.device if loaded.device.type != "meta" else _model_device(model)
            module._buffers[name] = expected.to(device=device, dtype=expected.dtype)
            repaired.append(prefix + name)
        ref_attrs = _tensor_attributes(reference)
        for name, loaded in _tensor_attributes(module).items():
            expected = ref_attrs.get(name)
            if expected is None:
                if loaded.device.type == "meta":
                    raise LoadCheckError(f"tensor attribute {prefix + name} is on meta and cannot be rebuilt")
                continue
            if _same(loaded, expected):
                continue
            device = loaded.device if loaded.device.type != "meta" else _model_device(model)
            setattr(module, name, expected.to(device=device))
            repaired.append(prefix + name)
    del fresh
    if repaired:
        warnings.warn(
            f"{type(model).__name__}: repaired tensors that loading left wrong: {', '.join(repaired)}",
            RuntimeWarning,
            stacklevel=2,
        )
    return repaired


def _model_device(model: Any) -> Any:
    import torch

    for p in model.parameters():
        return p.device
    return torch.device("cpu")
