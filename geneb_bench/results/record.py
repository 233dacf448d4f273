"""The per-item result record and its JSON file, written atomically the moment an item finishes."""

from __future__ import annotations

import json
import platform
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geneb_bench import __version__
from geneb_bench.io import atomic_write_text, results_root, safe_key
from geneb_bench.protocol import PROBE, PROTOCOL_VERSION

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


@dataclass(frozen=True)
class ItemResult:
    model: str
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
    suite: str = ""  # the suite the task belongs to (lite, geneb, a custom suite's name); older files: ""

    @classmethod
    def from_regime(cls, regime_result: RegimeResult, **fields: Any) -> ItemResult:
        return cls(
            regime=regime_result.regime,
            mean={m: regime_result.mean(m) for m in METRICS},
            std={m: regime_result.std(m) for m in METRICS},
            per_seed=[s.to_dict() for s in regime_result.seeds],
            **{"probe_backend": regime_result.backend, **fields},
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ItemResult:
        if data.get("schema") != RESULT_SCHEMA:
            raise ValueError(f"not a geneb-bench result (schema {data.get('schema')!r})")
        return cls(**data)


def scope_name(suite: str, protocol: str = PROTOCOL_VERSION) -> str:
    """The folder of one table's results: the suite, plus the variant for a run that is not the protocol.

    Results of two suites or of a variant and the protocol never share a table, so they never share a
    folder either: a run of one suite rebuilds its tables from its own folder only.
    """
    variant = protocol.removeprefix(PROTOCOL_VERSION)
    return safe_key(suite + variant) if suite else ""


def result_path(results_dir: Path, model: str, task_id: str, regime: str, scope: str = "") -> Path:
    """``DIR/results/<suite[+variant]>/<model>/<task>/<regime>.json`` (no scope folder for older results)."""
    root = Path(results_dir) / "results"
    if scope:
        root = root / scope
    return root / safe_key(model) / safe_key(task_id) / f"{safe_key(regime)}.json"


def write_result(results_dir: Path, result: ItemResult) -> Path:
    """Write atomically (temp file + rename): a crash never leaves a half-written result."""
    scope = scope_name(result.suite, result.protocol)
    path = result_path(results_dir, result.model, result.task_id, result.regime, scope)
    return atomic_write_text(path, json.dumps(result.to_dict(), indent=2, sort_keys=True) + "\n")


def read_result(path: Path) -> ItemResult:
    try:
        return ItemResult.from_dict(json.loads(Path(path).read_text()))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: unreadable result file: {exc}") from exc


def iter_results(results_dir: Path) -> Iterator[ItemResult]:
    """Every result under ``results_dir`` (or its ``results/`` subfolder), in sorted path order."""
    for path in sorted(results_root(results_dir).rglob("*.json")):
        yield read_result(path)
