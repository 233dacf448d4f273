"""Extraction recipes: the declarative fields that say how a Hugging Face model turns DNA into one vector.

Every family in the zoo differs on five axes (how to load, how to pre-process the string, which tensor holds
the states, whether a mask is accepted, how to pool), so a recipe is a flat mapping of those fields. A
recipe is stored in full in ``ModelSpec.options``: it is part of the embedding cache key and of every
result, so two runs with different extraction can never share vectors or be confused in a table.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from typing import Any

from geneb_bench.models.base import ModelSpec

POOLINGS = ("mean", "cls", "last", "mean_unmasked")  # pooled by the embedding engine
AUTO_CLASSES = ("AutoModel", "AutoModelForMaskedLM", "AutoModelForCausalLM", "none")

DEFAULT_RECIPE: dict[str, Any] = {
    "auto_class": "AutoModel",  # which transformers auto class loads the checkpoint
    "trust_remote_code": False,  # arbitrary code execution: only with a pinned revision (hub) or a local dir
    "dtype": "float32",  # on GPU; CPU always runs float32 (loading.effective_dtype, which the cache key holds)
    "max_tokens": 0,  # truncation limit in tokens; 0 = the tokenizer's / model's own limit
    "case": "upper",  # most DNA tokenizers map lower case to [UNK]
    "kmer": 0,  # > 0: overlapping k-mers joined by spaces (DNABERT-1 style)
    "prefix": "",  # literal text put before the sequence (e.g. gLM2 "<+>")
    "multiple_of": 0,  # > 0: length made a multiple of this (k-mer tokenizers, NT-v3)
    "multiple_mode": "pad",  # "pad" with N at the end, or "trim" the tail
    "add_special_tokens": True,
    "input_mode": "ids",  # "one_hot": ids become one-hot float vectors (MutBERT)
    "submodule": "",  # call this child module (e.g. "bert") instead of the wrapper
    "states": "auto",  # "auto" (last_hidden_state / hidden_states / tuple[0]), "hidden_states", "tuple0"
    "layer": -1,  # which entry of hidden_states when states == "hidden_states"
    "accepts_mask": "auto",  # "auto": from the forward signature; False: batch equal lengths only
    "pooling": "mean",  # mask-weighted mean (GENEB default), cls, last, mean_unmasked
    "rc_pooling": False,  # RC-equivariant models: average the channel halves, second half flipped
    "fix": "",  # "dnabert2": BertConfig, triton flash attention off
    # Batch invariance (docs/extraction.md): "auto" = "bucket" (padded to a width grid that depends on the
    # sequence's own length) when the model takes a mask and pools over it, else "equal_length" (no padding);
    # "per_sequence" for a model whose rows depend on the batch (batch statistics, state across rows).
    "batching": "auto",
}

_CHOICES: dict[str, tuple[Any, ...]] = {
    "auto_class": AUTO_CLASSES,
    "dtype": ("float32", "bfloat16", "float16"),
    "case": ("upper", "lower", "keep"),
    "multiple_mode": ("pad", "trim"),
    "input_mode": ("ids", "one_hot"),
    "states": ("auto", "hidden_states", "tuple0"),
    "accepts_mask": ("auto", True, False),
    "pooling": POOLINGS,
    "fix": ("", "dnabert2"),
    "batching": ("auto", "bucket", "equal_length", "per_sequence"),
}

# Fields that are absent from a recipe unless given, so every existing recipe (and cache key) stays as it
# was: ``init = "random"`` is the untrained twin of a model, its config and tokenizer with fresh weights.
OPTIONAL_FIELDS: dict[str, tuple[Any, ...]] = {"init": ("random",)}

# Override keys that are not recipe fields: they change where the weights come from, not the extraction.
SOURCE_OVERRIDES = ("revision", "path")


def validate_recipe(options: Mapping[str, Any], where: str = "recipe") -> dict[str, Any]:
    """The full recipe: defaults filled in, unknown keys and bad values rejected with the allowed ones."""
    unknown = sorted(set(options) - set(DEFAULT_RECIPE) - set(OPTIONAL_FIELDS))
    if unknown:
        known = ", ".join([*DEFAULT_RECIPE, *OPTIONAL_FIELDS])
        raise ValueError(f"{where}: unknown recipe field(s) {unknown}; known: {known}")
    recipe = {**DEFAULT_RECIPE, **options}
    for name, allowed in {**_CHOICES, **{k: v for k, v in OPTIONAL_FIELDS.items() if k in options}}.items():
        if not any(recipe[name] == a and type(recipe[name]) is type(a) for a in allowed):
            raise ValueError(f"{where}: {name} = {recipe[name]!r}; allowed: {', '.join(map(repr, allowed))}")
    for name in ("max_tokens", "kmer", "multiple_of", "layer"):
        if not isinstance(recipe[name], int) or isinstance(recipe[name], bool):
            raise ValueError(f"{where}: {name} must be an integer, got {recipe[name]!r}")
    for name in ("max_tokens", "kmer", "multiple_of"):
        if recipe[name] < 0:
            raise ValueError(f"{where}: {name} must be >= 0, got {recipe[name]}")
    for name in ("trust_remote_code", "add_special_tokens", "rc_pooling"):
        if not isinstance(recipe[name], bool):
            raise ValueError(f"{where}: {name} must be true or false, got {recipe[name]!r}")
    for name in ("prefix", "submodule"):
        if not isinstance(recipe[name], str):
            raise ValueError(f"{where}: {name} must be a string, got {recipe[name]!r}")
    return recipe


def parse_value(text: str) -> Any:
    """``true``/``false``/integers as such, anything else as a string (override values from the CLI)."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if re.fullmatch(r"-?\d+", text.strip()):
        return int(text)
    return text.strip()


def split_overrides(name: str) -> tuple[str, dict[str, Any]]:
    """``KEY[field=value,...]`` -> (``KEY``, {field: value}); a name without brackets has no overrides."""
    match = re.fullmatch(r"(?s)(.+?)\[(.*)\]", name.strip())
    if match is None:
        return name, {}
    base, body = match.groups()
    overrides: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in body.split(","))):
        field, sep, value = part.partition("=")
        if not sep or not field.strip():
            raise ValueError(f"model {name!r}: override {part!r} is not field=value")
        overrides[field.strip()] = parse_value(value)
    return base, overrides


def preprocess(sequence: str, recipe: Mapping[str, Any]) -> str:
    """The string the tokenizer sees: length fixed to a multiple, case, k-mer join, prefix (in that order)."""
    seq = sequence
    multiple = int(recipe.get("multiple_of", 0))
    if multiple > 1 and len(seq) % multiple:
        if recipe.get("multiple_mode", "pad") == "trim" and len(seq) >= multiple:
            seq = seq[: len(seq) - len(seq) % multiple]
        else:
            seq = seq + "N" * (multiple - len(seq) % multiple)
    case = recipe.get("case", "upper")
    seq = seq.upper() if case == "upper" else seq.lower() if case == "lower" else seq
    k = int(recipe.get("kmer", 0))
    if k > 0:
        seq = " ".join(seq[i : i + k] for i in range(max(len(seq) - k + 1, 1)))
    return str(recipe.get("prefix", "")) + seq


# ---- default recipe for a model the registry does not know ----------------------------------------------

_DECODER_TYPES = frozenset(
    {
        "gpt2",
        "gpt_neox",
        "gptj",
        "llama",
        "mistral",
        "mixtral",
        "olmo",
        "olmo2",
        "qwen2",
        "phi",
        "falcon",
        "mamba",
        "mamba2",
        "jamba",
        "bloom",
        "opt",
        "gemma",
        "gemma2",
        "starcoder2",
        "codegen",
    }
)


def _builtin_forward_params(model_type: str) -> set[str] | None:
    """The forward arguments of the built-in base class for ``model_type``, without instantiating it."""
    try:
        import transformers
        from transformers.models.auto.modeling_auto import MODEL_MAPPING_NAMES
    except ImportError:  # pragma: no cover - transformers is a core dependency
        return None
    name = MODEL_MAPPING_NAMES.get(model_type)
    if isinstance(name, tuple | list):
        name = name[0]
    cls = getattr(transformers, str(name), None) if name else None
    return set(inspect.signature(cls.forward).parameters) if cls is not None else None


def default_recipe(config: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """A recipe for an unknown checkpoint from its ``config.json`` alone (no code runs), and why.

    Encoder vs decoder from ``is_decoder`` / ``architectures`` / ``model_type``; mask support from the
    built-in class's forward signature (remote-code classes: decided from the signature at load time).
    Pooling is the GENEB default either way: with right padding the mask-weighted mean is exact for both.
    """
    model_type = str(config.get("model_type", ""))
    architectures = [str(a) for a in config.get("architectures") or []]
    auto_map = config.get("auto_map") or {}
    decoder = (
        bool(config.get("is_decoder"))
        or model_type in _DECODER_TYPES
        or any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in architectures)
    )
    recipe: dict[str, Any] = {}
    why = [
        f"{'decoder' if decoder else 'encoder'} (model_type {model_type or '?'}"
        f"{', ' + architectures[0] if architectures else ''})"
    ]
    remote = bool(auto_map) and _builtin_forward_params(model_type) is None
    if remote:
        why.append("needs remote code: allow with [trust_remote_code=true] (hub ids also need a commit)")
        if "AutoModel" not in auto_map:
            for cls in ("AutoModelForMaskedLM", "AutoModelForCausalLM"):
                if cls in auto_map:
                    recipe.update(auto_class=cls, states="hidden_states")
                    why.append(f"auto_map has no AutoModel: {cls} + hidden_states[-1]")
                    break
    else:
        params = _builtin_forward_params(model_type)
        if params is not None:
            recipe["accepts_mask"] = "attention_mask" in params
            if "attention_mask" not in params:
                why.append("forward takes no attention_mask: equal-length batches only")
    return validate_recipe(recipe), "; ".join(why)


def describe_recipe(spec: ModelSpec) -> str:
    """One line saying how ``spec`` is extracted, for the start of a run (non-default fields only)."""
    options = dict(spec.options)
    if spec.source:
        where = spec.source
    elif spec.weights == "local":
        where = f"local path required ({spec.weights_note})"
    else:
        where = spec.weights_note or "built in"
    rev = f"@{spec.revision}" if spec.revision else (" (unpinned)" if spec.family == "hf" else "")
    if spec.family != "hf":
        shown = ", ".join(f"{k}={v}" for k, v in sorted(options.items()))
        return f"{spec.slot}: family {spec.family}, {where}{rev}" + (f"; {shown}" if shown else "")
    recipe = validate_recipe(options, spec.key)
    parts = [recipe["auto_class"]]
    parts.append("remote code" if recipe["trust_remote_code"] else "no remote code")
    parts.append(recipe["dtype"])
    parts.append(f"max {recipe['max_tokens']} tokens" if recipe["max_tokens"] else "model's token limit")
    states = {"auto": "last hidden state", "tuple0": "output[0]"}.get(
        recipe["states"], f"hidden_states[{recipe['layer']}]"
    )
    if recipe["submodule"]:
        states = f"{recipe['submodule']}.{states}"
    parts.append(states)
    mask = {True: "with mask", False: "no mask (equal-length batches)", "auto": "mask if accepted"}
    parts.append(mask[recipe["accepts_mask"]])
    pooling = {"mean": "mask-weighted mean", "mean_unmasked": "unmasked mean (no padding)"}.get(
        recipe["pooling"], recipe["pooling"]
    )
    parts.append(pooling + (" + RC-equivariant halves" if recipe["rc_pooling"] else "") + " in float32")
    prep = [
        f"{k}={recipe[k]!r}"
        for k in (
            "case",
            "kmer",
            "prefix",
            "multiple_of",
            "multiple_mode",
            "input_mode",
            "add_special_tokens",
            "fix",
            "batching",
        )
        if recipe[k] != DEFAULT_RECIPE[k] and not (k == "multiple_mode" and not recipe["multiple_of"])
    ]
    if prep:
        parts.append("pre-processing " + " ".join(prep))
    if recipe.get("init") == "random":
        parts.append("untrained twin: weights re-initialised from the config (seed 0), same tokenizer")
    if spec.requires:
        parts.append("needs " + ", ".join(spec.requires))
    return f"{spec.slot}: {where}{rev}: " + ", ".join(parts)
