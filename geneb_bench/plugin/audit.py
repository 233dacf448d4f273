"""``--geneb-audit``: task audits in a run, and the release gate that refuses numbers on leaking tasks.

Off the default path on purpose: without the option a run computes no audit (tables unchanged) and only
shows audits already cached for the same task content. ``on`` audits every task of the run at the end;
``fail-on=fail|warn`` audits each task before its first item and fails the items of a task at that
verdict with the audit's reason, before any embedding is computed, so no number is written for it (the
run then exits non-zero). A task whose audit itself errors is refused too: a gate cannot vouch for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from geneb_bench.data.audit import TaskAudit
    from geneb_bench.data.task import TaskData
    from geneb_bench.runner.settings import Settings


def require_seqleak(settings: Settings) -> None:
    """Fail fast (usage error with the install command) when the run asks for audits and seqleak is missing."""
    if settings.audit in ("cached", "off"):
        return
    from geneb_bench.data.audit import AuditUnavailable, seqleak_version

    try:
        seqleak_version()
    except AuditUnavailable as exc:
        raise pytest.UsageError(f"geneb: --geneb-audit {settings.audit}: {exc}") from None


def refusal(audit: TaskAudit, settings: Settings) -> str | None:
    """Why the gate refuses this task's numbers, or None."""
    fail_on = settings.audit_fail_on
    if fail_on is None:
        return None
    if audit.status != "ok":
        return f"geneb audit gate: {audit.task_id} could not be audited ({audit.message})"
    if audit.verdict == "FAIL" or (fail_on == "WARN" and audit.verdict == "WARN"):
        return (
            f"geneb audit gate (--geneb-audit {settings.audit}): task {audit.task_id} is {audit.verdict}: "
            f"{audit.reason()}; its numbers are not published"
        )
    return None


class AuditGate:
    """Registered on every process (controller and xdist workers) under ``fail-on=``; one audit per task."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.audits: dict[str, TaskAudit] = {}

    def audit(self, data: TaskData) -> TaskAudit:
        from geneb_bench.data.audit import audit_data

        if data.spec.task_id not in self.audits:
            self.audits[data.spec.task_id] = audit_data(data, self.settings.cache_dir)
        return self.audits[data.spec.task_id]

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> None:
        from geneb_bench.data.csv_tasks import TaskUnavailable
        from geneb_bench.plugin import _bench_item, get_session

        bench = _bench_item(item)
        if bench is None:
            return
        try:
            data = get_session(item.config).task_data(bench.task)
        except (TaskUnavailable, ValueError):
            return  # the item itself skips (no data) or fails (bad data) with its own message
        reason = refusal(self.audit(data), self.settings)
        if reason is not None:
            pytest.fail(reason, pytrace=False)
