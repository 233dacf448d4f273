"""Leaderboard submissions in the authors' format, and a validator for such files.

Format (GENEB, schema "1.0"): ``{"schema_version": "1.0", "harness": "<name>-<version>", "model": {...},
"protocol": {"version", "seeds", "probe", "probe_implementation"},
"results": {regime: {task_id: {"MCC": x, "Acc": x, "F1": x}}}}`` for all 100 tasks and the 3 regimes,
values rounded to 4 decimals like the authors' outputs. A run that misses items is refused unless the caller
explicitly allows a partial file (which is then marked ``"partial": true`` and fails strict validation).
The harness field names the program that produced the file (``geneb-bench-<version>`` here; the authors'
harness writes ``GENEB-<version>``), and only results measured under the protocol itself are submitted: a
protocol variant (other seeds, probe implementation or input policy) is refused when building and when
validating. The checks are explicit rather than a JSON Schema so every error message names the place.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from geneb_bench import __version__
from geneb_bench.protocol import PROBE, PROTOCOL_VERSION, REGIMES, SEEDS, is_protocol
from geneb_bench.reports.published import model_metadata
from geneb_bench.results.record import ItemResult
from geneb_bench.results.resultset import ResultSet

SCHEMA_VERSION = "1.0"
HARNESS = f"geneb-bench-{__version__}"  # this harness, truthfully (the authors' own writes "GENEB-<version>")
AUTHORS_HARNESS = "GENEB-"
METRIC_KEYS = {"MCC": "mcc", "Acc": "accuracy", "F1": "f1"}
REGIME_NAMES = tuple(r.name for r in REGIMES)
MODEL_REQUIRED = ("name",)


def geneb_task_ids() -> list[str]:
    from geneb_bench.data.suites import geneb_task_specs

    return [s.task_id for s in geneb_task_specs()]


def _source(identity: dict[str, Any]) -> dict[str, Any]:
    """Where the model comes from, without the submitter's file system: a hub id at its revision, or
    ``"local"`` with the content hash of the folder or extractor (a local path names a user's machine)."""
    source, revision = identity.get("source"), identity.get("revision")
    local = isinstance(source, str) and (Path(source).is_absolute() or source.startswith(("./", "~")))
    if local or str(revision or "").startswith("local-") or identity.get("family") == "extractor":
        return {"source": "local", "revision": None, "content_hash": revision}
    return {"source": source, "revision": revision}


def _model_metadata(model: str, results: list[ItemResult]) -> dict[str, Any]:
    meta = model_metadata(model)
    identity = results[0].model_identity
    params = meta.get("params")
    published = int(params) if isinstance(params, float) and not math.isnan(params) else None
    measured = next((r.n_params for r in results if r.n_params), None)  # counted at run time
    return {
        "name": model,
        "display_name": meta.get("display", model),
        "params": published or measured,
        "n_params": measured or published,
        "architecture": meta.get("architecture", ""),
        "tokenization": meta.get("tokenization", ""),
        "pretraining_data": meta.get("pretraining_data", ""),
        **_source(identity),
        "family": identity.get("family"),
        "identity": results[0].model_hash,
    }


def build_submission(results_dir: Path, model: str, allow_partial: bool = False) -> dict[str, Any]:
    """The submission for ``model`` from a results dir; ValueError if items are missing (unless allowed)."""
    try:
        loaded = ResultSet.load(Path(results_dir), suite="geneb")
    except ValueError:
        variants = [s for s in ResultSet.suites(Path(results_dir)) if s.startswith("geneb+")]
        if variants:
            raise ValueError(
                f"{results_dir} holds GENEB results of protocol variants only ({', '.join(variants)}), "
                f"a variant of {PROTOCOL_VERSION}: only protocol runs can be submitted"
            ) from None
        raise
    results = [r for r in loaded if r.model == model]
    if not results:
        raise ValueError(f"no results for model {model!r} of the geneb suite under {results_dir}")
    variants = sorted({r.protocol for r in results if not is_protocol(r.protocol)})
    if variants:
        raise ValueError(
            f"results of {model} were measured under {', '.join(variants)}, a variant of "
            f"{PROTOCOL_VERSION}: only protocol runs can be submitted"
        )
    tasks = geneb_task_ids()
    known = set(tasks)
    body: dict[str, dict[str, dict[str, float]]] = {r: {} for r in REGIME_NAMES}
    for r in sorted(results, key=lambda r: (r.regime, r.task_id)):
        if r.task_id not in known:
            raise ValueError(f"{r.task_id!r} is not a GENEB task: only geneb-suite runs can be submitted")
        body[r.regime][r.task_id] = {k: round(float(r.mean[m]), 4) for k, m in METRIC_KEYS.items()}
    missing = [(reg, t) for reg in REGIME_NAMES for t in tasks if t not in body[reg]]
    if missing and not allow_partial:
        shown = ", ".join(f"{reg}/{t}" for reg, t in missing[:3])
        raise ValueError(
            f"incomplete run for {model}: {len(missing)} of {len(tasks) * len(REGIME_NAMES)} items missing "
            f"(e.g. {shown}); pass --allow-partial to write a partial file anyway"
        )
    ordered = {reg: {t: body[reg][t] for t in tasks if t in body[reg]} for reg in REGIME_NAMES}
    protocols = sorted({r.protocol for r in results})
    submission: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "harness": HARNESS,
        "model": _model_metadata(model, results),
        "protocol": {
            "version": ",".join(protocols),
            "seeds": sorted({int(s["seed"]) for r in results for s in r.per_seed}),
            "probe": ",".join(sorted({r.probe for r in results})),
            "probe_implementation": ",".join(sorted({r.probe_backend for r in results})),
        },
        "results": ordered,
        "generated_by": {"package": "geneb-bench", "version": __version__, "protocol": ",".join(protocols)},
    }
    if missing:
        submission["partial"] = True
    return submission


def _check_metrics(where: str, value: Any, errors: list[str]) -> None:
    if not isinstance(value, dict):
        errors.append(f"{where}: expected an object with MCC, Acc, F1")
        return
    if set(value) != set(METRIC_KEYS):
        errors.append(f"{where}: keys {sorted(value)} should be exactly {sorted(METRIC_KEYS)}")
    for key in METRIC_KEYS:
        number = value.get(key)
        if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
            errors.append(f"{where}.{key}: expected a finite number, got {number!r}")
            continue
        low = -1.0 if key == "MCC" else 0.0
        if not low <= number <= 1.0:
            errors.append(f"{where}.{key}: {number} outside [{low:g}, 1]")
        elif round(number, 4) != number:
            errors.append(f"{where}.{key}: {number} is not rounded to 4 decimals")


def validate_submission(data: Any, allow_partial: bool = False) -> list[str]:
    """Every way ``data`` departs from the format (empty list = valid)."""
    if not isinstance(data, dict):
        return ["top level: expected a JSON object"]
    errors: list[str] = []
    if data.get("schema_version") != SCHEMA_VERSION:
        errors.append(f"schema_version: expected {SCHEMA_VERSION!r}, got {data.get('schema_version')!r}")
    harness = data.get("harness")
    if not isinstance(harness, str) or not harness.rpartition("-")[0] or not harness.rpartition("-")[2]:
        errors.append(f"harness: expected '<name>-<version>', got {harness!r}")
    protocol = data.get("protocol")
    if protocol is None:
        if not (isinstance(harness, str) and harness.startswith(AUTHORS_HARNESS)):
            errors.append("protocol: missing (version, seeds, probe, probe_implementation)")
    elif not isinstance(protocol, dict):
        errors.append("protocol: expected an object")
    else:
        expected = {
            "version": PROTOCOL_VERSION,
            "seeds": list(SEEDS),
            "probe": PROBE,
            "probe_implementation": "sklearn",
        }
        errors += [
            f"protocol.{k}: {protocol.get(k)!r} is not the protocol's {v!r} (a variant cannot be submitted)"
            for k, v in expected.items()
            if protocol.get(k) != v
        ]
    model = data.get("model")
    if not isinstance(model, dict):
        errors.append("model: expected an object with model metadata")
    else:
        errors += [
            f"model.{k}: required non-empty string"
            for k in MODEL_REQUIRED
            if not isinstance(model.get(k), str) or not model.get(k)
        ]
        params = model.get("params")
        if params is not None and (isinstance(params, bool) or not isinstance(params, int) or params <= 0):
            errors.append(f"model.params: expected a positive integer or null, got {params!r}")
    results = data.get("results")
    if not isinstance(results, dict):
        return [*errors, "results: expected an object keyed by regime"]
    extra = sorted(set(results) - set(REGIME_NAMES))
    if extra:
        errors.append(f"results: unknown regimes {extra}; expected {list(REGIME_NAMES)}")
    tasks = geneb_task_ids()
    for regime in REGIME_NAMES:
        per_task = results.get(regime)
        if not isinstance(per_task, dict):
            errors.append(f"results.{regime}: missing (expected an object keyed by task id)")
            continue
        unknown = sorted(set(per_task) - set(tasks))
        if unknown:
            errors.append(f"results.{regime}: {len(unknown)} unknown task ids, e.g. {unknown[0]!r}")
        missing = [t for t in tasks if t not in per_task]
        if missing and not allow_partial:
            errors.append(
                f"results.{regime}: {len(missing)} of {len(tasks)} tasks missing, e.g. {missing[0]!r}"
            )
        for task_id in tasks:
            if task_id in per_task:
                _check_metrics(f"results.{regime}.{task_id}", per_task[task_id], errors)
    return errors


def write_submission(submission: dict[str, Any], path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(submission, indent=2) + "\n")
    return path


def validate_file(path: Path, allow_partial: bool = False) -> list[str]:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        return [f"{path}: cannot read JSON: {exc}"]
    return validate_submission(data, allow_partial)


__all__ = [
    "HARNESS",
    "SCHEMA_VERSION",
    "build_submission",
    "validate_file",
    "validate_submission",
    "write_submission",
]
