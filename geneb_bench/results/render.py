"""Render leaderboards for the terminal, Markdown, CSV and LaTeX; write them under the results directory.

Every table says what its rows were measured on (``aggregate.describe_suite``) and each row's coverage
("3/100" tasks, "2/13" categories); a rank appears only where ``aggregate.rankable_run`` allows one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from tabulate import tabulate

from geneb_bench.io import atomic_write_text
from geneb_bench.results.aggregate import N_CATEGORIES, describe_suite, leaderboards, suite_total

if TYPE_CHECKING:
    from geneb_bench.data.audit import TaskAudit

_SHOWN = {"n_tasks": "tasks", "n_categories": "categories"}


def _formatted(table: pd.DataFrame, total: int) -> pd.DataFrame:
    shown = table.copy()
    if shown["rank"].isna().all():
        shown = shown.drop(columns="rank")
    else:
        rank = shown.pop("rank")
        shown.insert(0, "rank", rank.map(lambda v: "" if pd.isna(v) else str(int(v))))
    for column in shown.columns:
        if column == "n_tasks":
            shown[column] = shown[column].map(lambda v: f"{int(v)}/{total}")
        elif column == "n_categories":
            shown[column] = shown[column].map(lambda v: f"{int(v)}/{N_CATEGORIES}")
        elif column != "rank":
            shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:.4f}")
    return shown.rename(columns=_SHOWN)


def ranking_note(table: pd.DataFrame) -> str:
    """Why a table has (or has no) rank column."""
    if table["rank"].isna().all():
        return "not ranked: only complete GENEB-suite runs under the protocol are ranked"
    if table["rank"].notna().all():
        return "ranked by macro"
    return "ranked by macro where complete; rows without a rank are partial"


def render_text(
    frame: pd.DataFrame, metric: str = "mcc", fmt: str = "simple", transpose: bool = False
) -> str:
    """All regimes' leaderboards as one string (``fmt``: tabulate format, e.g. "simple" or "github").

    ``transpose`` puts categories in rows and models in columns: 13 categories fit a terminal that way.
    """
    parts = []
    suite_line = describe_suite(frame)
    total = suite_total(frame)
    for regime, table in leaderboards(frame, metric).items():
        heading = f"{metric.upper()} - {regime}"
        parts.append(f"## {heading}\n" if fmt == "github" else heading)
        note = f"suite {suite_line}; {ranking_note(table)}"
        parts.append(f"{note}\n" if fmt == "github" else note)
        shown = _formatted(table, total)
        shown = (shown.T.rename_axis(f"{metric} / model") if transpose else shown).reset_index()
        rows = shown.to_numpy().tolist()
        parts.append(tabulate(rows, headers=list(shown.columns), tablefmt=fmt, disable_numparse=True))
        parts.append("")
    return "\n".join(parts)


def long_table(frame: pd.DataFrame, metric: str = "mcc") -> pd.DataFrame:
    tables = []
    suite_line = describe_suite(frame)
    total = suite_total(frame)
    for regime, table in leaderboards(frame, metric).items():
        out = table.reset_index()
        out.insert(0, "regime", regime)
        out.insert(1, "metric", metric)
        out["rank"] = pd.array(out["rank"].tolist(), dtype="Int64")
        out["suite_tasks"] = total
        out["suite"] = suite_line
        tables.append(out)
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def render_latex(frame: pd.DataFrame, metric: str = "mcc", regime: str = "full") -> str:
    """The main table (one regime) as a LaTeX ``booktabs`` tabular, with the suite line as a comment."""
    boards = leaderboards(frame, metric)
    if regime not in boards:
        return ""
    shown = _formatted(boards[regime], suite_total(frame)).reset_index()
    body = tabulate(
        shown.to_numpy().tolist(),
        headers=list(shown.columns),
        tablefmt="latex_booktabs",
        disable_numparse=True,
    )
    return f"% {metric.upper()} - {regime}; suite {describe_suite(frame)}; needs \\usepackage{{booktabs}}\n{body}\n"


def write_reports(
    frame: pd.DataFrame, results_dir: Path, audits: dict[str, TaskAudit] | None = None
) -> list[Path]:
    """``leaderboard.md`` (MCC, accuracy, F1), ``leaderboard.csv`` (long form), ``leaderboard.tex`` (MCC,
    full data, booktabs) and ``results.csv`` (tidy), each written atomically: concurrent runs on one
    directory or a full disk never leave a torn table.

    With task ``audits`` (task_id -> audit), ``leaderboard.md`` ends with the per-task audit tables and
    ``audit.json`` / ``task_audit.csv`` are written; without, the files are exactly as before."""
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    markdown = results_dir / "leaderboard.md"
    sections = ["# GENEB leaderboard (geneb-bench)\n"]
    sections += [render_text(frame, metric, fmt="github") for metric in ("mcc", "accuracy", "f1")]
    if audits:
        from geneb_bench.results.audited import render_audit_text

        sections.append(render_audit_text(frame, audits, fmt="github"))
    atomic_write_text(markdown, "\n".join(sections))
    csv = results_dir / "leaderboard.csv"
    long = pd.concat([long_table(frame, m) for m in ("mcc", "accuracy", "f1")], ignore_index=True)
    atomic_write_text(csv, long.to_csv(index=False, float_format="%.6f"))
    written = [markdown, csv]
    regimes = list(leaderboards(frame))
    if regimes:
        latex = results_dir / "leaderboard.tex"
        atomic_write_text(latex, render_latex(frame, "mcc", "full" if "full" in regimes else regimes[0]))
        written.append(latex)
    tidy_csv = results_dir / "results.csv"
    atomic_write_text(tidy_csv, frame.to_csv(index=False, float_format="%.6f"))
    written.append(tidy_csv)
    if audits:
        written += _write_audits(frame, results_dir, audits)
    return written


def _write_audits(frame: pd.DataFrame, results_dir: Path, audits: dict[str, TaskAudit]) -> list[Path]:
    from geneb_bench.results.audited import AUDIT_FILE, audit_json, audited_regimes, task_table

    tables = []
    for regime in audited_regimes(frame):
        table = task_table(frame, audits, regime)
        table.insert(0, "regime", regime)
        tables.append(table)
    per_task = results_dir / "task_audit.csv"
    atomic_write_text(per_task, pd.concat(tables, ignore_index=True).to_csv(index=False, float_format="%.6f"))
    return [per_task, atomic_write_text(results_dir / AUDIT_FILE, audit_json(audits))]
