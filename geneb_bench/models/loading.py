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

import contextlib
import importlib
import importlib.util
import json
import re
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from geneb_bench.models.base import ModelSpec, ModelUnavailable
from geneb_bench.models.checkpoint_files import check_local_checkpoint, refused_pickle
from geneb_bench.models.hf import HFEmbedder
from geneb_bench.models.recipe import validate_recipe

# How to get the packages some families need; shown in the skip message.
INSTALL_HINTS = {
    "einops": "pip install 'geneb-bench[models]' (or: pip install einops)",
    "mamba_ssm": "pip install mamba-ssm causal-conv1d --no-build-isolation (Linux + CUDA GPU + nvcc only)",
    "flash_attn": "pip install flash-attn --no-build-isolation (Linux + CUDA GPU only)",
    "evo2": "pip install evo2 (CUDA GPU; FP8 layers of the 1B/20B/40B models need Hopper + transformer-engine)",
    "enformer_pytorch": "pip install enformer-pytorch",
    "biofm_eval": "install biofm-eval from the BioFM repository (m42-health)",
    "space": "install the SPACE code from its authors' repository",
}

# Packages whose import succeeds without the compiled extension the model code calls: import that too, so a
# CPU-only build is a skip naming the real cause instead of an error in the middle of a forward pass.
CUDA_EXTENSIONS = {"mamba_ssm": "selective_scan_cuda", "flash_attn": "flash_attn_2_cuda"}


def effective_dtype(recipe_dtype: str, device: str) -> str:
    """The dtype a model really runs in: the recipe's half precision on GPU only; float32 on CPU, where
    bf16/fp16 matmuls are slow (or missing) and only lose accuracy. Part of the embedding cache key."""
    return recipe_dtype if str(device).startswith("cuda") else "float32"


def is_commit(revision: str | None) -> bool:
    """A pinned revision is a full commit hash: branches and tags move under you."""
    return bool(revision and re.fullmatch(r"[0-9a-f]{40}", revision))


def import_problem(module: str) -> str | None:
    """Why ``module`` cannot be used here (None if it imports). Imports it for real: a package that is present
    but broken (a CPU-only ``mamba_ssm``, an ABI mismatch) fails here, not inside the model's code."""
    if importlib.util.find_spec(module) is None:
        return f"{module} not installed"
    try:
        importlib.import_module(module)
    except (
        Exception
    ) as exc:  # any import-time failure (ImportError, OSError of a .so, RuntimeError) is a cause
        return f"{module} installed but its import fails ({type(exc).__name__}: {exc})"
    extension = CUDA_EXTENSIONS.get(module)
    if extension is not None:
        try:
            importlib.import_module(extension)
        except Exception:
            return f"{extension} missing: {module} needs a CUDA build"
    return None


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
    problems = {m: p for m in spec.requires if (p := import_problem(m)) is not None}
    if problems:
        hints = "; ".join(install_hint(m) for m in problems)
        raise ModelUnavailable(f"{spec.key}: {'; '.join(problems.values())}. Fix: {hints}")
    local = Path(spec.source).expanduser().is_dir()
    if spec.options.get("trust_remote_code") and not local and not is_commit(spec.revision):
        raise ModelUnavailable(
            f"{spec.key}: refused to run remote code from {spec.source!r} at revision "
            f"{spec.revision or 'unpinned'}: trust_remote_code executes the repository's Python, so it is "
            "allowed only at a pinned commit. Fix: pass --geneb-trust-remote-code (resolves the branch to its "
            f"commit once and records it in geneb.lock), or --geneb-model {_pinned_form(spec)}, or a local copy "
            "of the checkpoint folder."
        )


class RemoteCodeNotice(UserWarning):
    """Says why a local folder's remote code was allowed to run: its pinned bytes, or the user's opt-in."""


def check_local_remote_code(spec: ModelSpec, folder: Path) -> str | None:
    """Whether the Python in a local checkpoint folder may run; why, in words (None: the folder has none).

    A recipe's ``trust_remote_code`` (every zoo entry's) is written for the published code: ``KEY[path=DIR]``
    must not lend it to whatever ``DIR`` holds. The folder's code runs only when every code file is the
    pinned bytes of the entry's release (``model_files.csv``) or the user opted in
    (``[trust_remote_code=true]``, ``--geneb-trust-remote-code``); anything else is refused naming the file.
    """
    from geneb_bench.models.verify import code_files, foreign_code, origin, release_for, unpinned_code

    if not code_files(folder) and not foreign_code(folder):
        return None
    release = release_for(spec.key) if spec.group == "geneb" else None
    matching, problems = unpinned_code(release, folder)
    if spec.remote_code_opt_in:
        checked = (
            f"{len(problems)} of its code files differ from model_files.csv"
            if release is not None and problems
            else "its code files are not checked against model_files.csv"
            if release is None
            else "its code files match model_files.csv too"
        )
        return f"{spec.key}: remote code in {folder} runs because you allowed it ({spec.remote_code_opt_in}); {checked}"
    if release is not None and not problems:
        return (
            f"{spec.key}: remote code in {folder} runs: its {len(matching)} code file(s) ({', '.join(matching)}) "
            f"match the pinned sha256 of {origin(release)} (model_files.csv)"
        )
    pinned = (
        f"the pinned bytes of {origin(release)} (model_files.csv)"
        if release is not None
        else "pinned bytes (no model_files.csv entry for this model)"
    )
    raise ModelUnavailable(
        f"{spec.key}: refused to run the remote code in {folder}: {'; '.join(problems)}. A local folder's "
        f"Python runs only when its code files are {pinned} or you allow it. Fix: restore the published code "
        f"files, or, once you have reviewed the code, pass --geneb-model {typed_name(spec, 'trust_remote_code=true')} "
        "(or --geneb-trust-remote-code)."
    )


def check_cached_offline(spec: ModelSpec) -> None:
    """Offline, a hub model must be in the hub cache: say so at once, not after transformers' retries."""
    from geneb_bench.hub import OFFLINE_NOT_CACHED, cached_file, offline

    assert spec.source is not None
    if Path(spec.source).expanduser().is_dir() or not offline():
        return
    if cached_file(spec.source, "config.json", spec.revision) is None:
        revision = spec.revision or "main"
        raise ModelUnavailable(
            f"{spec.key}: {spec.source}@{revision}: {OFFLINE_NOT_CACHED}. Fix: where the hub is reachable, "
            f"huggingface-cli download {spec.source} --revision {revision} (then it loads from the hub cache "
            "offline; HF_HOME chooses the cache), or pass a local copy with --geneb-model /path/to/model"
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


def verified_source(spec: ModelSpec) -> str:
    """Where to load ``spec`` from, once its files match ``model_files.csv`` (``models.verify``).

    A zoo model at its published commit is fetched as a snapshot of the files a load reads, checked, and
    loaded from that folder (so what was checked is what runs); a local folder given for a model whose
    weights are not on the hub is checked in place. Anything else (another commit, the user's own copy of
    a hub model, a model outside the zoo) has nothing to be compared with and loads as given.
    """
    from geneb_bench.models.verify import Stamps, default_stamp_path, release_for, verify_folder

    assert spec.source is not None
    release = release_for(spec.key if spec.group == "geneb" else "", spec.source, spec.revision)
    if release is None:
        return spec.source
    folder = Path(spec.source).expanduser()
    if folder.is_dir():
        if not release.on_hub:
            verify_folder(release, folder, Stamps(default_stamp_path()))
        return spec.source
    if not release.on_hub or spec.revision != release.revision:
        return spec.source
    try:
        from huggingface_hub import snapshot_download

        folder = Path(
            snapshot_download(
                spec.source, revision=spec.revision, allow_patterns=[f.name for f in release.needed()]
            )
        )
    except Exception as exc:  # offline without a cache, hub unreachable, gated: a skip
        raise ModelUnavailable(
            f"{spec.key}: cannot fetch {spec.source}@{spec.revision} ({type(exc).__name__}: {exc}). Offline? "
            "Populate the hub cache (huggingface-cli download ...) or pass a local copy with [path=...]."
        ) from exc
    verify_folder(release, folder, Stamps(default_stamp_path()))
    return str(folder)


def prefetch_local_modules(folder: Path) -> None:
    """Copy a local remote-code folder's nested modules into the transformers module cache before loading.

    transformers 4.57 copies only the direct relative imports of a local folder's module but hashes the
    transitive ones, so Evo-1 (``model.py`` -> ``layers.py`` -> ``utils.py``) fails with FileNotFoundError;
    fetching every module its ``auto_map`` names, and each relative import of those, first makes it load.
    """
    from transformers.dynamic_module_utils import (
        get_cached_module_file,
        get_relative_import_files,
        get_relative_imports,
    )

    modules: set[str] = set()
    for name in ("config.json", "tokenizer_config.json"):
        auto_map = _read_json(folder / name).get("auto_map", {})
        for ref in auto_map.values() if isinstance(auto_map, dict) else ():
            for item in ref if isinstance(ref, list) else [ref]:
                if isinstance(item, str) and "--" not in item and "." in item:
                    modules.add(item.rpartition(".")[0] + ".py")
    for module in sorted(m for m in modules if (folder / m).is_file()):
        # a module with relative imports of its own is fetched so that they are copied too; leaves are copied
        # by their importer (fetching them would check their imports, e.g. DNABERT-2's optional triton kernel)
        for file in sorted(Path(f).name for f in get_relative_import_files(str(folder / module))):
            if get_relative_imports(str(folder / file)):
                get_cached_module_file(str(folder), file)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def load_pretrained(spec: ModelSpec, device: str, token_budget: int | None = None) -> HFEmbedder:
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

    remote = bool(recipe["trust_remote_code"])
    if remote and (folder := Path(spec.source).expanduser()).is_dir():  # before anything imports its code
        decision = check_local_remote_code(spec, folder.resolve())
        if decision is not None:
            warnings.warn(decision, RemoteCodeNotice, stacklevel=2)
    check_cached_offline(spec)
    source = verified_source(spec)
    path = Path(source).expanduser()
    local = path.is_dir()
    common: dict[str, Any] = {"revision": None if local else spec.revision, "trust_remote_code": remote}
    dtype = effective_dtype(recipe["dtype"], device)  # CPU: float32, whatever the recipe's GPU dtype
    model_kwargs: dict[str, Any] = {
        # Prefer safetensors: no pickle. On the hub transformers already takes them when present.
        "use_safetensors": True if local and any(path.glob("*.safetensors")) else None,
        # the recipe's half precision on GPU only: the dtype the cache key records (effective_dtype)
        _dtype_argument(): getattr(torch, dtype),
    }
    if local:  # name a broken folder's real problem (tokenizer, config, weights) before transformers does
        check_local_checkpoint(path)
    if local and remote:
        try:
            prefetch_local_modules(path)
        except ImportError as exc:
            raise ModelUnavailable(f"{spec.key}: its modeling code cannot be imported here ({exc})") from exc
        except (OSError, ValueError) as exc:
            raise ModelUnavailable(_load_failure(spec, exc, remote)) from exc
    tokenizer = load_tokenizer(spec, source, common, remote)
    try:
        if recipe["fix"] == "dnabert2":
            model_kwargs["config"] = transformers.BertConfig.from_pretrained(source, **common)
        auto = getattr(transformers, recipe["auto_class"])
        if recipe.get("init") == "random":  # the untrained twin: the same config, fresh weights
            from geneb_bench.models.random_init import untrained_twin

            model, loading = untrained_twin(auto, source, common, model_kwargs.get("config")), {}
        else:
            model, loading = auto.from_pretrained(source, **common, **model_kwargs, output_loading_info=True)
    except ImportError as exc:  # the remote code imports a package that is absent: a skip, never a crash
        raise ModelUnavailable(
            f"{spec.key}: its modeling code cannot be imported here ({exc}). Fix: install the package it names "
            "(families' extras: pip install 'geneb-bench[models]') and list it in the entry's `requires`."
        ) from exc
    except (OSError, ValueError) as exc:
        if local and (why := refused_pickle(path)) is not None:
            raise ModelUnavailable(why) from exc
        raise ModelUnavailable(_load_failure(spec, exc, remote)) from exc
    check_weights_loaded(spec, loading.get("missing_keys", ()))
    if recipe["fix"] == "dnabert2":
        _disable_triton_flash_attention(model)
    if dtype == "float32":  # remote code may build layers in its own dtype: what is recorded is what runs
        model = model.float()
    check_and_repair(model)
    if recipe["input_mode"] == "ids":
        check_vocabulary(spec, model, tokenizer)
    return HFEmbedder(model, tokenizer, recipe=recipe, device=device, token_budget=token_budget)


def _pinned_form(spec: ModelSpec) -> str:
    """The pinned spelling of what the user typed: ``org/name@<commit>[...]`` for a hub id, else ``KEY[...]``."""
    if spec.group == "" and spec.weights == "hub" and spec.source:
        return f"'{spec.source}@<40-hex commit you reviewed>[trust_remote_code=true]'"
    return f"'{spec.key.split('+rev-')[0]}[revision=<40-hex commit you reviewed>]'"


def typed_name(spec: ModelSpec, override: str) -> str:
    """How the user would write ``spec`` with one more override: a path stays a path, a hub id a hub id."""
    if spec.group == "" and spec.source and spec.weights in ("local-dir", "hub"):
        base = spec.source if spec.weights == "local-dir" else f"{spec.source}@<40-hex commit you reviewed>"
        return f"'{base}[{override}]'"
    if spec.weights == "local-dir" and spec.source:
        return f"'{spec.key.split('+')[0]}[path={spec.source},{override}]'"
    return f"'{spec.key}[{override}]'"


def _load_failure(spec: ModelSpec, exc: BaseException, remote: bool) -> str:
    hint = ""
    if "trust_remote_code" in str(exc) and not remote:
        hint = f" It needs remote code: review it, then pass --geneb-model {typed_name(spec, 'trust_remote_code=true')}."
    return (
        f"cannot load {spec.source!r} (revision {spec.revision}): {exc}.{hint} Offline? Pass a local "
        "checkpoint path with --geneb-model /path/to/model, or set HF_HOME to a populated cache."
    )


def _tokenizer_class(source: str) -> str:
    """``tokenizer_class`` of a local folder's ``tokenizer_config.json`` ("" when unknown)."""
    import json

    try:
        data = json.loads((Path(source).expanduser() / "tokenizer_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    return str(data.get("tokenizer_class") or "") if isinstance(data, dict) else ""


def load_tokenizer(spec: ModelSpec, source: str, common: dict[str, Any], remote: bool) -> Any:
    """``AutoTokenizer`` for the checkpoint at ``source``; clashes and missing files become skips naming the fix."""
    import transformers

    assert spec.source is not None
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(source, **common)
    except (AttributeError, ImportError, OSError, ValueError, TypeError) as exc:
        folder = Path(spec.source).expanduser()
        if folder.is_dir() and not any(folder.glob("*token*")) and not any(folder.glob("vocab*")):
            raise ModelUnavailable(
                f"{spec.source!r}: no tokenizer files (tokenizer.json, tokenizer_config.json, vocab.*) in the "
                "folder. Fix: copy the tokenizer files of the checkpoint this model was trained with into it"
            ) from exc
        if isinstance(exc, AttributeError):
            name = _tokenizer_class(spec.source) or "named in tokenizer_config.json"
            raise ModelUnavailable(
                f"{spec.source!r}: tokenizer class {name} resolved to a different class of the same name in "
                f'transformers ({exc}). Fix: give tokenizer_config.json an "auto_map": {{"AutoTokenizer": '
                f'["<module>.{name}", null]}} entry pointing at the checkpoint\'s own tokenization file and '
                f"pass --geneb-model {typed_name(spec, 'trust_remote_code=true')}"
            ) from exc
        if isinstance(exc, ImportError):
            raise ModelUnavailable(
                f"{spec.source!r}: the tokenizer needs a package not installed here: {str(exc).strip()}"
            ) from exc
        raise ModelUnavailable(_load_failure(spec, exc, remote)) from exc
    if isinstance(tokenizer, bool) or not callable(tokenizer):
        raise ModelUnavailable(
            f"{spec.source!r}: AutoTokenizer returned {type(tokenizer).__name__}, not a tokenizer"
        )
    return tokenizer


def check_vocabulary(spec: ModelSpec, model: Any, tokenizer: Any) -> None:
    """Refuse a tokenizer whose ids run past the embedding table, before the first forward.

    Otherwise the first such id fails deep inside the model (``IndexError: index out of range in self``)
    or, on some kernels, reads memory that is not an embedding.
    """
    try:
        table = model.get_input_embeddings()
    except (AttributeError, NotImplementedError):
        return
    rows = getattr(table, "num_embeddings", None)
    if not isinstance(rows, int):
        return
    ids = [int(i) for i in (getattr(tokenizer, "all_special_ids", None) or []) if i is not None]
    with contextlib.suppress(AttributeError, NotImplementedError, TypeError):
        ids += [int(i) for i in tokenizer.get_vocab().values()]
    top = max(ids, default=-1)
    if top >= rows:
        raise ModelUnavailable(
            f"{spec.source!r}: the tokenizer produces ids up to {top} but the model's embedding table has "
            f"{rows} rows: the tokenizer does not belong to this checkpoint (or config.json's vocab_size is "
            "wrong). Fix: use the tokenizer files saved with these weights"
        )


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
