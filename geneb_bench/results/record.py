"""The per-item result record and its JSON file, written atomically the moment an item finishes."""

from __future__ import annotations

import hashlib
import json
import platform
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geneb_bench import __version__
from geneb_bench.io import atomic_write_text, results_root, safe_key
from geneb_bench.protocol import PROBE, PROTOCOL_VERSION
from geneb_bench.results.provenance import canonical

if TYPE_CHECKING:  # reading results must not import sklearn (the probe does)
    from geneb_bench.probe.evaluate import RegimeResult

RESULT_SCHEMA = "geneb-bench-result-1"
METRICS = ("mcc", "accuracy", "f1")


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "geneb-bench": __version__}
    for name in ("numpy", "scikit-learn", "torch", "transformers", "pandas", "pytest"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def identity_hash(identity: Mapping[str, Any]) -> str:
    """16 hex of the model identity (key, source, revision or content hash, recipe): which model it was."""
    return hashlib.sha256(canonical(dict(identity)).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ItemResult:
    model: str  # the model's slot: the user's [name=], a local folder's name, else its key (tables, gate)
    task_id: str
    category: str
    regime: str
    mean: dict[str, float]
    std: dict[str, float]
    per_seed: list[dict[str, Any]]
    n_train: int
    n_test: int
    n_classes: int
    embedding_dim: int
    task_fingerprint: str
    task_revision: str | None
    model_identity: dict[str, Any]
    timings: dict[str, float]
    protocol: str = PROTOCOL_VERSION
    schema: str = RESULT_SCHEMA
    versions: dict[str, str] = field(default_factory=package_versions)
    probe_backend: str = "sklearn"  # the probe's implementation: "torch" when opted in; older files: sklearn
    probe: str = PROBE  # which probe (the protocol's); files written before the field read as it
    # A user's own fields (the ``pytest_geneb_result_fields`` hook); not part of the provenance. Written only
    # when not empty, so results without any keep their bytes.
    extra: dict[str, Any] = field(default_factory=dict)
    # Padded tokens per forward pass the vectors were computed with (after any out-of-memory back-off; the
    # whole task at one budget). None: a model without token batching (k-mer, extractors), or older files.
    token_budget: int | None = None
    # embeddings.health figures (distinct vectors, unknown tokens, truncation, constant predictions); None in
    # files written before the checks existed
    health: dict[str, Any] | None = None
    suite: str = ""  # the suite the task belongs to (lite, geneb, a custom suite's name); older files: ""
    # Test outcomes for a bootstrap over test rows: {"seeds": [...], "cells": [[true, pred per seed..., count],
    # ...]} (``probe.metrics.outcome_cells``); each seed's confusion matrix is a marginal. None in older files
    # (their reports show no interval). Written only when present, like ``n_params``.
    outcomes: dict[str, Any] | None = None
    # The model's parameter count as loaded (or read from its checkpoint's headers) at run time, so reports
    # never reload a model to place it on the scaling plot; None when unknown or in older files.
    n_params: int | None = None
    # What the item cost (``geneb_bench.resources.ItemResources``): sequences and tokens computed (0 when its
    # vectors came from the cache), embedding seconds, tokens/s, peak host RSS and peak CUDA memory. Measured,
    # never part of the provenance; None in older files (written only when present).
    resources: dict[str, Any] | None = None
    # ``identity_hash(model_identity)``: which model filled the slot (older files: computed on reading)
    model_hash: str = ""

    def __post_init__(self) -> None:
        if not self.model_hash:
            object.__setattr__(self, "model_hash", identity_hash(self.model_identity))

    @classmethod
    def from_regime(cls, regime_result: RegimeResult, **fields: Any) -> ItemResult:
        return cls(
            regime=regime_result.regime,
            mean={m: regime_result.mean(m) for m in METRICS},
            std={m: regime_result.std(m) for m in METRICS},
            per_seed=[s.to_dict() for s in regime_result.seeds],
            outcomes=(
                {
                    "seeds": [s.seed for s in regime_result.seeds],
                    "cells": [list(c) for c in regime_result.outcomes],
                }
                if regime_result.outcomes
                else None
            ),
            **{"probe_backend": regime_result.backend, "probe": regime_result.probe, **fields},
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if not data["extra"]:
            del data["extra"]
        for optional in ("outcomes", "n_params", "resources"):
            if data[optional] is None:
                del data[optional]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ItemResult:
        """The record in ``data``, its shape checked: a hand-edited or corrupted file is refused here (and
        recomputed by its item, skipped by ``geneb report``), never half-used."""
        if not isinstance(data, dict):
            raise ValueError(f"a result file holds a JSON object, not {type(data).__name__}")
        if data.get("schema") != RESULT_SCHEMA:
            raise ValueError(f"not a geneb-bench result (schema {data.get('schema')!r})")
        _check_shape(data)
        return cls(**data)


_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "model": str,
    "task_id": str,
    "category": str,
    "regime": str,
    "mean": dict,
    "std": dict,
    "per_seed": list,
    "n_train": int,
    "n_test": int,
    "n_classes": int,
    "embedding_dim": int,
    "task_fingerprint": str,
    "task_revision": (str, type(None)),
    "model_identity": dict,
    "timings": dict,
    "protocol": str,
    "versions": dict,
    "probe_backend": str,
    "probe": str,
    "token_budget": (int, type(None)),
    "suite": str,
    "outcomes": (dict, type(None)),
    "n_params": (int, type(None)),
    "resources": (dict, type(None)),
    "model_hash": str,
}


def _check_shape(data: dict[str, Any]) -> None:
    for name, kind in _FIELD_TYPES.items():
        if name in data and (not isinstance(data[name], kind) or isinstance(data[name], bool)):
            raise ValueError(f"field {name!r} is {data[name]!r}, not {getattr(kind, '__name__', kind)}")
    for name in ("mean", "std"):
        for metric in METRICS:
            value = data.get(name, {}).get(metric)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name}[{metric!r}] is {value!r}, not a number")
    for i, seed in enumerate(data.get("per_seed", [])):
        if (
            not isinstance(seed, dict)
            or isinstance(seed.get("seed"), bool)
            or not isinstance(seed.get("seed"), int)
        ):
            raise ValueError(f"per_seed[{i}] is {seed!r}, not a seed's record with an integer 'seed'")
    if data.get("outcomes") is not None:
        _check_outcomes(data["outcomes"], data.get("n_test"))
    _check_summary(data)


SUMMARY_TOLERANCE = 1e-9  # mean/std are recomputed from per_seed; a written file agrees to the last bits


def _check_summary(data: dict[str, Any]) -> None:
    """``mean`` and ``std`` are what ``per_seed`` gives (numpy's mean and population std, as written): a
    hand-edited mean would otherwise be resumed, tabled and published while per_seed holds the real one."""
    import numpy as np

    seeds = data.get("per_seed", [])
    if not seeds:
        return
    for metric in METRICS:
        values = [s.get(metric) for s in seeds]
        if all(v is None for v in values):
            continue  # a record that keeps no per-seed figure of this metric: nothing to recompute
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            raise ValueError(f"per_seed {metric!r} values {values!r} are not all numbers")
        array = np.asarray(values, dtype=np.float64)
        for name, value in (("mean", float(array.mean())), ("std", float(array.std()))):
            written = float(data[name][metric])
            if not abs(written - value) <= SUMMARY_TOLERANCE * max(1.0, abs(value)):
                raise ValueError(
                    f"{name}[{metric!r}] is {written!r} but per_seed gives {value!r} (edited by hand?); "
                    "the result is not used"
                )


def _check_outcomes(outcomes: dict[str, Any], n_test: object) -> None:
    """Rows ``[true, one prediction per seed, count]`` of integers, counts adding up to ``n_test``."""
    seeds, cells = outcomes.get("seeds"), outcomes.get("cells")
    if not isinstance(seeds, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise ValueError(f"outcomes['seeds'] is {seeds!r}, not a list of integer seeds")
    if not isinstance(cells, list) or not cells:
        raise ValueError(f"outcomes['cells'] is {cells!r}, not a list of rows")
    for i, row in enumerate(cells):
        if (
            not isinstance(row, list)
            or len(row) != len(seeds) + 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in row)
            or row[-1] < 0
        ):
            raise ValueError(
                f"outcomes['cells'][{i}] is {row!r}, not [true, {len(seeds)} predictions, count] of integers"
            )
    total = sum(row[-1] for row in cells)
    if isinstance(n_test, int) and total != n_test:
        raise ValueError(f"outcomes count {total} test rows, n_test is {n_test}")


# ``safe_key`` never writes "~": a path part holding one was changed to fit a file name and carries a hash
_MARK = "~"
# The protocol-variant labels ``protocol_label`` writes (``+seeds=1,2+probe=torch``), which ``safe_key`` maps
# one-to-one (``=`` and ``,`` become ``__``; keys hold no ``__``, values no ``_``): kept readable.
_VARIANT = re.compile(r"(\+[a-z]+(?:_[a-z]+)*=[A-Za-z0-9-]+(?:[.,][A-Za-z0-9-]+)*)*")


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def path_part(text: str, unsafe: str = "") -> str:
    """``text`` as one file name, one-to-one: kept when it is already a safe key (and holds none of
    ``unsafe``), else its safe form, ``~`` and 8 hex of the text. ``a b`` and ``a__b``, or two non-Latin
    names, would share ``safe_key``'s form and overwrite each other's results; they never share this one."""
    safe = safe_key(text)
    if safe == text and not any(c in text for c in unsafe):
        return text
    return f"{safe}{_MARK}{_short_hash(text)}"


def scope_name(suite: str, protocol: str = PROTOCOL_VERSION) -> str:
    """The folder of one table's results: the suite, plus the variant for a run that is not the protocol.

    Results of two suites or of a variant and the protocol never share a table, so they never share a
    folder either: a run of one suite rebuilds its tables from its own folder only. One-to-one over (suite,
    variant): a suite name with a ``+`` (the variant's separator) is hashed like any other unsafe name.
    """
    if not suite:
        return ""
    variant = protocol.removeprefix(PROTOCOL_VERSION)
    if not variant:
        variant_part = ""
    elif _VARIANT.fullmatch(variant):
        variant_part = safe_key(variant)
    else:
        variant_part = path_part(variant)
    if variant_part and not variant_part.startswith("+"):
        variant_part = "+" + variant_part
    return path_part(suite, unsafe="+") + variant_part


def model_dir(slot: str, identity: Mapping[str, Any]) -> str:
    """A model's results folder: its slot, plus 8 hex of its identity when the slot is a name rather than
    the model's key (``[name=]``, a local folder's name), so a retrained checkpoint under the same name
    never overwrites the results of the one before it."""
    part = path_part(slot, unsafe=_MARK)
    return part if slot == identity.get("key") else f"{part}{_MARK}{identity_hash(identity)[:8]}"


def result_path(
    results_dir: Path,
    model: str,
    task_id: str,
    regime: str,
    scope: str = "",
    identity: Mapping[str, Any] | None = None,
) -> Path:
    """``DIR/results/<suite[+variant]>/<model>/<task>/<regime>.json`` (no scope folder for older results).

    One-to-one over (suite, variant, model slot and identity, task, regime): see ``path_part``."""
    root = Path(results_dir) / "results"
    if scope:
        root = root / scope
    folder = model_dir(model, identity if identity is not None else {"key": model})
    return root / folder / path_part(task_id) / f"{path_part(regime)}.json"


def shown_apart(entries: Sequence[tuple[ItemResult, Any]]) -> list[tuple[ItemResult, Any]]:
    """Results of one slot measured with two or more model identities (a retrained checkpoint under the
    same name) are never merged into one row: each is shown as ``slot@<8 hex of its identity>``."""
    hashes: dict[str, set[str]] = {}
    for result, _ in entries:
        hashes.setdefault(result.model, set()).add(result.model_hash)
    return [
        (replace(r, model=f"{r.model}@{r.model_hash[:8]}") if len(hashes[r.model]) > 1 else r, p)
        for r, p in entries
    ]


def write_result(results_dir: Path, result: ItemResult) -> Path:
    """Write atomically (temp file + rename): a crash never leaves a half-written result."""
    scope = scope_name(result.suite, result.protocol)
    path = result_path(results_dir, result.model, result.task_id, result.regime, scope, result.model_identity)
    return atomic_write_text(path, json.dumps(result.to_dict(), indent=2, sort_keys=True) + "\n")


def read_result(path: Path) -> ItemResult:
    try:
        return ItemResult.from_dict(json.loads(Path(path).read_text()))
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path}: unreadable result file: {exc}") from exc


def iter_results(results_dir: Path) -> Iterator[ItemResult]:
    """Every result under ``results_dir`` (or its ``results/`` subfolder), in sorted path order."""
    for path in sorted(results_root(results_dir).rglob("*.json")):
        yield read_result(path)
