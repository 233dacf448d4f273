"""One self-contained HTML report of a results dir: summary, leaderboard, per-category and per-task views,
figures and the metadata needed to trust them.

Self-contained (figures as inline SVG, CSS and JS inlined, DataTables from the ``itables`` package loaded from
a Blob, no external URL) so the file can be mailed, archived or attached to a CI run and still open years
later, offline. Every figure is also written as SVG and PNG into ``figures/`` beside the page. No local
absolute path, user or host name reaches the page: paths are shown relative to the results folder or hashed.
"""

from __future__ import annotations

import getpass
import hashlib
import html
import json
import os
import platform
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geneb_bench import __version__
from geneb_bench.categories import CATEGORY_NAMES
from geneb_bench.environment import git_commit, machine
from geneb_bench.protocol import PROTOCOL_VERSION, REGIMES
from geneb_bench.reports import figures
from geneb_bench.reports.page import assets, views
from geneb_bench.reports.published import (
    CITATION,
    COMPLETE,
    published_defects,
    published_table,
    results_table,
)
from geneb_bench.results.aggregate import describe_suite
from geneb_bench.results.record import ItemResult
from geneb_bench.results.resultset import ResultSet
from geneb_bench.results.uncertainty import item_intervals
from geneb_bench.text import human_count

if TYPE_CHECKING:
    from geneb_bench.data.audit import TaskAudit
    from geneb_bench.reports.matched import MatchedComparison

FULL_DATA_NOTE = (
    "Full data: one probe fit serves all five seeds (the training set is the whole split), so the seed std is "
    "zero by construction and is not shown; ± appears only where seeds differ (10-shot, 1-shot). [low, high] "
    "is the 95% bootstrap CI over test rows (1,000 resamples of each task's test split; for the macro every "
    "task resampled and aggregated as the table is); blank for published rows (no per-row data) and for "
    "results recorded before test outcomes were kept (rerun with --geneb-rerun)."
)


# -- privacy ---------------------------------------------------------------------------------------------------
_PATH = re.compile(r"(?<![\w./<~-])(?:~|/(?=[\w.+-]))(?:/?[\w.@+-]+)+/?")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def scrub(text: str, root: Path) -> str:
    """``text`` without local absolute paths, user or host name: a path under ``root`` becomes relative to it,
    any other becomes ``local-path#hash``; the host name ``host#hash``."""
    base = str(Path(root).resolve())

    def replace(match: re.Match[str]) -> str:
        path = match.group(0)
        for prefix in (base, str(root)):
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return path[len(prefix) :].lstrip("/") or "."
        return f"local-path#{_digest(path)}"

    out = _PATH.sub(replace, text)
    host = platform.node()
    if len(host) >= 3:
        out = out.replace(host, f"host#{_digest(host)}")
    user = getpass.getuser()
    if len(user) >= 3:
        out = re.sub(rf"\b{re.escape(user)}\b(?=[/\\])", f"user#{_digest(user)}", out)
    return out


# -- metadata --------------------------------------------------------------------------------------------------
def recorded_run(results_dir: Path, results: ResultSet) -> dict[str, object]:
    """``run.json`` as the run wrote it (commit, machine, accelerator at run time) in the tables folder of
    ``results`` (``DIR/<suite>[+variant]/``; older runs: ``DIR``), or {} when absent."""
    from geneb_bench.runner.finish import table_scope, tables_dir

    folder = tables_dir(Path(results_dir), table_scope(results, ""))
    for path in (folder / "run.json", Path(results_dir) / "run.json"):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            return data
    return {}


def task_sources(revisions: list[str]) -> str:
    """Where the task data came from, in one line: local task folders as their count and common parent
    (one path per task made the card as tall as the suite), other revisions (hub commits, seeded splits) each."""
    values = sorted(set(revisions))
    local = [v.removeprefix("local:") for v in values if v.startswith("local:")]
    others = [v for v in values if not v.startswith("local:")]
    if len(local) > 3:
        parent = os.path.commonpath(local)
        where = f" under {parent}" if parent not in ("", "/", ".") else ""
        others.append(f"local: {len(local)} task folders{where}")
    else:
        others += [f"local:{v}" for v in local]
    return ", ".join(others) or "unknown"


def run_metadata(results: list[ItemResult], recorded: dict[str, object] | None = None) -> dict[str, str]:
    """What produced these numbers: harness and package versions, protocol, data revision, machine, commit.

    Commit and machine come from ``run.json`` (recorded when the run ended); the report's own are shown
    only for results without one, and say so."""
    recorded = recorded or {}
    from geneb_bench.data.suites import GENEB_DATASET, GENEB_REVISION

    def distinct(values: list[str]) -> str:
        return ", ".join(sorted(set(values))) or "unknown"

    meta = {
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "geneb-bench (report)": __version__,
        "suite": distinct([r.suite or "not recorded" for r in results]),
        "protocol": distinct([r.protocol for r in results]),
        "seeds": distinct([",".join(str(s["seed"]) for s in r.per_seed) for r in results]),
        "probe": distinct([f"{r.probe} ({r.probe_backend})" for r in results]),
        "task data revision": task_sources([str(r.task_revision) for r in results]),
        "GENEB dataset pin": f"{GENEB_DATASET}@{GENEB_REVISION}",
        "models": distinct([r.model for r in results]),
        "result files": str(len(results)),
        "machine (run)": str(recorded.get("machine") or f"{machine()} (report machine; run not recorded)"),
        "accelerator (run)": str(recorded.get("accelerator") or "not recorded"),
        "git commit (run)": str(recorded.get("git_commit") or "not recorded in run.json"),
        "git commit (report)": git_commit() or "not a git checkout",
        "published reference": CITATION,
    }
    for name in ("python", "numpy", "scikit-learn", "torch", "transformers"):
        meta[f"{name} (runs)"] = distinct([r.versions.get(name, "unknown") for r in results])
    return meta


# -- tables ----------------------------------------------------------------------------------------------------
def _blank(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value))


def _cell(column: str, value: object) -> tuple[str, str | None]:
    """(shown text, sort key or None): params as 117M sorted by the count, floats at 4 decimals, blanks empty."""
    if _blank(value):
        return "", None
    if isinstance(value, bool):
        return str(value), None
    if isinstance(value, int | np.integer):
        return str(int(value)), None
    if isinstance(value, float | int):
        if column == "params":
            return (human_count(float(value)) if value > 0 else "0"), f"{float(value):.6g}"
        if isinstance(value, float):
            return (f"{value:.3g}" if abs(value) >= 1e4 else f"{value:.4f}"), None
    return str(value), None


def html_table(
    frame: pd.DataFrame,
    table_id: str,
    *,
    row_classes: Sequence[str] = (),
    hidden: Sequence[str] = (),
    order: Sequence[tuple[str, str]] = (),
    fixed: str | None = None,
    headers: dict[str, str] | None = None,
    auto: Sequence[str] = (),
) -> str:
    """A table DataTables enhances (``report.js``): ``data-hidden`` columns start hidden, ``data-order`` is
    the first sort, ``data-fixed`` a column sorted first always (rows listed apart), ``data-auto`` columns
    show only while a shown row has a value. Every cell escaped."""
    headers = headers or {}
    columns = [str(c) for c in frame.columns]
    text_columns = {c for c in columns if frame[c].map(lambda v: isinstance(v, str) and bool(v)).any()}
    text_columns -= {"macro ±", "±", "macro 95% CI", "95% CI", "tasks"}

    def klass(column: str) -> str:
        return ' class="text"' if column in text_columns else ""

    head = "".join(
        f'<th data-name="{html.escape(c)}"{klass(c)}>{html.escape(headers.get(c, c))}</th>' for c in columns
    )
    body = []
    for i, row in enumerate(frame.itertuples(index=False)):
        cells = []
        for column, value in zip(columns, row, strict=True):
            text, key = _cell(column, value)
            order_attr = f' data-order="{key}"' if key is not None else ""
            cells.append(f"<td{klass(column)}{order_attr}>{html.escape(text)}</td>")
        cls = f' class="{row_classes[i]}"' if i < len(row_classes) and row_classes[i] else ""
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    attrs = {
        "data-auto": json.dumps([c for c in auto if c in columns]),
        "data-hidden": json.dumps([c for c in hidden if c in columns]),
        "data-order": json.dumps([[c, d] for c, d in order if c in columns]),
    }
    if fixed:
        attrs["data-fixed"] = fixed
    attr = "".join(f" {k}='{html.escape(v, quote=False)}'" for k, v in attrs.items())
    return (
        f'<div class="scroll"><table class="geneb compact" id="{table_id}"{attr}><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _select(label: str, column: str, values: Sequence[str], default: str = "", **data: str) -> str:
    """A filter of one column (``data-column``) or a chooser of which hidden column to show (``data-show``)."""
    options = "".join(
        f'<option value="{html.escape(v)}"{" selected" if v == default else ""}>{html.escape(v or "all")}</option>'
        for v in values
    )
    extra = "".join(f' data-{k}="{html.escape(v)}"' for k, v in data.items())
    kind = "data-show" if "show" in data else f'data-column="{html.escape(column)}"'
    return f'<label>{html.escape(label)} <select {kind}{extra} name="{html.escape(column)}">{options}</select></label>'


def _filters(table_id: str, selects: list[str]) -> str:
    return f'<div class="filters" data-for="{table_id}" hidden>{"".join(selects)}</div>'


def _distinct(values: pd.Series) -> list[str]:
    return sorted({str(v) for v in values if isinstance(v, str) and v})


def _leaderboard(board: pd.DataFrame, default_basis: str) -> str:
    regimes = [r.name for r in REGIMES if r.name in set(board["regime"])]
    shown = board[[c for c in views.LEADERBOARD_COLUMNS if c in board.columns]].copy()
    if not board["macro ±"].astype(bool).any():
        shown = shown.drop(columns="macro ±")
    if not board["macro 95% CI"].astype(bool).any():
        shown = shown.drop(columns="macro 95% CI")
    shown["model"] = [
        f"{m} (rank range {r})" if r else m for m, r in zip(board["model"], board["rank_range"], strict=True)
    ]
    classes = [
        " ".join(c for c, on in (("mine", p == views.YOURS), ("apart", g == 1), ("defect", bool(d))) if on)
        for p, g, d in zip(board["provenance"], board["group"], board["defect"], strict=True)
    ]
    categories = [c for c in CATEGORY_NAMES if c in shown.columns and shown[c].notna().any()]
    selects = [
        _select("basis", "basis", _distinct(board["basis"]), default_basis),
        _select("regime", "regime", regimes, "full" if "full" in regimes else regimes[0]),
        _select("category", "category", ["", *categories], show="1", sort="desc", require="1"),
        _select("architecture", "architecture", ["", *_distinct(board["architecture"])]),
        _select(
            "size", "size", ["", *[label for _, label in views.SIZE_BINS if label in set(board["size"])]]
        ),
        _select("provenance", "provenance", ["", *_distinct(board["provenance"])]),
    ]
    return _filters("leaderboard", selects) + html_table(
        shown,
        "leaderboard",
        row_classes=classes,
        hidden=["basis", "regime", "group", *CATEGORY_NAMES],
        order=[("rank", "asc"), ("macro", "desc")],
        fixed="group",
        auto=["macro ±"],
    )


def _tasks(tasks: pd.DataFrame) -> str:
    published = [c for c in tasks.columns if c.startswith("pub:")]
    keep = [c for c in tasks.columns if c not in published and not (tasks[c].astype(str) == "").all()]
    shown = tasks[keep + published]
    regimes = [r.name for r in REGIMES if r.name in set(tasks["regime"])]
    selects = [
        _select("regime", "regime", regimes, "full" if "full" in regimes else regimes[0]),
        _select("model", "model", ["", *_distinct(tasks["model"])]),
        _select("category", "category", ["", *_distinct(tasks["category"])]),
    ]
    if published:
        selects.append(_select("beside a published model", "published", ["", *published], show="1"))
    headers = {c: c.removeprefix("pub:") + " (published)" for c in published}
    return _filters("tasks", selects) + html_table(
        shown,
        "tasks",
        hidden=published,
        order=[("category", "asc"), ("task", "asc")],
        headers=headers,
        auto=["±"],
    )


def _categories(frame: pd.DataFrame) -> str:
    parts = [
        views.category_view(frame, published_table(), regime).assign(regime=regime)
        for regime in [r.name for r in REGIMES]
    ]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return ""
    table = pd.concat(parts, ignore_index=True)
    table = table[["regime", *[c for c in table.columns if c != "regime"]]]
    regimes = [r.name for r in REGIMES if r.name in set(table["regime"])]
    return _filters("categories", [_select("regime", "regime", regimes, regimes[0])]) + html_table(
        table, "categories", hidden=["regime"]
    )


# -- summary ---------------------------------------------------------------------------------------------------
def _dl(items: dict[str, str]) -> str:
    return (
        "<dl>"
        + "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in items.items())
        + "</dl>"
    )


def _placement(
    local: pd.DataFrame, board: pd.DataFrame, matched: MatchedComparison | None, suite: str
) -> str:
    """One line per user model (full data): its matched rank, or its rank on all 100 tasks, or why none."""
    lines = []
    full = local[local["regime"] == "full"] if (local["regime"] == "full").any() else local
    n_published = int(
        ((board["basis"] == views.PUBLISHED_BASIS) & (board["provenance"] != views.YOURS)).sum()
    )
    n_published //= max(1, board.loc[board["basis"] == views.PUBLISHED_BASIS, "regime"].nunique())
    for _, row in full.iterrows():
        name = html.escape(str(row.get("display") or row["model"]))
        if row["status"] == COMPLETE:
            ranked = board[
                (board["basis"] == views.PUBLISHED_BASIS)
                & (board["key"] == row["model"])
                & (board["provenance"] == views.YOURS)
                & (board["regime"] == row["regime"])
            ]
            rank = ranked["rank"].iloc[0] if len(ranked) else None
            lines.append(
                f"<b>{name}</b>: rank {rank} of {n_published + 1} on all 100 tasks, macro-MCC {row['macro']:.3f}"
            )
            continue
        found = next((r for r in (matched.yours if matched else []) if r.key == row["model"]), None)
        if matched is not None and found is not None:
            spread = (
                f" (95% range {found.rank_low}-{found.rank_high})"
                if found.rank_low is not None and found.rank_low != found.rank_high
                else ""
            )
            of = len(matched.rows)  # ranked among the published rows and your other models
            lines.append(
                f"<b>{name}</b>: rank {found.rank}{spread} of {of}, macro-MCC {found.macro:.3f}, "
                f"{html.escape(matched.label)}"
            )
        elif suite != "geneb":
            lines.append(f"<b>{name}</b>: not placed ({html.escape(str(row['status']))})")
        else:
            lines.append(
                f"<b>{name}</b>: not placed ({html.escape(str(row['status']))}; no matched comparison)"
            )
    note = (
        '<p class="note">The published models have no per-row data: the rank range covers only the '
        "uncertainty of your own rows (bootstrap over your test rows).</p>"
        if any("matched on" in line for line in lines)
        else ""
    )
    return "".join(f'<p class="placement">{line}</p>' for line in lines) + note


def _summary(
    frame: pd.DataFrame,
    local: pd.DataFrame,
    meta: dict[str, str],
    board: pd.DataFrame,
    matched: MatchedComparison | None,
) -> str:
    suite = str(local["suite"].iloc[0]) if "suite" in local and len(local) else ""
    n_tasks, n_categories = frame["task_id"].nunique(), frame["category"].nunique()
    ran = {
        "models": ", ".join(_distinct(local["model"])),
        "suite": describe_suite(frame),
        "regimes": ", ".join(r.name for r in REGIMES if r.name in set(frame["regime"])),
        "seeds": meta["seeds"],
        "coverage": f"{n_tasks} tasks in {n_categories} categories"
        + (f" (of 100 tasks, {len(CATEGORY_NAMES)} categories)" if suite == "geneb" else ""),
    }
    provenance = {
        "harness": f"geneb-bench {meta['geneb-bench (report)']}",
        "protocol": meta["protocol"],
        "task data": meta["task data revision"],
        "git commit (run)": meta["git commit (run)"],
        "probe": meta["probe"],
        "published": "Ledneva et al., ICML 2026 (leaderboard darlednik/GENEB@9642d481)",
    }
    return (
        '<div class="summary">'
        f'<div class="card"><h3>What ran</h3>{_dl(ran)}</div>'
        f'<div class="card"><h3>Provenance</h3>{_dl(provenance)}</div>'
        f'<div class="card"><h3>Placement among the published models</h3>'
        f"{_placement(local, board, matched, suite)}</div>"
        "</div>"
    )


# -- figures ---------------------------------------------------------------------------------------------------
def _figures(table: pd.DataFrame, out_dir: Path) -> str:
    """Every registered figure, written to ``out_dir`` as SVG and PNG and shown inline (SVG). A figure that
    fails to draw is reported in its place; the report and the other figures are still written."""
    parts = []
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, spec in figures.FIGURES.items():
        try:
            png, svg = figures.save_figure(spec, table, out_dir)
        except Exception as exc:
            parts.append(
                f'<p class="error">figure {html.escape(name)} could not be drawn: '
                f"{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</p>"
            )
            continue
        text = svg.read_text(encoding="utf-8")
        links = f'<a href="{out_dir.name}/{svg.name}">SVG</a><a href="{out_dir.name}/{png.name}">PNG</a>'
        parts.append(
            f'<figure id="figure-{html.escape(name)}">{text[text.index("<svg") :]}'
            f"<figcaption>{html.escape(spec.caption)}{links}</figcaption></figure>"
        )
    return "\n".join(parts)


def _audit_section(frame: pd.DataFrame, audits: dict[str, TaskAudit]) -> str:
    """Per task: audit verdict, flagged checks, no-model MCC beside each model's MCC; macro without FAIL tasks."""
    from geneb_bench.results.audited import NOT_OFFICIAL, audited_regimes, task_table, without_fail

    failing = sorted(t for t, a in audits.items() if a.verdict == "FAIL")
    out = [
        '<section id="view-audit"><h2>Task audit (seqleak)</h2>',
        '<p class="note">audit: seqleak\'s verdict on each task as loaded (PASS; WARN: a signal below the defect '
        "level, common on real tasks, worth a look; FAIL: a leak at the level manual audits count as a defect). "
        "no-model MCC: seqleak's best rule without any model, chosen on test (an upper bound). "
        "Details: <code>geneb tasks --audit</code>.</p>",
    ]
    for regime in audited_regimes(frame):
        table = task_table(frame, audits, regime)
        out += [
            f"<h3>{regime}: MCC per task</h3>",
            html_table(
                table, f"audit-{regime}", row_classes=[f"audit-{v}" if v else "" for v in table["audit"]]
            ),
            f"<h4>Macro / micro MCC {html.escape(NOT_OFFICIAL)}</h4>",
            f'<p class="note">Left out: {html.escape(", ".join(failing) or "none")}. '
            "The official GENEB macro-MCC is the one in the leaderboard.</p>",
            html_table(without_fail(frame, audits, regime).reset_index(), f"audit-macro-{regime}"),
        ]
    return "\n".join([*out, "</section>"])


def matched_comparisons(loaded: ResultSet) -> dict[str, MatchedComparison | None]:
    """Per regime, the matched comparison (``reports.matched``): {} for lite/custom suites and variants."""
    from geneb_bench.reports.matched import matched_comparisons as compute

    return dict(compute(loaded.results))


def _defects() -> str:
    defects = published_defects()
    table = pd.DataFrame(
        {
            "model": list(defects),
            "defect": [d[0] for d in defects.values()],
            "why": [d[1] for d in defects.values()],
        }
    )
    return html_table(table, "defects")


# -- the page --------------------------------------------------------------------------------------------------
SECTIONS = (
    ("summary", "Summary"),
    ("leaderboard", "Leaderboard"),
    ("categories", "Categories"),
    ("tasks", "Tasks"),
    ("figures", "Figures"),
    ("run", "Run details"),
)


def build_html(
    results_dir: Path,
    compare_published: bool = True,
    cache_dir: Path | None = None,
    suite: str | None = None,
    figures_dir: Path | None = None,
) -> str:
    """The report of one suite's results; task audits are shown when ``results_dir/audit.json`` or
    ``cache_dir`` holds audits of exactly these tasks' data. Figures go to ``figures_dir`` (default
    ``results_dir/figures``)."""
    from geneb_bench.results.audited import find_audits, fingerprints

    results_dir = Path(results_dir)
    loaded = ResultSet.load(results_dir, suite=suite)
    results, frame = loaded.results, loaded.frame
    if frame.empty:
        raise ValueError(f"no result files under {results_dir}")
    audits = find_audits(fingerprints(results), results_dir, cache_dir)
    local = results_table(loaded)
    meta = run_metadata(results, recorded_run(results_dir, loaded))
    published = published_table() if compare_published else published_table().iloc[0:0]
    matched = matched_comparisons(loaded) if compare_published else {}
    board = views.leaderboard_rows(local, published, matched)
    # a complete run opens on the published table (its own basis); a partial one on its matched tasks
    complete = bool(len(local)) and (local["status"] == COMPLETE).all()
    found = matched.get("full")
    default_basis = found.label if found is not None and not complete else views.PUBLISHED_BASIS
    nav = "".join(f'<a href="#view-{key}">{title}</a>' for key, title in SECTIONS)
    body = [
        f'<header class="top"><h1>GENEB report</h1><nav>{nav}</nav></header><main>',
        '<section id="view-summary"><h2>Summary</h2>',
        _summary(frame, local, meta, board, matched.get("full")),
        f'<p class="note">Only complete runs of the GENEB suite under the protocol ({PROTOCOL_VERSION}) are '
        "ranked on all 100 tasks; a partial run of GENEB tasks is ranked on the tasks it ran (basis "
        '"matched"), beside every published model recomputed on the same tasks; lite and custom suites are '
        "never placed.</p></section>",
        '<section id="view-leaderboard"><h2>Leaderboard (MCC)</h2>',
        f'<p class="note">Your rows are highlighted in red; rows listed apart (grey, below) are not comparable '
        f"on the chosen basis, and their tasks column says why. Yellow: a published row with a known defect "
        f"(listed under Run details). {html.escape(FULL_DATA_NOTE)}</p>",
        _leaderboard(board, default_basis),
        "</section>",
        '<section id="view-categories"><h2>Per category</h2>',
        '<p class="note">Your models\' MCC per category beside the best and the median published model '
        "recomputed on the same tasks (the published per-task table).</p>",
        _categories(frame),
        "</section>",
        '<section id="view-tasks"><h2>Per task</h2>',
        '<p class="note">Your MCC on each task beside the published values on that task; choose a published '
        "model to see its column.</p>",
        _tasks(views.task_view(frame, item_intervals(results))),
        "</section>",
        '<section id="view-figures"><h2>Figures</h2><p class="note">Every figure is also written as SVG and PNG '
        "into <code>figures/</code> beside this page.</p>",
        "@@FIGURES@@",
        "</section>",
    ]
    if audits:
        body.append(_audit_section(frame, audits))
    body += [
        '<section id="view-run"><h2>Run details</h2>',
        html_table(pd.DataFrame({"field": list(meta), "value": list(meta.values())}), "meta"),
        "<h3>Known defects of published rows (marked yellow in the leaderboard)</h3>",
        _defects(),
        f'<p class="note">Published reference: {html.escape(CITATION)}</p>',
        "</section></main>",
    ]
    text = scrub("\n".join(body), results_dir)
    drawn = views.figure_table(local, published, matched)
    text = text.replace("@@FIGURES@@", _figures(drawn, figures_dir or results_dir / "figures"))
    widget = assets.table_widget()
    if widget is None:
        script = (
            f'<p class="note" id="no-widget">Tables are static: install the table widget for sorting and '
            f"filtering: <code>{html.escape(assets.INSTALL_HINT)}</code></p>"
        )
        style = ""
    else:
        script = (
            f'<script type="text/plain" id="datatables-bundle">{widget.js}</script>'
            f'<script type="module">{assets.page_js()}</script>'
        )
        style = f"<style>{widget.css}</style>"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            "<title>GENEB report (geneb-bench)</title>",
            f"{style}<style>{assets.page_css()}</style></head><body>",
            text,
            script,
            "</body></html>",
        ]
    )


def write_html(
    results_dir: Path,
    output: Path | None = None,
    compare_published: bool = True,
    cache_dir: Path | None = None,
    suite: str | None = None,
) -> Path:
    """Write ``report.html`` into ``results_dir`` (or ``output``) and its figures into ``figures/`` beside it."""
    path = Path(output) if output else Path(results_dir) / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    page = build_html(results_dir, compare_published, cache_dir, suite, figures_dir=path.parent / "figures")
    path.write_text(page, encoding="utf-8")
    return path
