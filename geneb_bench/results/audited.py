"""Task audits beside the results: per-task verdict and no-model MCC next to each model's MCC, and a
macro/micro computed without FAIL tasks.

The variant without FAIL tasks is a reading aid, never the GENEB number: the official macro-MCC (all
tasks, ``aggregate.leaderboard``) is unchanged and stays the one that ranks models. Audits are matched to
results by task content fingerprint, so an audit of other data for the same task id is never shown.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import cast

import pandas as pd

from geneb_bench.data.audit import AuditCache, TaskAudit
from geneb_bench.results.aggregate import leaderboard
from geneb_bench.results.record import ItemResult

AUDIT_FILE = "audit.json"  # the run's audits, next to its tables (so `geneb report` finds them anywhere)
NOT_OFFICIAL = "without FAIL tasks - not the official GENEB number"


def fingerprints(results: Iterable[ItemResult]) -> dict[str, str]:
    """task_id -> task content fingerprint of the results (one per task in a consistent results dir)."""
    return {r.task_id: r.task_fingerprint for r in results}


def find_audits(
    task_fingerprints: dict[str, str], results_dir: Path | None = None, cache_dir: Path | None = None
) -> dict[str, TaskAudit]:
    """task_id -> audit of exactly that content: from ``results_dir/audit.json``, else the audit cache."""
    saved: dict[str, TaskAudit] = {}
    if results_dir is not None and (Path(results_dir) / AUDIT_FILE).is_file():
        try:
            rows = json.loads((Path(results_dir) / AUDIT_FILE).read_text(encoding="utf-8"))
            saved = {a.fingerprint: a for a in map(TaskAudit.from_json, rows)}
        except (ValueError, KeyError, TypeError):
            saved = {}
    cache = AuditCache(cache_dir) if cache_dir is not None else None
    found: dict[str, TaskAudit] = {}
    for task_id, fingerprint in task_fingerprints.items():
        audit = saved.get(fingerprint) or (cache.read(fingerprint) if cache is not None else None)
        if audit is not None and audit.status == "ok":
            found[task_id] = audit
    return found


def audit_json(audits: dict[str, TaskAudit]) -> str:
    return json.dumps([audits[t].to_json() for t in sorted(audits)], indent=2) + "\n"


def task_table(
    frame: pd.DataFrame, audits: dict[str, TaskAudit], regime: str, metric: str = "mcc"
) -> pd.DataFrame:
    """One row per task of ``regime``: category, audit verdict, flagged checks, no-model MCC, each model's score."""
    sub = frame[frame["regime"] == regime]
    if sub.empty:
        return pd.DataFrame()
    scores = sub.pivot_table(index=["category", "task_id"], columns="model", values=metric, aggfunc="mean")
    rows = []
    for key, values in scores.iterrows():
        category, task_id = cast("tuple[str, str]", key)
        audit = audits.get(str(task_id))
        rows.append(
            {
                "task_id": task_id,
                "category": category,
                "audit": audit.verdict if audit else "",
                "checks (FAIL/WARN)": ", ".join(f.check for f in audit.flags) if audit else "",
                "no-model MCC": audit.baseline_mcc if audit else None,
                **{str(m): values[m] for m in scores.columns},
            }
        )
    return pd.DataFrame(rows)


def without_fail(
    frame: pd.DataFrame, audits: dict[str, TaskAudit], regime: str, metric: str = "mcc"
) -> pd.DataFrame:
    """Macro and micro per model over the tasks whose audit is not FAIL (unaudited tasks are kept)."""
    failing = {t for t, a in audits.items() if a.verdict == "FAIL"}
    table = leaderboard(frame[~frame["task_id"].isin(failing)], regime, metric)
    if table.empty:
        return table
    return table[["macro", "micro", "n_tasks", "n_categories"]].rename(
        columns={"macro": "macro (no FAIL)", "micro": "micro (no FAIL)"}
    )


def audited_regimes(frame: pd.DataFrame) -> list[str]:
    from geneb_bench.protocol import REGIMES

    present = set(frame["regime"])
    return [r.name for r in REGIMES if r.name in present]


def render_audit_text(
    frame: pd.DataFrame, audits: dict[str, TaskAudit], fmt: str = "simple", regimes: list[str] | None = None
) -> str:
    """Per regime: the per-task table, then the macro/micro without FAIL tasks (labelled as not official)."""
    from tabulate import tabulate

    def shown(table: pd.DataFrame) -> str:
        cells = [
            [
                ""
                if v is None or (isinstance(v, float) and pd.isna(v))
                else (f"{v:.4f}" if isinstance(v, float) else str(v))
                for v in row
            ]
            for row in table.to_numpy().tolist()
        ]
        return tabulate(cells, headers=[str(c) for c in table.columns], tablefmt=fmt, disable_numparse=True)

    failing = sorted(t for t, a in audits.items() if a.verdict == "FAIL")
    parts = []
    for regime in regimes or audited_regimes(frame):
        heading = f"Task audit (seqleak) - MCC - {regime}"
        parts += [
            f"## {heading}\n" if fmt == "github" else heading,
            shown(task_table(frame, audits, regime)),
            "",
        ]
        board = without_fail(frame, audits, regime).reset_index()
        note = f"MCC {NOT_OFFICIAL} ({len(failing)} left out: {', '.join(failing) or 'none'})"
        parts += [f"### {note}\n" if fmt == "github" else note, shown(board), ""]
    parts.append(
        "audit: seqleak verdict on the task as loaded (PASS / WARN: look / FAIL: a leak at defect level); "
        "no-model MCC: seqleak's best rule without any model, chosen on test (an upper bound)."
    )
    return "\n".join(parts)
