"""The model registry: the 40 GENEB models, built-in baselines and controls, and resolution of anything else.

Declarative: each entry is a ``ModelSpec``; which code builds it is chosen by ``family``. Both are open:
``register_model(spec)`` adds a model, ``@register_family(name)`` (or an entry point in group
``geneb_bench.models``) adds the code that builds a family's embedders (docs/extending.md). Keys are unique
(checked at registration) and are what ``--geneb-model`` and the result files use. A name resolves as:

- a registry key (the GENEB leaderboard keys, ``kmer-3``, ...) or the hub id a registry entry's weights come
  from (``PoetschLab/GROVER`` is ``GROVER``: its recipe, pin and published row; case ignored), optionally at
  another revision ``KEY@rev`` / ``org/name@rev`` (key ``KEY+rev-<rev>``: two revisions never share a cache
  entry, a result file or a table row), and with overrides ``KEY[field=value,...]``: recipe fields (a changed
  recipe gets a new key, so its results never pass for the authors' recipe), ``trust_remote_code=true`` (the
  user's explicit opt-in), ``revision=<commit>`` (as ``@``), ``path=/dir`` (weights from a local folder: key
  ``KEY+local-<hash>``, a local variant, not the official model), ``name=my-dna-bert`` (the model's *slot*:
  what tables, the release gate, figures and submissions call it; not part of its identity);
- ``python:module:function`` (a module on the Python path or ``module.py`` in the working directory) or
  ``python:/path/file.py:function``: the authors' extractor interface;
- a local checkpoint directory (key ``parent__name-<content hash>``, named after its folder unless given a
  ``[name=]``), or any other hub id ``org/name[@revision]``: a default recipe from its config.

A model's key and content hash stay in its identity (cache, provenance); its name is its slot, so retrained
weights in the same folder keep their name and meet their baseline (docs/identity.md).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from geneb_bench.extension import Registry
from geneb_bench.hub import cached_file
from geneb_bench.io import safe_key
from geneb_bench.models.base import Embedder, ModelSpec
from geneb_bench.models.recipe import SOURCE_OVERRIDES, default_recipe, split_overrides, validate_recipe
from geneb_bench.models.zoo import geneb_models

_KMER_SIZES = (2, 3, 4, 5, 6)
_TINY = {"hidden_size": 64, "num_layers": 2, "num_heads": 4, "max_tokens": 512, "seed": 0, "pooling": "mean"}

BASELINE_MODELS: tuple[ModelSpec, ...] = (
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
            group="baseline",
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
        group="baseline",
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
        group="baseline",
    ),
)

EXTRA_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        key="evo2-7b",
        family="evo2",
        display_name="Evo 2 7B",
        params=7_000_000_000,
        source="arcinstitute/evo2_7b",
        options={"name": "evo2_7b", "layer": "blocks.28.mlp.l3"},
        description="not in GENEB; its own evo2 package; the authors' recommended intermediate layer, mean",
        architecture="StripedHyena 2",
        tokenization="SN (byte/char)",
        pretraining_data="multi-species (OpenGenome2)",
        group="extra",
        weights="package",
        requires=("evo2",),
    ),
)

BUILTIN_MODELS: tuple[ModelSpec, ...] = (*BASELINE_MODELS, *geneb_models(), *EXTRA_MODELS)

DEFAULT_MODELS: tuple[str, ...] = ("kmer-3", "kmer-6", "random-bert-tiny")


# What the cheap control beside a user's model is (added unless --geneb-no-controls), and the override that
# makes the untrained twin of a user's Hugging Face model (same config and tokenizer, weights re-initialised).
CONTROL_MODEL = "kmer-3"
TWIN_OVERRIDE = "init=random"
TWIN_KEY_PART = "+init-random"


def model_sets() -> dict[str, tuple[str, ...]]:
    """The names that stand for several models: ``baselines`` (the default set), ``controls`` (every
    built-in baseline and architecture control), ``zoo`` (the 40 GENEB models, in leaderboard order)."""
    return {
        "baselines": DEFAULT_MODELS,
        "controls": tuple(s.key for s in BASELINE_MODELS),
        "zoo": tuple(s.key for s in BUILTIN_MODELS if s.group == "geneb"),
    }


def expand_model_names(names: Iterable[str]) -> tuple[str, ...]:
    """``baselines``, ``controls`` and ``zoo`` stand for their sets (``model_sets``); duplicates are
    dropped, order kept."""
    sets = model_sets()
    expanded: list[str] = []
    for name in names:
        expanded.extend(sets.get(name, (name,)))
    return tuple(dict.fromkeys(expanded))


def with_controls(names: Sequence[str]) -> tuple[str, ...]:
    """``names`` (the user's models) followed by the cheap control when none of them is a built-in
    baseline already: a first table always has something to beat."""
    controls = set(model_sets()["controls"])
    if any(n in controls for n in names):
        return tuple(names)
    return (*names, CONTROL_MODEL)


def twin_of(key: str) -> str | None:
    """The model key an untrained twin's results belong to (``X+init-random`` -> ``X``), or None."""
    return key.replace(TWIN_KEY_PART, "", 1) if TWIN_KEY_PART in key else None


_REGISTRY: dict[str, ModelSpec] = {}
for _spec in BUILTIN_MODELS:
    if _spec.key in _REGISTRY:
        raise RuntimeError(f"duplicate model key in registry: {_spec.key}")
    _REGISTRY[_spec.key] = _spec


def list_models() -> list[ModelSpec]:
    return list(_REGISTRY.values())


_LOCAL_DIGESTS: dict[str, str] = {}  # resolved folder + file stats -> content digest, this process


def _identity_files(path: Path) -> list[Path]:
    """The files that make a checkpoint: everything but hidden files and Python caches."""
    return sorted(
        p
        for p in path.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(path).parts)
    )


def _digest_store() -> Path:
    import os

    from platformdirs import user_cache_dir

    return Path(os.environ.get("GENEB_CACHE_DIR") or user_cache_dir("geneb-bench")) / "local-checkpoints.json"


def _local_digest(path: Path) -> str:
    """sha256 over a local checkpoint's file names and contents (config, code, tokenizer, weights).

    Content, not modification times: a copy is the same model, a retrained one in the same folder is not.
    Hashing weights costs a pass over them, so the digest is kept (in-process and in the user cache,
    keyed by the files' paths, sizes and mtimes) and computed once per checkpoint version.
    """
    from geneb_bench.io import atomic_write_text

    folder = path.resolve()
    files = _identity_files(folder)
    stats = [[str(f.relative_to(folder)), f.stat().st_size, f.stat().st_mtime_ns] for f in files]
    memo = hashlib.sha256(json.dumps([str(folder), stats]).encode()).hexdigest()
    if memo in _LOCAL_DIGESTS:
        return _LOCAL_DIGESTS[memo]
    store = _digest_store()
    try:
        known = json.loads(store.read_text(encoding="utf-8"))
        known = known if isinstance(known, dict) else {}
    except (OSError, ValueError):
        known = {}
    digest = known.get(memo)
    if not isinstance(digest, str):
        content = hashlib.sha256()
        for file in files:
            with file.open("rb") as handle:
                content.update(f"{file.relative_to(folder)}\n".encode())
                content.update(hashlib.file_digest(handle, "sha256").digest())
        digest = content.hexdigest()
        known[memo] = digest
        with contextlib.suppress(OSError):  # a read-only cache only costs a re-hash next time
            atomic_write_text(store, json.dumps(known, indent=0, sort_keys=True) + "\n")
    _LOCAL_DIGESTS[memo] = digest
    return digest


def _local_revision(path: Path) -> str:
    """Identity of a local checkpoint: a hash of its contents (see ``_local_digest``)."""
    return "local-" + _local_digest(path)[:16]


def _local_key(path: Path) -> str:
    """Readable and unique: ``parent__name-<8 hex of the content>``, so two folders named ``model`` differ."""
    folder = path.resolve()
    return safe_key(f"{folder.parent.name}/{folder.name}-{_local_digest(folder)[:8]}")


def _local_name(path: Path, suffix: str = "") -> str:
    """A local checkpoint's default slot: its folder's name (``+local`` when that is a registry key, which
    would pass it off as the published model), plus any changed recipe fields."""
    folder = path.resolve().name
    taken = folder.lower() in {k.lower() for k in _REGISTRY}
    return f"{folder}{'+local' if taken else ''}{suffix}"


_NAME = re.compile(r"(?:^|,)\s*name\s*=\s*([^,]*?)\s*(?:,|$)")


def _take_name(name: str, overrides: dict[str, Any]) -> str:
    """The ``[name=...]`` override as typed (not parsed as a number), checked; "" when absent."""
    if "name" not in overrides:
        return ""
    del overrides["name"]
    body = name.strip().partition("[")[2].rpartition("]")[0]
    match = _NAME.search(body)
    given = match.group(1) if match else ""
    if not given or "@" in given or not given.isprintable():
        raise ValueError(
            f"model {name!r}: name={given!r} is not a name. Fix: a non-empty printable name without '@' (which "
            "marks two identities under one name), e.g. [name=my-dna-bert]"
        )
    return given


def _read_config(path: Path | None) -> dict[str, Any]:
    if path is None or not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _extractor_spec(target: str) -> ModelSpec:
    from geneb_bench.models.adapters import DEFAULT_EXTRACTOR_BATCH, extractor_fingerprint, extractor_target

    target = extractor_target(target)  # a file in the working directory becomes its absolute path
    module, _, function = target.rpartition(":")
    label = Path(module).stem if module.endswith(".py") else module
    return ModelSpec(
        key=safe_key(f"python-{label}-{function}"),
        family="extractor",
        display_name=f"{label}:{function}",
        source=target,
        revision=extractor_fingerprint(target),
        options={"batch_size": DEFAULT_EXTRACTOR_BATCH},
        description="the authors' extractor interface: function(sequences, batch_size) -> (n, d) array",
        weights="extractor",
    )


def _apply_overrides(spec: ModelSpec, overrides: Mapping[str, Any], name: str) -> ModelSpec:
    """``KEY[field=value,...]``: see the module docstring for what each kind of field does."""
    if not overrides:
        return spec
    options = {k: v for k, v in overrides.items() if k not in SOURCE_OVERRIDES}
    if spec.family == "hf":
        merged = validate_recipe({**spec.options, **options}, f"model {name!r}")
    else:
        unknown = sorted(set(options) - set(spec.options))
        if unknown:
            raise ValueError(f"model {name!r}: {spec.family} models take no override {unknown}")
        for field, value in options.items():
            _check_type(name, field, value, spec.options[field])
        merged = {**spec.options, **options}
    changed = sorted(
        (k, v) for k, v in options.items() if k != "trust_remote_code" and spec.options.get(k) != v
    )
    key = safe_key(spec.key + "".join(f"+{k}-{v}" for k, v in changed)) if changed else spec.key
    source, revision, weights = spec.source, spec.revision, spec.weights
    suffix = key[len(spec.key) :]  # the changed recipe fields, "+field-value..."
    local_name = f"{spec.name}{suffix}" if spec.name else ""
    if "path" in overrides:
        folder = Path(str(overrides["path"])).expanduser()
        if not folder.is_dir():
            raise ValueError(f"model {name!r}: path {folder} is not a directory")
        source, revision, weights = str(folder.resolve()), _local_revision(folder), "local-dir"
        key = f"{key}+local-{_local_digest(folder)[:8]}"  # a local variant, never the official model's key
        local_name = _local_name(folder, suffix)
    opt_in = (
        "[trust_remote_code=true]" if overrides.get("trust_remote_code") is True else spec.remote_code_opt_in
    )
    replaced = dataclasses.replace(
        spec,
        key=key,
        options=merged,
        source=source,
        revision=revision,
        weights=weights,
        name=local_name,
        remote_code_opt_in=opt_in,
    )
    if "revision" in overrides:
        return _at_revision(replaced, str(overrides["revision"]), name)
    return replaced


def _check_type(name: str, field: str, value: Any, default: Any) -> None:
    """An override has its default's type (an int where a float goes is fine): ``kmer-3[k=abc]`` is a
    command-line error, not a failure of every item of the model."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    ok = {
        bool: isinstance(value, bool),
        int: number and isinstance(value, int),
        float: number,
        str: isinstance(value, str),
    }.get(type(default), True)
    if not ok:
        raise ValueError(
            f"model {name!r}: {field}={value!r} is not {type(default).__name__} (the default is {default!r}). "
            f"Fix: e.g. {name.partition('[')[0]}[{field}={default}]"
        )


def _looks_like_path(name: str) -> bool:
    """``./x``, ``../x``, ``~/x`` or a name whose parent folder exists: meant as a folder, not a hub id."""
    if name.startswith(("./", "../", "~/", ".\\", "..\\")) or name in {".", ".."}:
        return True
    parent = Path(name).expanduser().parent
    return "/" in name and str(parent) not in {"", "."} and parent.is_dir()


def resolve_model(name: str) -> ModelSpec:
    """A registry key, ``python:module:function``, a local checkpoint directory, or a hub id
    ``org/name[@revision]``; any of them with ``[field=value,...]`` overrides."""
    base, overrides = split_overrides(name)
    given = _take_name(name, overrides)
    spec, revision = _resolve_base(base)
    if revision is not None:  # NAME@rev is NAME[revision=rev]: one spelling, one key
        if overrides.get("revision", revision) != revision:
            raise ValueError(f"model {name!r}: two revisions ({revision!r} and {overrides['revision']!r})")
        overrides = {**overrides, "revision": revision}
    spec = _apply_overrides(spec, overrides, name)
    if not given:
        return spec
    entry = registry_entry(given)
    if entry is not None and entry.key != spec.key:
        raise ValueError(
            f"model {name!r}: name={given!r} is the key of the registry model {entry.key!r}; tables and "
            "reports would take it for that model. Fix: choose another name"
        )
    return dataclasses.replace(spec, name=given)


def _resolve_base(name: str) -> tuple[ModelSpec, str | None]:
    """The spec ``name`` names, and the revision it asks for (``@rev``), applied as an override."""
    if name in _REGISTRY:
        return _REGISTRY[name], None
    if name.startswith("python:"):
        return _extractor_spec(name[len("python:") :]), None
    path = Path(name).expanduser()
    if name.strip() and path.is_dir():  # "" would be Path("."): never take the working directory as a model
        recipe, why = default_recipe(_read_config(path / "config.json"))
        local = ModelSpec(
            key=_local_key(path),
            family="hf",
            display_name=f"{path.resolve().parent.name}/{path.resolve().name}",
            source=str(path.resolve()),
            revision=_local_revision(path),
            options=recipe,
            description=f"local checkpoint, default recipe from its config: {why}",
            weights="local-dir",
            name=_local_name(path),
        )
        return local, None
    if _looks_like_path(name):
        raise ValueError(
            f"no such model folder: {name!r} (looked at {path.resolve()}). Fix: check the path; a hub id is "
            "written org/name[@revision], without ./ and not under an existing local folder"
        )
    base, revision = split_revision(name)
    entry = registry_entry(base)
    if entry is not None:
        return entry, revision
    if re.fullmatch(r"[\w.-]+/[\w.-]+", base):
        config = _read_config(cached_file(base, "config.json", revision or "main"))
        recipe, why = default_recipe(config)
        if not config:
            why = "config not in the local cache: mask support from the forward signature at load"
        hub = ModelSpec(
            key=safe_key(base),
            family="hf",
            display_name=base,
            source=base,
            revision="main",
            options=recipe,
            description=f"hub model, default recipe: {why}",
            weights="hub",
        )
        return hub, revision
    known = ", ".join(sorted(_REGISTRY))
    raise ValueError(
        f"unknown model {name!r}: {did_you_mean(base, _REGISTRY)}not a registry key ({known}), not an existing "
        "directory, and not a hub id of the form org/name[@revision]"
    )


def split_revision(name: str) -> tuple[str, str | None]:
    """``NAME@REV`` -> (``NAME``, ``REV``); no ``@`` -> (name, None). ``KEY@``, ``@rev`` or two ``@`` are
    usage errors naming what was typed."""
    if "@" not in name:
        return name, None
    base, _, revision = name.partition("@")
    if not base or not revision or "@" in revision or not re.fullmatch(r"[\w./-]+", revision):
        raise ValueError(
            f"model {name!r}: a revision is written NAME@REVISION, one '@' between a model key or hub id and a "
            "commit, branch or tag (e.g. GROVER@main, PoetschLab/GROVER@<40-hex commit>)"
        )
    return base, revision


def registry_entry(name: str) -> ModelSpec | None:
    """The entry ``name`` names: its key, or the hub id its weights come from (case ignored, as on the hub)."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    if "/" not in name:
        return None
    wanted = name.lower()
    return next(
        (s for s in _REGISTRY.values() if s.weights == "hub" and s.source and s.source.lower() == wanted),
        None,
    )


def revision_key(key: str, revision: str | None, own: str | None) -> str:
    """``key`` at its own revision; ``key+rev-<rev>`` (a commit shortened to 12 hex) at another one."""
    if revision is None or revision == own:
        return key
    from geneb_bench.models.loading import is_commit

    return safe_key(f"{key}+rev-{revision[:12] if is_commit(revision) else revision}")


def _at_revision(spec: ModelSpec, revision: str, name: str) -> ModelSpec:
    """``spec`` at ``revision``: a hub model only; another revision than its own gets its own key, and a zoo
    entry's published file list (``model_files.csv``) is not claimed for it."""
    own = spec.revision
    if revision == own:
        return spec
    if spec.weights != "hub" or spec.family != "hf":
        raise ValueError(
            f"model {name!r}: {spec.key!r} is not a hub model (weights: {spec.weights or spec.family}); "
            "only hub models take a revision (@rev or [revision=...])"
        )
    note = spec.notes
    if spec.group == "geneb" and own:
        note = (
            f"{note} " if note else ""
        ) + f"revision {revision}, not the published {own}: files not verified against model_files.csv."
    return dataclasses.replace(spec, key=revision_key(spec.key, revision, own), revision=revision, notes=note)


def did_you_mean(name: str, keys: Iterable[str]) -> str:
    """``"did you mean 'kmer-3'? "`` for the closest keys (case and punctuation ignored), or ``""``."""
    import difflib

    def plain(text: str) -> str:
        return re.sub(r"[^a-z0-9]", "", text.lower())

    by_plain = {plain(k): k for k in keys}
    close = difflib.get_close_matches(plain(name), list(by_plain), n=3, cutoff=0.75) if plain(name) else []
    return f"did you mean {', '.join(repr(by_plain[c]) for c in close)}? " if close else ""


Builder = Callable[[ModelSpec, str], Embedder]
FAMILIES: Registry[Builder] = Registry(
    "model family", "geneb_bench.models", adapt=lambda _name, builder: builder
)


def register_family(name: str) -> Callable[[Builder], Builder]:
    """Decorator: ``builder(spec, device) -> Embedder`` makes the embedders of every spec of family ``name``.

    An installed package registers one by entry point instead (group ``geneb_bench.models``, the entry point's
    name is the family, its object the builder).
    """

    def decorate(builder: Builder) -> Builder:
        FAMILIES.register(name, builder)
        return builder

    return decorate


def register_model(spec: ModelSpec) -> ModelSpec:
    """Make ``spec.key`` a model name (``--geneb-model``, ``geneb_bench.run``); its family must be registered
    by the time it is built. Registering the same spec again is a no-op; another spec under a taken key (a
    built-in one included) is an error."""
    present = _REGISTRY.get(spec.key)
    if present is not None and present != spec:
        raise ValueError(
            f"model key {spec.key!r} is already registered (family {present.family!r}); "
            f"choose another key for the {spec.family!r} model"
        )
    if safe_key(spec.key) != spec.key:
        raise ValueError(f"model key {spec.key!r}: use letters, digits and . _ + - only (it names files)")
    _REGISTRY[spec.key] = spec
    return spec


@register_family("kmer")
def _build_kmer(spec: ModelSpec, device: str) -> Embedder:
    from geneb_bench.models.kmer import KmerEmbedder

    return KmerEmbedder(int(spec.options["k"]))


@register_family("random-transformer")
def _build_random(spec: ModelSpec, device: str) -> Embedder:
    from geneb_bench.models.random_init import load_random_init

    return load_random_init(spec, device)


@register_family("hf")
def _build_hf(spec: ModelSpec, device: str) -> Embedder:
    from geneb_bench.models.loading import load_pretrained

    return load_pretrained(spec, device)


@register_family("extractor")
def _build_extractor(spec: ModelSpec, device: str) -> Embedder:
    from geneb_bench.models.adapters import build_extractor

    return build_extractor(spec, device)


@register_family("evo2")
def _build_evo2(spec: ModelSpec, device: str) -> Embedder:
    from geneb_bench.models.adapters import build_evo2

    return build_evo2(spec, device)


@register_family("package")
def _build_package(spec: ModelSpec, device: str) -> Embedder:
    from geneb_bench.models.adapters import build_package

    return build_package(spec, device)  # type: ignore[no-any-return]


def build_embedder(spec: ModelSpec, device: str) -> Embedder:
    try:
        builder = FAMILIES.get(spec.family)
    except KeyError as exc:
        raise ValueError(f"model {spec.key!r}: {exc.args[0]}") from None
    return builder(spec, device)


def resolve_models(names: Iterable[str]) -> list[ModelSpec]:
    """Every name resolved; a key or a slot given twice is refused. Local folders whose default names
    clash (``run1/model``, ``run2/model``) are named ``<parent>__<folder>`` instead."""
    names = list(names)
    specs = [resolve_model(n) for n in names]
    given = [split_overrides(n)[1].get("name") is not None for n in names]
    counts: dict[str, int] = {}
    for spec in specs:
        counts[spec.slot] = counts.get(spec.slot, 0) + 1
    specs = [
        dataclasses.replace(s, name=f"{Path(s.source).parent.name}__{s.name}")
        if counts[s.slot] > 1 and s.name and not named and s.source and s.weights == "local-dir"
        else s
        for s, named in zip(specs, given, strict=True)
    ]
    seen: set[str] = set()
    slots: dict[str, ModelSpec] = {}
    for spec in specs:
        if spec.key in seen:
            raise ValueError(f"model {spec.key!r} given twice")
        seen.add(spec.key)
        other = slots.setdefault(spec.slot, spec)
        if other is not spec:
            raise ValueError(
                f"two models under the name {spec.slot!r} ({other.key} and {spec.key}): one slot holds one "
                "model in a run. Fix: give one of them another name, e.g. '...[name=other-name]'"
            )
    return specs
