"""One self-contained HTML report of a results dir: tables, figures and the metadata needed to trust them.

Self-contained (PNG as base64 ``<img>``, SVG inline, CSS in ``<style>``, no scripts, no external URLs) so
the file can be mailed, archived or attached to a CI run and still open years later, offline.
"""

from __future__ import annotations

import base64
import html
import os
import platform
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from geneb_bench import __version__
from geneb_bench.protocol import REGIMES
from geneb_bench.reports import figures
from geneb_bench.reports.compare import combined_leaderboard, compare_to_published
from geneb_bench.reports.published import CITATION, published_defects, published_table, results_table
from geneb_bench.results.record import ItemResult
from geneb_bench.results.resultset import ResultSet

if TYPE_CHECKING:
    from geneb_bench.data.audit import TaskAudit

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px;color:#222}
table{border-collapse:collapse;font-size:12px;margin:0.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:right}
th{background:#f0f0f0} td:first-child,th:first-child{text-align:left}
tr.local td{background:#fde8e8} tr.partial td{color:#888;font-style:italic}
tr.defect td{background:#fff4d6}
figure{margin:1em 0} figure img,figure svg{max-width:100%;height:auto}
.meta td{text-align:left} .error{color:#b00}
tr.audit-FAIL td{background:#f8d7da} tr.audit-WARN td{background:#fff3cd} p.note{font-size:12px;color:#555}
"""


def git_commit(start: Path | None = None) -> str | None:
    """The commit of the enclosing git checkout, read from ``.git`` directly (no git binary needed)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        git = folder / ".git"
        if not (git / "HEAD").is_file():
            continue
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        if (git / ref).is_file():
            return (git / ref).read_text().strip()
        packed = git / "packed-refs"
        if packed.is_file():
            for line in packed.read_text().splitlines():
                if line.endswith(" " + ref):
                    return line.split()[0]
        return None
    return None


def run_metadata(results: list[ItemResult]) -> dict[str, str]:
    """What produced these numbers: harness and package versions, protocol, data revision, machine, commit."""
    from geneb_bench.data.suites import GENEB_DATASET, GENEB_REVISION

    def distinct(values: list[str]) -> str:
        return ", ".join(sorted(set(values))) or "unknown"

    meta = {
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "geneb-bench (report)": __version__,
        "protocol": distinct([r.protocol for r in results]),
        "task data revision": distinct([str(r.task_revision) for r in results]),
        "GENEB dataset pin": f"{GENEB_DATASET}@{GENEB_REVISION}",
        "models": distinct([r.model for r in results]),
        "result files": str(len(results)),
        "machine": f"{platform.node()} - {platform.platform()} - {platform.machine()} - {os.cpu_count()} CPUs",
        "git commit": git_commit() or "not available",
        "published reference": CITATION,
    }
    for name in ("python", "numpy", "scikit-learn", "torch", "transformers"):
        meta[f"{name} (runs)"] = distinct([r.versions.get(name, "unknown") for r in results])
    return meta


def _table(frame: pd.DataFrame, row_classes: list[str] | None = None) -> str:
    """A plain HTML table; floats at 4 decimals like the authors' outputs; every cell escaped."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for i, row in enumerate(frame.itertuples(index=False)):
        cells = []
        for value in row:
            if isinstance(value, float):
                text = "" if pd.isna(value) else (f"{value:.3g}" if abs(value) >= 1e4 else f"{value:.4f}")
            else:
                text = "" if value is None else str(value)
            cells.append(f"<td>{html.escape(text)}</td>")
        cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _figures(table: pd.DataFrame) -> str:
    """Every registered figure: PNG as base64 ``<img>``, SVG inline (XML prolog stripped). A figure that
    fails to draw is reported in its place; the report and the other figures are still written."""
    parts = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec in figures.FIGURES.items():
            try:
                png, svg = figures.save_figure(spec, table, Path(tmp))
            except Exception as exc:
                parts.append(f'<p class="error">figure {html.escape(name)} could not be drawn: '
                             f"{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</p>")
                continue
            if spec.inline_svg:
                text = svg.read_text()
                body = text[text.index("<svg"):]
            else:
                data = base64.b64encode(png.read_bytes()).decode("ascii")
                body = f'<img alt="{html.escape(spec.caption)}" src="data:image/png;base64,{data}">'
            parts.append(f'<figure id="figure-{html.escape(name)}">{body}'
                         f"<figcaption>{html.escape(spec.caption)}</figcaption></figure>")
    return "\n".join(parts)


def _audit_section(frame: pd.DataFrame, audits: dict[str, TaskAudit]) -> list[str]:
    """Per task: audit verdict, flagged checks, no-model MCC beside each model's MCC; macro without FAIL tasks."""
    from geneb_bench.results.audited import NOT_OFFICIAL, audited_regimes, task_table, without_fail

    failing = sorted(t for t, a in audits.items() if a.verdict == "FAIL")
    out = ["<h2>Task audit (seqleak)</h2>",
           '<p class="note">audit: seqleak\'s verdict on each task as loaded (PASS; WARN: a signal below the defect '
           "level, common on real tasks, worth a look; FAIL: a leak at the level manual audits count as a defect). "
           "no-model MCC: seqleak's best rule without any model, chosen on test (an upper bound). "
           "Details: <code>geneb tasks --audit</code>.</p>"]
    for regime in audited_regimes(frame):
        table = task_table(frame, audits, regime)
        out += [f"<h3>{regime}: MCC per task</h3>", _table(table, [f"audit-{v}" if v else "" for v in table["audit"]]),
                f"<h4>Macro / micro MCC {html.escape(NOT_OFFICIAL)}</h4>",
                f'<p class="note">Left out: {html.escape(", ".join(failing) or "none")}. '
                "The official GENEB macro-MCC is the one in the tables above.</p>",
                _table(without_fail(frame, audits, regime).reset_index())]
    return out


def build_html(results_dir: Path, compare_published: bool = True, cache_dir: Path | None = None) -> str:
    """The report; task audits are shown when ``results_dir/audit.json`` or ``cache_dir`` holds audits of
    exactly these tasks' data."""
    from geneb_bench.results.audited import find_audits, fingerprints

    loaded = ResultSet.load(Path(results_dir))
    results, frame = loaded.results, loaded.frame
    audits = find_audits(fingerprints(results), Path(results_dir), cache_dir)
    if frame.empty:
        raise ValueError(f"no result files under {results_dir}")
    local = results_table(frame)
    meta = run_metadata(results)
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           "<title>GENEB report (geneb-bench)</title>", f"<style>{_STYLE}</style></head><body>",
           "<h1>GENEB report</h1>", "<h2>Run</h2>",
           _table(pd.DataFrame({"field": list(meta), "value": list(meta.values())})).replace("<table>",
                                                                                             '<table class="meta">')]
    out.append("<h2>Your models (MCC)</h2>")
    for regime in [r.name for r in REGIMES]:
        sub = local[local["regime"] == regime]
        if sub.empty:
            continue
        shown = sub.drop(columns=["regime", "architecture", "tokenization", "pretraining_data", "display"],
                         errors="ignore")
        out += [f"<h3>{regime}</h3>", _table(shown)]
    if audits:
        out += _audit_section(frame, audits)
    table = local
    if compare_published:
        published = published_table()
        table = pd.concat([published, local], ignore_index=True)
        board = combined_leaderboard(local, "full", published)
        classes = ["local" if p == "local" else "" for p in board["provenance"]]
        classes = [f"{c} partial".strip() if s != "complete" else c for c, s in zip(classes, board["status"],
                                                                                     strict=True)]
        classes = [f"{c} defect".strip() if d else c for c, d in zip(classes, board["defect"], strict=True)]
        out += ["<h2>Among the published models (full data, macro-MCC)</h2>",
                "<p>Partial runs and runs of other suites are listed after the ranked rows and are not ranked. "
                f"Source: {html.escape(CITATION)}</p>", _table(board, classes)]
        defects = published_defects()
        out += ["<h3>Known defects of published rows (marked above)</h3>",
                _table(pd.DataFrame({"model": list(defects), "defect": [d[0] for d in defects.values()],
                                     "why": [d[1] for d in defects.values()]}))]
        placement = compare_to_published(frame, published)
        out += ["<h2>Placement per category and regime</h2>", _table(placement)]
    out += ["<h2>Figures</h2>", _figures(table), "</body></html>"]
    return "\n".join(out)


def write_html(results_dir: Path, output: Path | None = None, compare_published: bool = True,
               cache_dir: Path | None = None) -> Path:
    """Write ``report.html`` into ``results_dir`` (``reports/report.html`` for the default ``reports/``)."""
    path = Path(output) if output else Path(results_dir) / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(build_html(results_dir, compare_published, cache_dir), encoding="utf-8")
    return path
