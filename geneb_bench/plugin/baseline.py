"""The release gate: ``--geneb-baseline RESULTS`` fails items (and the run, for macro-MCC) that regress.

A model's CI runs the benchmark against the result files of the previous release; an item fails when its
mean MCC is below the baseline's by more than the tolerance, with both numbers and the difference in the
message. Its own result is written and recorded first, so a failing run still reports every number.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geneb_bench.results.provenance import GATE_IGNORES, Provenance
from geneb_bench.results.record import ItemResult


class Baseline:
    def __init__(self, results_dir: Path, tolerance: float) -> None:
        from geneb_bench.results.resultset import ResultSet

        self.results_dir = Path(results_dir)
        if not self.results_dir.is_dir():
            raise ValueError(f"--geneb-baseline {results_dir}: not a directory")
        self.tolerance = tolerance
        self.results = ResultSet.load(self.results_dir)
        self.frame = self.results.frame
        self._by_item = {(r.model, r.task_id, r.regime): r for r in self.results}
        if self.frame.empty:
            raise ValueError(f"--geneb-baseline {results_dir}: no result files found")
        self._mcc: dict[tuple[str, str, str], float] = {
            (str(m), str(t), str(r)): float(v)
            for m, t, r, v in zip(
                self.frame["model"],
                self.frame["task_id"],
                self.frame["regime"],
                self.frame["mcc"],
                strict=True,
            )
        }

    def check_item(self, result: ItemResult) -> str | None:
        """A failure message when ``result`` regressed, else None (also when the baseline lacks the item)."""
        reference = self._mcc.get((result.model, result.task_id, result.regime))
        if reference is None:
            return None
        before = self._by_item[(result.model, result.task_id, result.regime)]
        # The baseline is another build of the model (maybe by another harness); all else must agree.
        if diff := Provenance.of(before).differences(Provenance.of(result), ignore=GATE_IGNORES):
            return (
                f"not comparable with the baseline on {result.model} / {result.task_id} / {result.regime}: "
                + "; ".join(diff)
            )
        current = result.mean["mcc"]
        if current < reference - self.tolerance:
            return (
                f"MCC regression on {result.model} / {result.task_id} / {result.regime}: {current:.4f} vs "
                f"baseline {reference:.4f} (difference {current - reference:+.4f}, tolerance {self.tolerance})"
            )
        return None

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
