"""The model registry: built-in baselines and controls, and resolution of hub ids and local paths.

Declarative: each entry is a ``ModelSpec``; which code builds it is chosen by ``family``. Keys are unique
(checked at import) and are what ``--geneb-model`` and the result files use.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from geneb_bench.models.base import Embedder, ModelSpec

_KMER_SIZES = (2, 3, 4, 5, 6)
_TINY = {"hidden_size": 64, "num_layers": 2, "num_heads": 4, "max_tokens": 512, "seed": 0, "pooling": "mean"}

BUILTIN_MODELS: tuple[ModelSpec, ...] = (
    *(
        ModelSpec(
            key=f"kmer-{k}",
            family="kmer",
            display_name=f"{k}-mer spectrum",
            params=0,
            options={"k": k},
            description=f"normalised {k}-mer frequencies ({4**k} features); k-mers with N are skipped",
            architecture="baseline",
            tokenization=f"{k}-mer",
            pretraining_data="none",
        )
        for k in _KMER_SIZES
    ),
    ModelSpec(
        key="random-bert-tiny",
        family="random-transformer",
        display_name="random BERT (tiny)",
        params=133_632,
        options={"arch": "bert", **_TINY},
        description="untrained 2-layer BERT encoder, character tokens, mask-weighted mean (architecture control)",
        architecture="T-enc (random init)",
        tokenization="character",
        pretraining_data="none",
    ),
    ModelSpec(
        key="random-gpt2-tiny",
        family="random-transformer",
        display_name="random GPT-2 (tiny)",
        params=133_504,
        options={"arch": "gpt2", **_TINY},
        description="untrained 2-layer causal decoder, character tokens, mask-weighted mean (architecture control)",
        architecture="T-dec (random init)",
        tokenization="character",
        pretraining_data="none",
    ),
)

DEFAULT_MODELS: tuple[str, ...] = ("kmer-3", "kmer-6", "random-bert-tiny")

_REGISTRY: dict[str, ModelSpec] = {}
for _spec in BUILTIN_MODELS:
    if _spec.key in _REGISTRY:
        raise RuntimeError(f"duplicate model key in registry: {_spec.key}")
    _REGISTRY[_spec.key] = _spec


def list_models() -> list[ModelSpec]:
    return list(_REGISTRY.values())


def safe_key(text: str) -> str:
    """A key usable in item ids and file names: no path separators, nothing that escapes a directory."""
    cleaned = re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9._+-]+", "__", text)).strip("._")
    return cleaned or "model"


def _local_revision(path: Path) -> str:
    """Fingerprint of a local checkpoint: names, sizes and mtimes of its files (weights are not hashed)."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        stat = file.stat()
        digest.update(f"{file.relative_to(path)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return "local-" + digest.hexdigest()[:16]


def resolve_model(name: str) -> ModelSpec:
    """A registry key, a local checkpoint directory, or a hub id ``org/name[@revision]``."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    path = Path(name).expanduser()
    if name.strip() and path.is_dir():  # "" would be Path("."): never take the working directory as a model
        return ModelSpec(
            key=safe_key(path.resolve().name),
            family="hf",
            display_name=path.name,
            source=str(path.resolve()),
            revision=_local_revision(path),
            description="local checkpoint, generic recipe (AutoModel, mask-weighted mean of the last layer)",
        )
    if re.fullmatch(r"[\w.-]+/[\w.-]+(@[\w./-]+)?", name):
        repo, _, revision = name.partition("@")
        return ModelSpec(
            key=safe_key(repo),
            family="hf",
            display_name=repo,
            source=repo,
            revision=revision or "main",
            description="hub model, generic recipe (AutoModel, mask-weighted mean of the last layer)",
        )
    known = ", ".join(sorted(_REGISTRY))
    raise ValueError(
        f"unknown model {name!r}: not a registry key ({known}), not an existing directory, "
        "and not a hub id of the form org/name[@revision]"
    )


def _build_kmer(spec: ModelSpec, device: str) -> Embedder:
    from geneb_bench.models.kmer import KmerEmbedder

    return KmerEmbedder(int(spec.options["k"]))


def _build_random(spec: ModelSpec, device: str) -> Embedder:
    from geneb_bench.models.random_init import load_random_init

    return load_random_init(spec, device)


def _build_hf(spec: ModelSpec, device: str) -> Embedder:
    from geneb_bench.models.hf import load_pretrained

    return load_pretrained(spec, device)


_BUILDERS: dict[str, Callable[[ModelSpec, str], Embedder]] = {
    "kmer": _build_kmer,
    "random-transformer": _build_random,
    "hf": _build_hf,
}


def build_embedder(spec: ModelSpec, device: str) -> Embedder:
    try:
        builder = _BUILDERS[spec.family]
    except KeyError:
        raise ValueError(f"model {spec.key!r}: unknown family {spec.family!r}") from None
    return builder(spec, device)


def resolve_models(names: Iterable[str]) -> list[ModelSpec]:
    specs = [resolve_model(n) for n in names]
    seen: set[str] = set()
    for spec in specs:
        if spec.key in seen:
            raise ValueError(f"model {spec.key!r} given twice")
        seen.add(spec.key)
    return specs
