"""Task audits for a run's results, as ``Settings.audit`` asks (``--geneb-audit`` or ``run(audit=...)``).

``cached`` (the default) shows only audits already cached for the same task content and computes none, so
a run's tables are unchanged unless audits exist; ``on`` and ``fail-on=...`` audit every task of the run
(cache hits after the first time); ``off`` shows none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from geneb_bench.data.audit import TaskAudit
    from geneb_bench.results.record import ItemResult
    from geneb_bench.runner.settings import Settings


def run_audits(settings: Settings, results: list[ItemResult]) -> dict[str, TaskAudit]:
    """task_id -> audit for the tasks of these results (see the module doc); never raises for one task."""
    if settings.audit == "off":
        return {}
    from geneb_bench.results.audited import find_audits, fingerprints

    wanted = fingerprints(results)
    found = find_audits(wanted, settings.results_dir, settings.cache_dir)
    if settings.audit == "cached":
        return found
    from geneb_bench.data.audit import audit_data
    from geneb_bench.data.suites import get_suite

    suite = get_suite(settings.suite)
    for task_id, fingerprint in wanted.items():
        if task_id in found and found[task_id].fingerprint == fingerprint:
            continue
        try:
            data = suite.load(task_id, settings.data_dir)
        except Exception:  # a task that cannot be loaded now simply has no audit column
            continue
        if (
            data.fingerprint() == fingerprint
            and (audit := audit_data(data, settings.cache_dir)).status == "ok"
        ):
            found[task_id] = audit
    return found
