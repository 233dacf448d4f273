"""The 40 GENEB models as data: ``zoo.toml`` parsed into ``ModelSpec``s.

Data, not code, so that adding or correcting a model is a reviewable one-block change and the analyses
(grouping by parameters, architecture, tokenization, pretraining data) read the same table the loader does.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

from geneb_bench.models.base import ModelSpec
from geneb_bench.models.recipe import validate_recipe

_WEIGHTS = ("hub", "local", "package")
_REQUIRED = (
    "key",
    "display_name",
    "params",
    "architecture",
    "tokenization",
    "pretraining_data",
    "weights",
    "recipe",
)


def parse_zoo(text: str) -> tuple[ModelSpec, ...]:
    """Specs from the TOML text; every entry's recipe is validated here, so a typo fails at import."""
    data = tomllib.loads(text)
    templates: dict[str, Any] = data.get("recipes", {})
    specs: list[ModelSpec] = []
    for entry in data.get("model", []):
        where = f"zoo entry {entry.get('key', '?')!r}"
        missing = [f for f in _REQUIRED if f not in entry]
        if missing:
            raise ValueError(f"{where}: missing {missing}")
        if entry["weights"] not in _WEIGHTS:
            raise ValueError(f"{where}: weights = {entry['weights']!r}; allowed: {_WEIGHTS}")
        if entry["recipe"] not in templates:
            raise ValueError(f"{where}: unknown recipe template {entry['recipe']!r}")
        package = entry["weights"] == "package"
        options: dict[str, Any] = {**templates[entry["recipe"]], **entry.get("options", {})}
        if package:
            options = {k: v for k, v in options.items() if k != "auto_class"}
        else:
            options = validate_recipe(options, where)
        if entry["weights"] == "hub" and not entry.get("source"):
            raise ValueError(f"{where}: hub weights need a source")
        specs.append(
            ModelSpec(
                key=entry["key"],
                family="package" if package else "hf",
                display_name=entry["display_name"],
                params=int(entry["params"]),
                source=entry.get("source"),
                revision=entry.get("revision") or None,
                options=options,
                description=entry.get("notes", "") or entry["authors_extraction"],
                architecture=entry["architecture"],
                tokenization=entry["tokenization"],
                pretraining_data=entry["pretraining_data"],
                group="geneb",
                rank=entry.get("rank"),
                weights=entry["weights"],
                weights_note=entry.get("weights_note", ""),
                licence=entry.get("licence", ""),
                requires=tuple(entry.get("requires", ())),
                stand_in=entry.get("stand_in", ""),
                real_code=entry.get("real_code", ""),
                authors_extraction=entry.get("authors_extraction", ""),
                notes=entry.get("notes", ""),
            )
        )
    return tuple(specs)


@cache
def geneb_models() -> tuple[ModelSpec, ...]:
    """The 40 published models, in the published table's rank order."""
    text = resources.files("geneb_bench.models").joinpath("zoo.toml").read_text(encoding="utf-8")
    return parse_zoo(text)
