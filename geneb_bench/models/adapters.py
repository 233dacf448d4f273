"""Models that are not a transformers checkpoint: the authors' extractor functions, Evo 2, package-served ones.

The GENEB authors' extractor interface is one function ``(sequences, batch_size) -> (n, d) array``; wrapping
it lets an existing extractor run in this harness unchanged (``--geneb-model python:module:function`` or
``python:/path/to/file.py:function``; ``module.py`` in the working directory is found whether or not the
directory is on ``sys.path``, which ``pytest`` and ``geneb run`` do not put there). Its identity includes a
hash of the source file and of the inputs it declares (``GENEB_INPUTS``, ``GENEB_VERSION``:
``models.extractor_inputs``), so editing the extractor or its weights invalidates its cached vectors; files
it reads without declaring them are named in a warning.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from geneb_bench.models.base import Embeddings, ModelSpec, ModelUnavailable

Extractor = Callable[[list[str], int], Any]
DEFAULT_EXTRACTOR_BATCH = 32


def _split_target(target: str) -> tuple[str, str]:
    module, sep, function = target.rpartition(":")
    if not sep or not module or not function.isidentifier():
        raise ValueError(f"extractor {target!r}: expected module:function or /path/file.py:function")
    return module, function


def extractor_target(target: str) -> str:
    """``module:function`` or ``file.py:function``, checked before any run: the file or module exists and
    binds ``function``. A top-level module that is a ``.py`` file in the working directory becomes that
    file's absolute path (found whether or not the directory is on sys.path; every worker loads that file).
    A missing file, module or function is a ``ValueError`` naming it (the import itself happens at load)."""
    typed = target
    module, function = _split_target(target)
    if module.endswith(".py"):
        path = Path(module).expanduser().resolve()
        if not path.is_file():
            raise ValueError(f"extractor {typed!r}: file {path} does not exist")
    else:
        local = Path.cwd() / f"{module.replace('.', '/')}.py"
        found = _find_module(module)
        origin = Path(found.origin).resolve() if found is not None and found.origin else None
        top_level = "." not in module  # a package's module keeps its import (relative imports need it)
        if top_level and local.is_file() and (found is None or origin == local.resolve()):
            path = local.resolve()
            target = f"{path}:{function}"
        elif found is None:
            raise ValueError(
                f"extractor {typed!r}: no module {module!r} on the Python path and no {local}. Fix: run from "
                "the folder that holds it, put it on PYTHONPATH, or pass python:/path/to/file.py:function"
            )
        elif origin is None or origin.suffix != ".py":
            return target  # a namespace package or compiled module: nothing to read, checked at load
        else:
            path = origin
    if not _binds(path, function):
        raise ValueError(
            f"extractor {typed!r}: {path} defines no {function!r} at top level "
            f"(it defines: {', '.join(sorted(_top_level_names(path))) or 'nothing'})"
        )
    return target


def _find_module(module: str) -> importlib.machinery.ModuleSpec | None:
    try:
        return importlib.util.find_spec(module)
    except (ImportError, ValueError):  # a parent package that is missing or broken
        return None


def _top_level_names(path: Path) -> set[str]:
    """Names a module file binds at top level (also inside top-level if/try/with blocks); ``"*"`` when it
    can bind names that cannot be read without running it (``from x import *``, a module ``__getattr__``)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as exc:
        raise ValueError(f"extractor file {path}, line {exc.lineno}: syntax error ({exc.msg})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"extractor file {path}: cannot be read ({exc})") from None
    names: set[str] = set()
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add("*" if node.name == "__getattr__" else node.name)
            continue  # what a function or class binds inside is not the module's
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update("*" if a.name == "*" else a.asname or a.name.split(".")[0] for a in node.names)
        targets: list[ast.AST | None] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.For | ast.AsyncFor):
            targets = [node.target]
        elif isinstance(node, ast.With | ast.AsyncWith):
            targets = [item.optional_vars for item in node.items]
        for target in filter(None, targets):
            names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        for block in ("body", "orelse", "finalbody"):  # if / try / with / for / while at top level
            pending.extend(getattr(node, block, []))
        for handler in getattr(node, "handlers", []):
            pending.extend(handler.body)
    return names


def _binds(path: Path, function: str) -> bool:
    names = _top_level_names(path)
    return function in names or "*" in names


def load_extractor(target: str) -> Extractor:
    """Import ``module:function`` (dotted module on sys.path, or a ``.py`` file path)."""
    module_name, function = _split_target(target)
    if module_name.endswith(".py"):
        path = Path(module_name).expanduser().resolve()
        if not path.is_file():
            raise ModelUnavailable(f"extractor file {path} does not exist")
        name = "geneb_extractor_" + hashlib.sha256(str(path).encode()).hexdigest()[:12]
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ModelUnavailable(f"extractor file {path} cannot be imported")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ModelUnavailable(
                f"extractor module {module_name!r} cannot be imported ({exc}). Fix: put it on PYTHONPATH "
                "or pass python:/path/to/file.py:function"
            ) from exc
    func = getattr(module, function, None)
    if not callable(func):
        where = getattr(module, "__file__", None) or module_name
        raise ModelUnavailable(f"extractor {target!r}: {where} has no callable {function!r}")
    return func  # type: ignore[no-any-return]


def _source_file(target: str) -> Path | None:
    module_name, _ = _split_target(target)
    if module_name.endswith(".py"):
        return Path(module_name).expanduser().resolve()
    found = importlib.util.find_spec(module_name)
    return Path(found.origin).resolve() if found is not None and found.origin else None


def extractor_fingerprint(target: str) -> str:
    """Hash of the extractor's source file and of its declared inputs: a changed extractor, weight file or
    version string gets a new identity (and cache key). Without declared inputs: the source alone."""
    from geneb_bench.models.extractor_inputs import declared_inputs, inputs_digest

    path = _source_file(target)
    if path is None or not path.is_file():
        return "unknown"
    source = hashlib.sha256(path.read_bytes()).hexdigest()
    declared = declared_inputs(path)
    if not declared.paths and declared.version is None:
        return "sha256-" + source[:16]
    return "sha256-" + hashlib.sha256(f"{source}\n{inputs_digest(declared)}".encode()).hexdigest()[:16]


class _Tracked:
    """An extractor called with its file reads recorded, and undeclared ones warned about."""

    def __init__(self, target: str, what: str) -> None:
        from geneb_bench.models.extractor_inputs import Declared, declared_inputs

        self.source = _source_file(target)
        self.declared = declared_inputs(self.source) if self.source and self.source.is_file() else Declared()
        self.what = what

    def __call__(self, call: Callable[..., Any], *args: Any) -> Any:
        from geneb_bench.models.extractor_inputs import track_reads, warn_undeclared

        if self.source is None:
            return call(*args)
        with track_reads() as reads:
            out = call(*args)
        warn_undeclared(reads, self.source, self.declared, self.what)
        return out


class ExtractorEmbedder:
    """Calls the authors' extractor; checks that it returns one finite-typed row per sequence."""

    def __init__(
        self, func: Extractor, batch_size: int = DEFAULT_EXTRACTOR_BATCH, tracked: _Tracked | None = None
    ) -> None:
        self.func = func
        self.batch_size = batch_size
        self.tracked = tracked

    def embed(self, sequences: Sequence[str]) -> Embeddings:
        from geneb_bench.embeddings.engine import free_device_memory, is_out_of_memory

        while True:  # the engine's out-of-memory policy, at the extractor's granularity: halve its batch
            try:
                args = (list(sequences), self.batch_size)
                raw = self.tracked(self.func, *args) if self.tracked is not None else self.func(*args)
                out = np.asarray(raw, dtype=np.float32)
                break
            except Exception as exc:
                if not is_out_of_memory(exc):
                    raise
                if self.batch_size <= 1:
                    raise ModelUnavailable(
                        "the extractor ran out of memory at batch size 1; this model does not fit here"
                    ) from exc
                free_device_memory()
                self.batch_size //= 2
        if out.ndim != 2 or out.shape[0] != len(sequences) or out.shape[1] == 0:
            raise ValueError(
                f"extractor returned shape {out.shape}; expected ({len(sequences)}, d): one row per sequence"
            )
        return out

    def close(self) -> None:
        close = getattr(self.func, "close", None)
        if callable(close):
            close()


def build_extractor(spec: ModelSpec, device: str) -> ExtractorEmbedder:
    if spec.source is None:
        raise ValueError(f"model {spec.key!r}: an extractor needs module:function")
    tracked = _Tracked(spec.source, f"extractor {spec.slot!r}")
    func: Extractor = tracked(load_extractor, spec.source)  # reads at import count too
    kwargs = {"device": device} if "device" in inspect.signature(func).parameters else {}
    if kwargs:
        func = _bind(func, kwargs)
    return ExtractorEmbedder(func, int(spec.options.get("batch_size", DEFAULT_EXTRACTOR_BATCH)), tracked)


def _bind(func: Callable[..., Any], kwargs: dict[str, Any]) -> Extractor:
    def call(sequences: list[str], batch_size: int) -> Any:
        return func(sequences, batch_size, **kwargs)

    return call


# ---- Evo 2: its own package, not transformers ---------------------------------------------------------


class Evo2Embedder:
    """Evo 2 through the ``evo2`` package: mean over positions of one named layer's output.

    The Evo 2 authors recommend an intermediate layer (``blocks.28.mlp.l3`` for 7B) over the last one.
    The model takes no mask, so the engine batches only equal lengths (no padding); it gets the engine's
    token-budget batching and out-of-memory back-off like every other model.
    """

    def __init__(self, model: Any, layer: str, device: str) -> None:
        from geneb_bench.embeddings.engine import EmbeddingEngine

        self.model = model
        self.layer = layer
        self.device = device
        self.engine = EmbeddingEngine(self._forward, pad_id=0, device=device, batching="equal_length")

    def _forward(self, ids: Any, mask: Any) -> Any:
        _, states = self.model(ids.int(), return_embeddings=True, layer_names=[self.layer])
        return states[self.layer]

    def embed(self, sequences: Sequence[str]) -> Embeddings:
        if not sequences:
            return np.zeros((0, 0), dtype=np.float32)
        encoded = [list(self.model.tokenizer.tokenize(seq.upper())) for seq in sequences]
        return self.engine.embed_ids(encoded, sequences, list(range(len(sequences))))

    def close(self) -> None:
        self.model = None


def build_evo2(spec: ModelSpec, device: str) -> Evo2Embedder:
    if importlib.util.find_spec("evo2") is None:
        from geneb_bench.models.loading import INSTALL_HINTS

        raise ModelUnavailable(
            f"{spec.key}: needs the evo2 package, not installed here. Fix: {INSTALL_HINTS['evo2']}"
        )
    evo2 = importlib.import_module("evo2")
    model = evo2.Evo2(str(spec.options["name"]))
    return Evo2Embedder(model, str(spec.options["layer"]), device)


def build_package(spec: ModelSpec, device: str) -> Any:
    """Models served by their own package (SPACE, Enformer, BioFM): a skip with the way to run them."""
    from geneb_bench.models.loading import INSTALL_HINTS

    missing = [m for m in spec.requires if importlib.util.find_spec(m) is None]
    need = (
        f"needs {', '.join(missing)} ({'; '.join(INSTALL_HINTS.get(m, 'pip install ' + m) for m in missing)}) and "
        if missing
        else ""
    )
    raise ModelUnavailable(
        f"{spec.key}: served by its own package, not transformers; {need}its extraction "
        f"({spec.authors_extraction.split(':')[0] or 'the authors extractor'}) is not built in. Fix: run the "
        "authors' extractor unchanged with --geneb-model python:module:function, loading the model in it with "
        f"geneb_bench.models.packages.load_pinned({spec.key!r}) (commit {spec.revision}, files verified)"
    )
