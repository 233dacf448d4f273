"""The end of a run: the tables and ``run.json`` written from the run's result files.

Shared by the pytest plugin (``plugin.reporting``, on the controller) and the Python API (``runner.api``),
so both produce byte-identical tables from the same results.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from geneb_bench.io import atomic_write_text
from geneb_bench.results.record import package_versions
from geneb_bench.results.render import write_reports
from geneb_bench.results.resultset import ResultSet
from geneb_bench.runner.settings import Settings

if TYPE_CHECKING:
    from geneb_bench.data.audit import TaskAudit


def write_run_outputs(
    settings: Settings, results: ResultSet, resumed: Iterable[str], wall_s: float,
    audits: dict[str, TaskAudit] | None = None,
) -> list[Path]:
    """Write ``leaderboard.md/.csv``, ``results.csv`` and ``run.json``; return their paths.

    Task ``audits`` (default: as ``settings.audit`` asks, see ``runner.audits``) add the audit tables."""
    results_dir = settings.results_dir
    if audits is None:
        from geneb_bench.runner.audits import run_audits

        audits = run_audits(settings, results.results)
    written = write_reports(results.frame, results_dir, audits)
    run = results_dir / "run.json"
    summary = {
        "suite": settings.suite,
        "models": list(settings.models),
        # the commit each model ran at (hub branches resolved through geneb.lock)
        "model_revisions": {s.key: s.revision for s in settings.specs},
        "regimes": [r.name for r in settings.regimes],
        "seeds": list(settings.seeds),
        "shard": list(settings.shard) if settings.shard else None,
        "items": len(results),
        "resumed": len(set(resumed)),
        "wall_s": round(wall_s, 2),
        "versions": package_versions(),
    }
    atomic_write_text(run, json.dumps(summary, indent=2) + "\n")
    written.append(run)
    return written
