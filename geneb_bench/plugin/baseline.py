"""The release gate: ``--geneb-baseline RESULTS`` fails items (and the run, for macro-MCC) that regress.

A model's CI runs the benchmark against the result files of the previous release; an item fails when its
mean MCC is below the baseline's by more than the tolerance, with both numbers and the difference in the
message. Its own result is written and recorded first, so a failing run still reports every number.

Items are matched by *slot*: the model's name (``[name=...]``, a local folder's name, else its key), not its
identity, because a release is by definition a new identity (retrained weights, new content hash) under the
old name. Every message says which identity was compared with which. An item of a selected model without a
baseline item fails (``--geneb-baseline-allow-missing`` accepts it with a note), and a gate that compared
nothing fails the run: a green gate always means numbers were compared (docs/identity.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geneb_bench.results.provenance import GATE_IGNORES, Provenance
from geneb_bench.results.record import ItemResult

ALLOW_MISSING = "--geneb-baseline-allow-missing"


def identity_label(result: ItemResult) -> str:
    """``identity 1a2b3c4d (local-9f8e...)``: the short identity hash and the revision or content hash."""
    identity = result.model_identity
    detail = identity.get("revision") or identity.get("key") or "?"
    return f"identity {result.model_hash[:8]} ({detail})"


@dataclass
class GateSummary:
    """What the gate compared, per slot; ``failed`` when it found a regression, a missing item (not
    allowed) or compared nothing at all."""

    lines: list[str] = field(default_factory=list)
    failed: bool = False


class Baseline:
    def __init__(self, results_dir: Path, tolerance: float, allow_missing: bool = False) -> None:
        from geneb_bench.results.resultset import ResultSet

        self.results_dir = Path(results_dir)
        if not self.results_dir.is_dir():
            raise ValueError(f"--geneb-baseline {results_dir}: not a directory")
        self.tolerance = tolerance
        self.allow_missing = allow_missing
        self.results = ResultSet.load(self.results_dir)  # one slot with two identities: shown apart
        self.frame = self.results.frame
        if self.frame.empty:
            raise ValueError(f"--geneb-baseline {results_dir}: no result files found")
        self._by_item = {(r.model, r.task_id, r.regime): r for r in self.results}

    def match(self, result: ItemResult) -> ItemResult | None:
        """The baseline's result in ``result``'s slot, task and regime (any identity), or None."""
        return self._by_item.get((result.model, result.task_id, result.regime))

    def _missing(self, result: ItemResult) -> str:
        slots = sorted({r.model for r in self.results})
        apart = [s for s in slots if s.startswith(f"{result.model}@")]
        why = (
            f"it holds {result.model!r} under {len(apart)} identities ({', '.join(apart)}): keep one"
            if apart
            else f"its models: {', '.join(slots[:6])}{' ...' if len(slots) > 6 else ''}"
        )
        return (
            f"no baseline item for {result.model} / {result.task_id} / {result.regime} in {self.results_dir} "
            f"({why}). Fix: name the model as in the baseline ([name=...]), or pass {ALLOW_MISSING} "
            "to accept items without a baseline"
        )

    @staticmethod
    def differences(before: ItemResult, result: ItemResult) -> list[str]:
        """What makes ``result`` not comparable with ``before``: anything but the model's identity (the
        baseline is another build of the model) and the harness version."""
        return Provenance.of(before).differences(Provenance.of(result), ignore=GATE_IGNORES)

    def check_item(self, result: ItemResult) -> str | None:
        """A failure message when ``result`` regressed, is not comparable, or has no baseline item."""
        before = self.match(result)
        if before is None:
            return None if self.allow_missing else self._missing(result)
        where = f"{result.model} / {result.task_id} / {result.regime}"
        if diff := self.differences(before, result):
            return f"not comparable with the baseline on {where}: " + "; ".join(diff)
        current, reference = result.mean["mcc"], before.mean["mcc"]
        if current < reference - self.tolerance:
            return (
                f"MCC regression on {where}: {current:.4f} vs baseline {reference:.4f} "
                f"(difference {current - reference:+.4f}, tolerance {self.tolerance}; "
                f"{identity_label(result)} vs baseline {identity_label(before)})"
            )
        return None

    def summary(self, results: Iterable[ItemResult], selected: Iterable[str] = ()) -> GateSummary:
        """One line per slot: which identity was compared with which, on how many items, the largest drop;
        a failure for a selected model with nothing compared (unless allowed) and for an empty gate."""
        out = GateSummary()
        by_slot: dict[str, list[ItemResult]] = {slot: [] for slot in selected}
        for result in results:
            by_slot.setdefault(result.model, []).append(result)
        total = 0
        for slot, mine in by_slot.items():
            pairs = [(r, b) for r in mine if (b := self.match(r)) is not None]
            comparable = [(r, b) for r, b in pairs if not self.differences(b, r)]
            total += len(comparable)
            missing = len(mine) - len(pairs)
            if not comparable:
                allowed = self.allow_missing and (missing > 0 or not mine)
                out.failed |= not allowed
                out.lines.append(
                    f"{'accepted' if allowed else 'FAILED'}: {slot}: nothing compared "
                    f"({len(mine)} results, {missing} without a baseline item in {self.results_dir}, "
                    f"{len(pairs) - len(comparable)} not comparable)"
                    + (f" ({ALLOW_MISSING})" if allowed else "")
                )
                continue
            now = sorted({identity_label(r) for r, _ in comparable})
            then = sorted({identity_label(b) for _, b in comparable})
            drops = [r.mean["mcc"] - b.mean["mcc"] for r, b in comparable]
            worst = min(drops)
            regressions = sum(d < -self.tolerance for d in drops)
            same = " (the same identity)" if now == then else ""
            line = (
                f"{slot}: {', '.join(now)} compared with baseline {', '.join(then)}{same} on "
                f"{len(comparable)} items: {regressions} regressions, largest change {worst:+.4f} "
                f"(tolerance {self.tolerance})"
            )
            if missing:
                line += f"; {missing} items without a baseline item" + (
                    f" (accepted: {ALLOW_MISSING})" if self.allow_missing else " (failed)"
                )
            out.failed |= bool(regressions) or (bool(missing) and not self.allow_missing)
            out.lines.append(
                ("FAILED: " if regressions or (missing and not self.allow_missing) else "") + line
            )
        if total == 0:
            out.failed = True
            out.lines.append(
                f"FAILED: the gate compared nothing: no result of this run has a comparable item in "
                f"{self.results_dir}; a gate that compared nothing does not pass"
            )
        return out

    def check_macro(self, frame: pd.DataFrame) -> list[str]:
        """Macro-MCC per model and regime over the tasks both runs have."""
        from geneb_bench.results.aggregate import leaderboard

        keys = ["model", "task_id", "regime"]
        common = frame.merge(self.frame[keys], on=keys)
        base = self.frame.merge(frame[keys], on=keys)
        messages = []
        for regime in sorted(set(common["regime"])):
            now, before = leaderboard(common, regime), leaderboard(base, regime)
            for model in now.index.intersection(before.index):
                diff = float(now.loc[model, "macro"] - before.loc[model, "macro"])
                if diff < -self.tolerance:
                    messages.append(
                        f"macro-MCC regression for {model} ({regime}, {int(now.loc[model, 'n_tasks'])} tasks): "
                        f"{now.loc[model, 'macro']:.4f} vs baseline {before.loc[model, 'macro']:.4f} "
                        f"(difference {diff:+.4f}, tolerance {self.tolerance})"
                    )
        return messages
