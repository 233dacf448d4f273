"""Place a user's models among the 40 published ones, per category and regime.

Every score is set beside the published models' scores on the same tasks (``reports.matched``: a category
from its tasks the run covered, macro and micro from the categories and tasks it covered; ``tasks`` says
how many), so "best" and "nearest" never compare a few tasks with a whole category or suite. ``rank`` is
given for a complete run, ``would_rank`` for a complete category; both are empty otherwise and the status
says why. Lite and custom suites and protocol variants are never placed: no row at all.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geneb_bench.categories import CATEGORIES, CATEGORY_NAMES
from geneb_bench.reports.analyses import official
from geneb_bench.reports.matched import GENEB_TOTAL, frame_not_placed_reason, published_board
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
    "tasks",
    "best",
    "best_score",
    "diff_to_best",
    "nearest",
    "nearest_score",
    "published_defect",
]


def compare_to_published(frame: pd.DataFrame, published: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (user model, regime, category or macro/micro) with its placement among the official rows.

    ``frame`` is a tidy results frame; ``rank`` is 1 + the number of official models scoring strictly higher
    on the same tasks. ``published``: the table a complete run is compared with (default: the shipped one).
    """
    if frame.empty or frame_not_placed_reason(frame) is not None:
        return pd.DataFrame(columns=COMPARE_COLUMNS)
    defects = published_defects()
    local = results_table(frame)
    sizes = {c.name: c.geneb_tasks for c in CATEGORIES}
    reference = official(published) if published is not None else None
    rows = []
    for _, user in local.iterrows():
        regime, model = str(user["regime"]), str(user["model"])
        ran = frame[(frame["model"] == model) & (frame["regime"] == regime)]
        tasks = set(ran["task_id"])
        if reference is not None and len(tasks) == GENEB_TOTAL:  # a complete run against a given table
            ref = reference[reference["regime"] == regime].set_index("model")
        else:
            ref = published_board(tasks, regime)
        if ref.empty:
            continue
        covered = ran.groupby("category")["task_id"].nunique()
        per_category = category_status(frame, model, regime)
        for column in [*CATEGORY_NAMES, "macro", "micro"]:
            score = user.get(column, np.nan)
            if pd.isna(score):
                continue
            whole = str(user["status"])
            status = whole if column in ("macro", "micro") else per_category[column]
            scores = ref[column].to_numpy(dtype=float)
            n = len(tasks) if column in ("macro", "micro") else int(covered[column])
            of_tasks = GENEB_TOTAL if column in ("macro", "micro") else sizes[column]
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
                    "tasks": f"{n}/{of_tasks}",
                    "best": ref.index[best_i],
                    "best_score": float(scores[best_i]),
                    "diff_to_best": float(score) - float(scores[best_i]),
                    "nearest": ref.index[near_i],
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
