"""Result provenance: the one definition of "measured the same way".

A number only means something next to numbers measured the same way. Resume (reuse an earlier result),
merge (collapse duplicates from several machines), the release gate (compare with a baseline) and the
tables (one row per model) all ask that question, and all ask it here, so they can never disagree.

Two results of the same item (model key, task id, regime) are interchangeable only when every field of
their ``Provenance`` agrees. Results of different items may share a table when their *run-level* fields
(protocol, seeds, probe and its implementation) agree and, per model key, their model identity does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from geneb_bench.results.record import ItemResult

# Fields that must agree across every row of one table (a leaderboard mixes no protocols, seeds or probes).
RUN_FIELDS = ("suite", "protocol", "seeds", "probe", "probe_implementation")
# Fields a release gate ignores: the baseline is another build of the same model, maybe by another harness.
GATE_IGNORES = ("model_identity", "harness")


class IncompatibleResults(ValueError):
    """Results that cannot be combined: the message names both files and every differing field."""


def canonical(value: Any) -> str:
    """A stable text form of a JSON-able value (sorted keys), for comparing nested identities."""
    return json.dumps(value, sort_keys=True, default=str)


@dataclass(frozen=True)
class Provenance:
    """Everything that decides a result's number, other than which item it is."""

    model_identity: str  # canonical JSON: key, family, source, resolved revision, recipe, long-input policy
    task_fingerprint: str  # content of the task's sequences and labels as the probe saw them
    task_revision: str | None  # where the task came from (hub commit, seeded split), when known
    protocol: str
    seeds: tuple[int, ...]
    probe: str  # which probe (the protocol's: logistic regression)
    probe_implementation: str  # which implementation of it ran (sklearn, torch)
    harness: str  # geneb-bench version
    suite: str = ""  # the suite the task was run in: results of two suites never share a table

    @classmethod
    def of(cls, result: ItemResult) -> Provenance:
        return cls(
            model_identity=canonical(result.model_identity),
            task_fingerprint=result.task_fingerprint,
            task_revision=result.task_revision,
            protocol=result.protocol,
            seeds=tuple(int(s["seed"]) for s in result.per_seed),
            probe=result.probe,
            probe_implementation=result.probe_backend,
            harness=str(result.versions.get("geneb-bench", "unknown")),
            suite=result.suite,
        )

    def differences(
        self, other: Provenance, only: Iterable[str] | None = None, ignore: Iterable[str] = ()
    ) -> list[str]:
        """``"field (a vs b)"`` for every field that differs (all fields, or ``only`` those), minus ``ignore``."""
        names = list(only) if only is not None else [f.name for f in fields(self)]
        skipped = set(ignore)
        mine, theirs = asdict(self), asdict(other)
        return [
            f"{n} ({mine[n]!r} vs {theirs[n]!r})" for n in names if n not in skipped and mine[n] != theirs[n]
        ]


def incompatibility(
    a: ItemResult, path_a: Path | str, b: ItemResult, path_b: Path | str
) -> IncompatibleResults | None:
    """Why two results of the same item cannot stand for each other, or None when they can."""
    diff = Provenance.of(a).differences(Provenance.of(b))
    if not diff:
        return None
    return IncompatibleResults(
        f"{path_a} and {path_b}: same item ({a.model}, {a.task_id}, {a.regime}) measured differently: "
        + "; ".join(diff)
    )


def _advice(diff: list[str]) -> str:
    if any(d.startswith("suite ") for d in diff):
        return (
            "Results of two suites are never averaged together (their tasks and categories differ); "
            "choose one with --suite."
        )
    if any(d.startswith("protocol ") for d in diff):
        return "A protocol variant (other seeds, probe or input policy) is not the protocol; choose one with --suite."
    return "Keep such runs in separate results directories."


def check_table(entries: Iterable[tuple[ItemResult, Path | str]]) -> None:
    """Refuse to put results in one table when their run-level fields or a model's identity differ."""
    first: tuple[ItemResult, Path | str, Provenance] | None = None
    by_model: dict[str, tuple[ItemResult, Path | str, Provenance]] = {}
    for result, path in entries:
        prov = Provenance.of(result)
        if first is None:
            first = (result, path, prov)
        elif diff := first[2].differences(prov, only=RUN_FIELDS):
            raise IncompatibleResults(
                f"{first[1]} and {path} cannot share a table: " + "; ".join(diff) + ". " + _advice(diff)
            )
        seen = by_model.setdefault(result.model, (result, path, prov))
        if diff := seen[2].differences(prov, only=("model_identity",)):
            raise IncompatibleResults(
                f"{seen[1]} and {path}: model {result.model!r} with two identities (two revisions or recipes "
                "of one model never share a leaderboard row): " + "; ".join(diff)
            )
