"""Audits beside the results: per-task verdict and no-model MCC, the no-FAIL variant, the official number kept."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from geneb_bench.data.audit import AuditCache, Flag, TaskAudit
from geneb_bench.results.aggregate import leaderboard
from geneb_bench.results.audited import AUDIT_FILE, NOT_OFFICIAL, find_audits, task_table, without_fail
from geneb_bench.results.render import write_reports

TASKS = {"t_leak": ("Promoters", 0.9), "t_ok": ("Promoters", 0.3), "t_warn": ("Enhancers", 0.5)}


def frame() -> pd.DataFrame:
    rows = []
    for model, shift in (("m1", 0.0), ("m2", 0.1)):
        for task, (category, mcc) in TASKS.items():
            for regime in ("full", "10shot"):
                rows.append(
                    {
                        "model": model,
                        "task_id": task,
                        "category": category,
                        "regime": regime,
                        "mcc": mcc + shift,
                        "accuracy": 0.5,
                        "f1": 0.5,
                        "mcc_std": 0.0,
                        "accuracy_std": 0.0,
                        "f1_std": 0.0,
                    }
                )
    return pd.DataFrame(rows)


def audit(task: str, verdict: str, baseline: float) -> TaskAudit:
    flags = () if verdict == "PASS" else (Flag("overlap.exact", verdict, 0.2, 0.005, 0.05),)
    return TaskAudit(
        task,
        TASKS[task][0],
        verdict=verdict,
        flags=flags,
        baseline_mcc=baseline,
        fingerprint=f"fp-{task}",
        seqleak_version="0.4.1",
    )


AUDITS = {
    "t_leak": audit("t_leak", "FAIL", 0.88),
    "t_ok": audit("t_ok", "PASS", 0.05),
    "t_warn": audit("t_warn", "WARN", 0.4),
}


def test_task_table_puts_verdict_and_baseline_beside_each_model() -> None:
    table = task_table(frame(), AUDITS, "full").set_index("task_id")
    assert list(table.columns) == ["category", "audit", "checks (FAIL/WARN)", "no-model MCC", "m1", "m2"]
    assert table.loc["t_leak", "audit"] == "FAIL"
    assert table.loc["t_leak", "no-model MCC"] == 0.88
    assert table.loc["t_leak", "m2"] == pytest.approx(1.0)
    assert table.loc["t_leak", "checks (FAIL/WARN)"] == "overlap.exact"
    assert table.loc["t_ok", "checks (FAIL/WARN)"] == ""
    unaudited = task_table(frame(), {}, "full")
    assert set(unaudited["audit"]) == {""}


def test_without_fail_leaves_out_only_fail_tasks_and_official_stays() -> None:
    data = frame()
    official = leaderboard(data, "full")
    board = without_fail(data, AUDITS, "full")
    # m1: Promoters = t_ok only (0.3), Enhancers 0.5 -> macro 0.4; micro over t_ok, t_warn = 0.4
    assert board.loc["m1", "macro (no FAIL)"] == pytest.approx(0.4)
    assert board.loc["m1", "micro (no FAIL)"] == pytest.approx(0.4)
    assert board.loc["m1", "n_tasks"] == 2
    assert official.loc["m1", "macro"] == pytest.approx(((0.9 + 0.3) / 2 + 0.5) / 2)
    assert leaderboard(data, "full").equals(official)  # the official table is not touched


def test_write_reports_unchanged_without_audits_and_labelled_with(tmp_path: Path) -> None:
    data = frame()
    plain, empty, audited = tmp_path / "plain", tmp_path / "empty", tmp_path / "audited"
    names = [p.name for p in write_reports(data, plain)]
    write_reports(data, empty, {})
    for name in names:
        assert (plain / name).read_bytes() == (empty / name).read_bytes()
    assert not (empty / AUDIT_FILE).exists()
    written = {p.name for p in write_reports(data, audited, AUDITS)}
    assert {AUDIT_FILE, "task_audit.csv"} <= written
    markdown = (audited / "leaderboard.md").read_text()
    assert markdown.startswith((plain / "leaderboard.md").read_text())  # official tables first, byte-equal
    assert NOT_OFFICIAL in markdown
    assert "| t_leak" in markdown
    for name in ("leaderboard.csv", "results.csv"):
        assert (plain / name).read_bytes() == (audited / name).read_bytes()
    per_task = pd.read_csv(audited / "task_audit.csv")
    assert set(per_task["regime"]) == {"full", "10shot"}
    assert len(per_task) == 6


def test_find_audits_by_fingerprint(tmp_path: Path) -> None:
    (tmp_path / AUDIT_FILE).write_text(json.dumps([AUDITS["t_ok"].to_json()]))
    AuditCache(tmp_path / "cache").write(AUDITS["t_leak"], {"schema": "seqleak.audit/1"})
    found = find_audits(
        {"t_ok": "fp-t_ok", "t_leak": "fp-t_leak", "t_warn": "fp-t_warn"}, tmp_path, tmp_path / "cache"
    )
    assert {t: a.verdict for t, a in found.items()} == {"t_ok": "PASS", "t_leak": "FAIL"}
    assert found["t_leak"].cached
    assert find_audits({"t_ok": "other-data"}, tmp_path, tmp_path / "cache") == {}
