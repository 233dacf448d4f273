"""``--geneb-audit``: audits in a run only when asked or cached, and the release gate on leaking tasks."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from geneb_bench.data import audit as audit_mod
from geneb_bench.data.audit import AuditUnavailable
from tests.conftest import SWEEP_SCOPE

if TYPE_CHECKING:
    from tests.conftest import Sweep

pytest_plugins = ["pytester"]

try:  # imported outside the in-process pytester runs (see tests/conftest.py: torch): pytester drops modules
    # first imported during a run, and numpy/scipy extension modules cannot be loaded twice in one process
    import scipy.sparse.csgraph
    import scipy.stats  # noqa: F401
    import seqleak.audit  # noqa: F401
except ImportError:
    pass


def _copied_rows(seed: int) -> str:
    rng = np.random.default_rng(seed)
    return "text,label\n" + "".join(
        f"{''.join(rng.choice(list('ACGT'), size=60))},{i % 2}\n" for i in range(60)
    )


@pytest.fixture
def two_tasks(sweep: Sweep) -> Sweep:
    """A good task and a leaky one (its test split is a copy of training rows: overlap.exact FAILs)."""
    try:
        audit_mod.seqleak_version()
    except AuditUnavailable as exc:
        pytest.skip(str(exc))
    sweep.regimes = "full"
    sweep.good_task("good")
    train = _copied_rows(7)
    sweep.task(
        "leaky",
        {"train.csv": train, "test.csv": "\n".join(train.splitlines()[:31]) + "\n"},
        # allowed on purpose (the overlap check would refuse it first): the audit is what is tested
        'train = "{dir}/train.csv"\ntest = "{dir}/test.csv"\nallow_overlap = true',
        "Enhancers",
    )
    return sweep


def test_gate_fails_items_of_failing_tasks_and_publishes_no_number(two_tasks: Sweep) -> None:
    result = two_tasks.run("--geneb-audit=fail-on=fail")
    result.assert_outcomes(passed=1, failed=1)
    reports = type(two_tasks).reports(result)
    leaky = next(r for k, r in reports.items() if "leaky" in k)
    assert (
        "geneb audit gate (--geneb-audit fail-on=fail): task leaky is FAIL: FAIL overlap.exact 1.000 >= 0.05"
        in str(leaky.longrepr)
    )
    assert list(two_tasks.results()) == ["kmer-3/good/full"]
    audits = json.loads((two_tasks.root / "out" / SWEEP_SCOPE / "audit.json").read_text())
    assert [a["task_id"] for a in audits] == ["good"]
    assert "Task audit (seqleak)" in (two_tasks.root / "out" / SWEEP_SCOPE / "leaderboard.md").read_text()


def test_audits_only_when_asked_or_cached(two_tasks: Sweep) -> None:
    two_tasks.run().assert_outcomes(passed=2)
    assert not (two_tasks.root / "out" / SWEEP_SCOPE / "audit.json").exists()
    assert "Task audit" not in (two_tasks.root / "out" / SWEEP_SCOPE / "leaderboard.md").read_text()

    result = two_tasks.run("--geneb-audit=on", results="on")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "Task audit (seqleak) - MCC - full",
            "*leaky*FAIL*overlap.exact*",
            "MCC without FAIL tasks - not the official GENEB number (1 left out: leaky)",
        ]
    )
    markdown = (two_tasks.root / "on" / SWEEP_SCOPE / "leaderboard.md").read_text()
    assert markdown.startswith((two_tasks.root / "out" / SWEEP_SCOPE / "leaderboard.md").read_text())

    from geneb_bench.cli import main

    root = two_tasks.root
    assert (
        main(
            [
                "report",
                str(root / "out"),
                "-o",
                str(root / "rep"),
                "--cache-dir",
                str(root / "cache"),
                "--html",
            ]
        )
        == 0
    )  # a results dir without audit.json: the cached audits of its task data
    page = (root / "rep" / "report.html").read_text()
    assert "<h2>Task audit (seqleak)</h2>" in page
    assert 'class="audit-FAIL"><td class="text">leaky</td>' in page
    assert "Macro / micro MCC without FAIL tasks - not the official GENEB number" in page
    assert "Task audit (seqleak)" in (root / "rep" / "leaderboard.md").read_text()
    assert main(["report", str(root / "out"), "-o", str(root / "plain"), "--no-audit"]) == 0
    assert (root / "plain" / "leaderboard.md").read_bytes() == (
        root / "out" / SWEEP_SCOPE / "leaderboard.md"
    ).read_bytes()

    two_tasks.run(results="cached").assert_outcomes(passed=2)  # same cache: the audits are shown
    assert "Task audit (seqleak)" in (two_tasks.root / "cached" / SWEEP_SCOPE / "leaderboard.md").read_text()
    two_tasks.run("--geneb-audit=off", results="off").assert_outcomes(passed=2)
    assert "Task audit" not in (two_tasks.root / "off" / SWEEP_SCOPE / "leaderboard.md").read_text()


def test_missing_seqleak_is_a_usage_error(sweep: Sweep, monkeypatch: pytest.MonkeyPatch) -> None:
    def absent() -> Any:
        raise AuditUnavailable(f"the task audit needs seqleak: {audit_mod.INSTALL_HINT}")

    monkeypatch.setattr(audit_mod, "seqleak_version", absent)
    sweep.good_task("good")
    result = sweep.run("--geneb-audit=on")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert (
        "geneb: --geneb-audit on: the task audit needs seqleak: pip install 'geneb-bench[audit]'"
        in result.stderr.str()
    )
