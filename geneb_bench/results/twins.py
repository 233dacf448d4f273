"""What pretraining bought: each model beside its untrained twin (``X[init=random]``), on the tasks both ran.

The twin has X's architecture, config and tokenizer with re-initialised weights, so the difference of their
macro-MCC is what the pretraining earned on these tasks (the architecture and tokenizer alone earn the
twin's score). Computed on the tasks both have results for, per regime, as the table aggregates.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from geneb_bench.models.registry import twin_of
from geneb_bench.results.aggregate import leaderboards


@dataclass(frozen=True)
class PretrainingGain:
    model: str
    twin: str
    regime: str
    macro: float
    twin_macro: float
    n_tasks: int

    @property
    def gain(self) -> float:
        return self.macro - self.twin_macro


def pretraining_gains(frame: pd.DataFrame, metric: str = "mcc") -> list[PretrainingGain]:
    """One entry per (model with a twin in ``frame``, regime), on the (task, regime) pairs both ran."""
    models = set(frame["model"])
    gains = []
    for twin in sorted(models):
        model = twin_of(twin)
        if model is None or model not in models:
            continue
        pair = frame[frame["model"].isin([model, twin])]
        shared = pair.groupby(["task_id", "regime"])["model"].transform("nunique") == 2
        for regime, table in leaderboards(pair[shared], metric).items():
            macro, tasks = table["macro"].astype(float), table["n_tasks"].astype(int)
            gains.append(PretrainingGain(model, twin, regime, macro[model], macro[twin], int(tasks[model])))
    return gains
