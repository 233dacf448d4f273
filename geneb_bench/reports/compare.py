"""Place a user's models among the 40 published ones, per category and regime.

A placement is only given where the comparison is fair, and only for GENEB-suite runs under the protocol:
``would_rank`` where the run covers every GENEB task of that category (all 100 for macro/micro), ``rank``
where, in addition, the whole run is complete. Otherwise both are empty and the status says why (partial,
lite or custom suite, protocol variant).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geneb_bench.categories import CATEGORY_NAMES
from geneb_bench.reports.analyses import official
from geneb_bench.reports.published import (
    COMPLETE,
    category_status,
    published_defects,
    published_table,
    results_table,
)

COMPARE_COLUMNS = [
    "model",
    "regime",
    "category",
    "score",
    "status",
    "rank",
    "would_rank",
    "of",
    "best",
    "best_score",
    "diff_to_best",
    "nearest",
    "nearest_score",
    "published_defect",
]


def compare_to_published(frame: pd.DataFrame, published: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (user model, regime, category or macro/micro) with its placement among the official rows.

    ``frame`` is a tidy results frame; ``rank`` is 1 + the number of official models scoring strictly higher.
    """
    reference = official(published if published is not None else published_table())
    defects = published_defects()
    local = results_table(frame)
    rows = []
    for _, user in local.iterrows():
        regime, model = str(user["regime"]), str(user["model"])
        ref = reference[reference["regime"] == regime]
        if ref.empty:
            continue
        per_category = category_status(frame, model, regime)
        for column in [*CATEGORY_NAMES, "macro", "micro"]:
            score = user.get(column, np.nan)
            if pd.isna(score):
                continue
            whole = str(user["status"])
            status = whole if column in ("macro", "micro") else per_category[column]
            scores = ref[column].to_numpy(dtype=float)
            placed = int(np.sum(scores > float(score))) + 1
            would_rank = placed if status == COMPLETE else None
            best_i = int(np.argmax(scores))
            near_i = int(np.argmin(np.abs(scores - float(score))))
            rows.append(
                {
                    "model": model,
                    "regime": regime,
                    "category": column,
                    "score": float(score),
                    "status": status,
                    "rank": placed if status == COMPLETE and whole == COMPLETE else None,
                    "would_rank": would_rank,
                    "of": len(ref),
                    "best": ref["model"].iloc[best_i],
                    "best_score": float(scores[best_i]),
                    "diff_to_best": float(score) - float(scores[best_i]),
                    "nearest": ref["model"].iloc[near_i],
                    "nearest_score": float(scores[near_i]),
                    # the user's model is a published one whose row is known to be wrong: say why they differ
                    "published_defect": defects[model][0] if model in defects else "",
                }
            )
    out = pd.DataFrame(rows, columns=COMPARE_COLUMNS)
    for column in ("rank", "would_rank"):  # empty where not comparable
        out[column] = pd.array(out[column].tolist(), dtype="Int64")
    return out


def combined_leaderboard(
    local: pd.DataFrame, regime: str = "full", published: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Published rows plus the user's, ranked by macro; partial rows follow unranked, with their status.

    The published community row keeps its "self-reported" provenance so readers can tell it apart.
    """
    ref = published if published is not None else published_table()
    columns = [
        "model",
        "provenance",
        "params",
        "macro",
        "micro",
        *CATEGORY_NAMES,
        "coverage",
        "status",
        "defect",
    ]
    both = pd.concat([ref[ref["regime"] == regime], local[local["regime"] == regime]], ignore_index=True)
    both = both.reindex(columns=columns)
    both.loc[both["provenance"] == "local", "status"] = local.loc[
        local["regime"] == regime, "status"
    ].to_numpy()
    defects = published_defects()
    official_rows = both["provenance"] != "local"
    both["defect"] = [
        defects[m][0] if o and m in defects else "" for m, o in zip(both["model"], official_rows, strict=True)
    ]
    done = both[both["status"] == COMPLETE].sort_values(["macro", "model"], ascending=[False, True])
    done.insert(0, "rank", np.arange(1, len(done) + 1).astype(object))
    rest = both[both["status"] != COMPLETE].sort_values(["macro", "model"], ascending=[False, True])
    rest.insert(0, "rank", "")
    return pd.concat([done, rest], ignore_index=True)
