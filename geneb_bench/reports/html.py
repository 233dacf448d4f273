"""One self-contained HTML report of a results dir: tables, figures and the metadata needed to trust them.

Self-contained (PNG as base64 ``<img>``, SVG inline, CSS in ``<style>``, no scripts, no external URLs) so
the file can be mailed, archived or attached to a CI run and still open years later, offline.
"""

from __future__ import annotations

import base64
import html
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from geneb_bench import __version__
from geneb_bench.environment import git_commit, machine
from geneb_bench.protocol import PROTOCOL_VERSION, REGIMES
from geneb_bench.reports import figures
from geneb_bench.reports.compare import combined_leaderboard, compare_to_published
from geneb_bench.reports.published import CITATION, published_defects, published_table, results_table
from geneb_bench.results.aggregate import describe_suite
from geneb_bench.results.record import ItemResult
from geneb_bench.results.resultset import ResultSet
from geneb_bench.results.uncertainty import item_intervals
from geneb_bench.text import human_count

if TYPE_CHECKING:
    from geneb_bench.data.audit import TaskAudit

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px;color:#222}
.scroll{overflow-x:auto;max-width:100%;margin:0.5em 0 1.5em}
table{border-collapse:collapse;font-size:12px}
.note{color:#555;font-size:13px}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:right}
th{background:#f0f0f0} td:first-child,th:first-child{text-align:left}
tr.local td{background:#fde8e8} tr.partial td{color:#888;font-style:italic}
tr.defect td{background:#fff4d6}
figure{margin:1em 0} figure img,figure svg{max-width:100%;height:auto}
.meta td{text-align:left} .error{color:#b00}
tr.audit-FAIL td{background:#f8d7da} tr.audit-WARN td{background:#fff3cd} p.note{font-size:12px;color:#555}
"""


def recorded_run(results_dir: Path) -> dict[str, object]:
    """``run.json`` as the run wrote it (commit, machine, accelerator at run time), or {} when absent."""
    path = Path(results_dir) / "run.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


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
        "task data revision": distinct([str(r.task_revision) for r in results]),
        "GENEB dataset pin": f"{GENEB_DATASET}@{GENEB_REVISION}",
        "models": distinct([r.model for r in results]),
        "result files": str(len(results)),
        "machine (run)": str(recorded.get("machine") or f"{machine()} (report machine; run not recorded)"),
        "accelerator (run)": str(recorded.get("accelerator") or "not recorded"),
        "git commit (run)": str(recorded.get("git_commit") or "not recorded (not a git checkout)"),
        "git commit (report)": git_commit() or "not a git checkout",
        "published reference": CITATION,
    }
    for name in ("python", "numpy", "scikit-learn", "torch", "transformers"):
        meta[f"{name} (runs)"] = distinct([r.versions.get(name, "unknown") for r in results])
    return meta


def _cell(column: str, value: object) -> str:
    """Blank for missing values (never ``<NA>``/``nan``), params as 117M, other floats at 4 decimals."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        if column == "params":
            return human_count(value)
        return f"{value:.3g}" if abs(value) >= 1e4 else f"{value:.4f}"
    return str(value)


def _table(frame: pd.DataFrame, row_classes: list[str] | None = None) -> str:
    """A plain HTML table in a horizontally scrolling box; every cell escaped."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    columns = [str(c) for c in frame.columns]
    for i, row in enumerate(frame.itertuples(index=False)):
        cells = []
        for column, value in zip(columns, row, strict=True):
            text = _cell(column, value)
            cells.append(f"<td>{html.escape(text)}</td>")
        cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _figures(table: pd.DataFrame) -> str:
    """Every registered figure: PNG as base64 ``<img>``, SVG inline (XML prolog stripped). A figure that
    fails to draw is reported in its place; the report and the other figures are still written."""
    parts = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec in figures.FIGURES.items():
            try:
                png, svg = figures.save_figure(spec, table, Path(tmp))
            except Exception as exc:
                parts.append(
                    f'<p class="error">figure {html.escape(name)} could not be drawn: '
                    f"{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</p>"
                )
                continue
            if spec.inline_svg:
                text = svg.read_text()
                body = text[text.index("<svg") :]
            else:
                data = base64.b64encode(png.read_bytes()).decode("ascii")
                body = f'<img alt="{html.escape(spec.caption)}" src="data:image/png;base64,{data}">'
            parts.append(
                f'<figure id="figure-{html.escape(name)}">{body}'
                f"<figcaption>{html.escape(spec.caption)}</figcaption></figure>"
            )
    return "\n".join(parts)


def _audit_section(frame: pd.DataFrame, audits: dict[str, TaskAudit]) -> list[str]:
    """Per task: audit verdict, flagged checks, no-model MCC beside each model's MCC; macro without FAIL tasks."""
    from geneb_bench.results.audited import NOT_OFFICIAL, audited_regimes, task_table, without_fail

    failing = sorted(t for t, a in audits.items() if a.verdict == "FAIL")
    out = [
        "<h2>Task audit (seqleak)</h2>",
        '<p class="note">audit: seqleak\'s verdict on each task as loaded (PASS; WARN: a signal below the defect '
        "level, common on real tasks, worth a look; FAIL: a leak at the level manual audits count as a defect). "
        "no-model MCC: seqleak's best rule without any model, chosen on test (an upper bound). "
        "Details: <code>geneb tasks --audit</code>.</p>",
    ]
    for regime in audited_regimes(frame):
        table = task_table(frame, audits, regime)
        out += [
            f"<h3>{regime}: MCC per task</h3>",
            _table(table, [f"audit-{v}" if v else "" for v in table["audit"]]),
            f"<h4>Macro / micro MCC {html.escape(NOT_OFFICIAL)}</h4>",
            f'<p class="note">Left out: {html.escape(", ".join(failing) or "none")}. '
            "The official GENEB macro-MCC is the one in the tables above.</p>",
            _table(without_fail(frame, audits, regime).reset_index()),
        ]
    return out


def _lead(frame: pd.DataFrame, first: list[str]) -> pd.DataFrame:
    """``frame`` with the ``first`` columns moved to the front (what a reader needs before scrolling)."""
    first = [c for c in first if c in frame.columns]
    return frame[[*first, *(c for c in frame.columns if c not in first)]]


MACRO_CI = "macro 95% CI"
UNCERTAINTY_NOTE = (
    "± is the standard deviation over the probe's seeds (same test rows); [low, high] is the 95% bootstrap "
    "confidence interval over test rows (1,000 resamples of each task's test split; for the macro, every "
    "task resampled independently and aggregated as the table is). Blank: results recorded before test "
    "outcomes were kept (rerun with --geneb-rerun to get them), or a published row (no per-task data)."
)


def _with_ci(table: pd.DataFrame) -> pd.DataFrame:
    """``macro_ci_low``/``macro_ci_high`` as one readable column ``macro 95% CI`` (``[0.39, 0.43]``)."""
    if "macro_ci_low" not in table.columns:
        return table
    shown = table.copy()
    shown[MACRO_CI] = [
        _interval(lo, hi)
        for lo, hi in zip(shown.pop("macro_ci_low"), shown.pop("macro_ci_high"), strict=True)
    ]
    return shown


def _interval(low: object, high: object) -> str:
    """``[0.39, 0.43]``; blank when there is no interval (results recorded without test outcomes)."""
    if not isinstance(low, float | int) or not isinstance(high, float | int) or pd.isna(low) or pd.isna(high):
        return ""
    return f"[{low:.2f}, {high:.2f}]"


def per_task_table(
    frame: pd.DataFrame, regime: str = "full", metric: str = "mcc", intervals: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Task x model: seed mean ± seed std of ``metric`` for one regime (the numbers behind each category),
    followed by the 95% bootstrap CI over test rows where ``intervals`` (``uncertainty.item_intervals``,
    MCC only) has one: ``0.4120 ± 0.0100 [0.39, 0.43]``."""
    sub = frame[frame["regime"] == regime]
    if sub.empty:
        return pd.DataFrame()
    if intervals is not None and metric == "mcc" and not intervals.empty:
        sub = sub.merge(intervals, on=["model", "task_id", "regime"], how="left")
    cis = (
        [_interval(lo, hi) for lo, hi in zip(sub["mcc_ci_low"], sub["mcc_ci_high"], strict=True)]
        if "mcc_ci_low" in sub.columns
        else [""] * len(sub)
    )
    cells = sub.assign(
        value=[
            f"{m:.4f} ± {s:.4f} {ci}".rstrip()
            for m, s, ci in zip(sub[metric], sub[f"{metric}_std"], cis, strict=True)
        ]
    )
    wide = cells.pivot_table(index=["category", "task_id"], columns="model", values="value", aggfunc="first")
    return wide.reset_index().rename_axis(columns=None)


def build_html(
    results_dir: Path, compare_published: bool = True, cache_dir: Path | None = None, suite: str | None = None
) -> str:
    """The report of one suite's results; task audits are shown when ``results_dir/audit.json`` or
    ``cache_dir`` holds audits of exactly these tasks' data."""
    from geneb_bench.results.audited import find_audits, fingerprints

    loaded = ResultSet.load(Path(results_dir), suite=suite)
    results, frame = loaded.results, loaded.frame
    audits = find_audits(fingerprints(results), Path(results_dir), cache_dir)
    if frame.empty:
        raise ValueError(f"no result files under {results_dir}")
    local = results_table(loaded)  # with recorded parameter counts and macro seed std / CI
    meta = run_metadata(results, recorded_run(Path(results_dir)))
    described = describe_suite(frame)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>GENEB report (geneb-bench)</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>GENEB report</h1>",
        f'<p class="note"><b>Suite:</b> {html.escape(described)}. Only complete runs of the GENEB suite under '
        f"the protocol ({html.escape(PROTOCOL_VERSION)}) are ranked among the published models; every other "
        "row carries its coverage and status and is listed apart.</p>",
        "<h2>Run</h2>",
        _table(pd.DataFrame({"field": list(meta), "value": list(meta.values())})).replace(
            "<table>", '<table class="meta">'
        ),
    ]
    out += ["<h2>Your models (MCC)</h2>", f'<p class="note">{html.escape(UNCERTAINTY_NOTE)}</p>']
    for regime in [r.name for r in REGIMES]:
        sub = local[local["regime"] == regime]
        if sub.empty:
            continue
        shown = _with_ci(sub).drop(
            columns=["regime", "architecture", "tokenization", "pretraining_data", "display"], errors="ignore"
        )
        out += [
            f"<h3>{regime}</h3>",
            _table(_lead(shown, ["model", "status", "coverage", "macro", "macro_std", MACRO_CI])),
        ]
    tasks = per_task_table(frame, intervals=item_intervals(results))
    if not tasks.empty:
        out += [
            "<h2>Per task (MCC, full data: mean ± std over seeds [95% bootstrap CI over test rows])</h2>",
            _table(tasks),
        ]
    if audits:
        out += _audit_section(frame, audits)
    table = local
    if compare_published:
        published = published_table()
        table = pd.concat([published, local], ignore_index=True)
        board = combined_leaderboard(local, "full", published)
        spread = local[local["regime"] == "full"].set_index("model")
        mine = board["provenance"] == "local"
        for column in ("macro_std", "macro_ci_low", "macro_ci_high"):  # published rows: no per-task data
            board[column] = (
                board["model"].map(spread[column]).where(mine) if column in spread else float("nan")
            )
        board = _lead(
            _with_ci(board), ["rank", "model", "provenance", "params", "macro", "macro_std", MACRO_CI]
        )
        ranked = board[board["status"] == "complete"]
        others = board[board["status"] != "complete"]
        ranked_classes = ["local" if p == "local" else "" for p in ranked["provenance"]]
        ranked_classes = [
            f"{c} defect".strip() if d else c for c, d in zip(ranked_classes, ranked["defect"], strict=True)
        ]
        out += [
            "<h2>Among the published models (full data, macro-MCC)</h2>",
            f"<p>Source: {html.escape(CITATION)}</p>",
            _table(ranked, ranked_classes),
        ]
        if not others.empty:
            out += [
                "<h2>Not ranked: partial runs, synthetic or custom suites, protocol variants</h2>",
                "<p>These rows are not comparable with the published ones: their status says why.</p>",
                _table(
                    _lead(others.drop(columns="rank"), ["model", "status", "coverage"]),
                    ["local partial" if p == "local" else "partial" for p in others["provenance"]],
                ),
            ]
        defects = published_defects()
        out += [
            "<h3>Known defects of published rows (marked above)</h3>",
            _table(
                pd.DataFrame(
                    {
                        "model": list(defects),
                        "defect": [d[0] for d in defects.values()],
                        "why": [d[1] for d in defects.values()],
                    }
                )
            ),
        ]
        out.append("<h2>Placement per category and regime</h2>")
        if set(local["suite"]) == {"geneb"}:
            placement = compare_to_published(frame, published)
            out += [
                "<p>rank and would_rank are given only where the comparison is fair (complete category or "
                "run of the GENEB suite, under the protocol).</p>",
                _table(placement),
            ]
        else:
            out.append(
                f"<p>None: these results are not of the GENEB suite ({html.escape(described)}), so they "
                "have no place among the published models.</p>"
            )
    out += ["<h2>Figures</h2>", _figures(table), "</body></html>"]
    return "\n".join(out)


def write_html(
    results_dir: Path,
    output: Path | None = None,
    compare_published: bool = True,
    cache_dir: Path | None = None,
    suite: str | None = None,
) -> Path:
    """Write ``report.html`` into ``results_dir`` (``reports/report.html`` for the default ``reports/``)."""
    path = Path(output) if output else Path(results_dir) / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(build_html(results_dir, compare_published, cache_dir, suite), encoding="utf-8")
    return path
