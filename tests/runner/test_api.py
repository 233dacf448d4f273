"""``geneb_bench.run()``: the pytest-free engine gives the same result files and tables as the pytest run."""

from __future__ import annotations

from pathlib import Path

import pytest

import geneb_bench

# Imported before any pytester fixture snapshots sys.modules: it unloads what a test imported, and numpy's,
# sklearn's and pandas' C parts cannot be loaded twice in one process.
import geneb_bench.probe.evaluate
import geneb_bench.results.aggregate
import geneb_bench.runner.session
from tests.conftest import SWEEP_SCOPE, Sweep

TABLES = ("results.csv", "leaderboard.csv", "leaderboard.md")


@pytest.mark.slow
def test_run_gives_the_same_results_csv_as_the_pytest_run(sweep: Sweep) -> None:
    sweep.good_task("t1")
    sweep.good_task("t2", seed=2, category="Enhancers")
    # a subprocess: an in-process pytester run unloads the modules it imported (numpy's C parts cannot reload)
    assert sweep.subprocess(models=("kmer-2", "kmer-3"), results="pytest_out").returncode == 0
    results = geneb_bench.run(
        ["kmer-2", "kmer-3"],
        suite=str(sweep.suite),
        regimes=sweep.regimes.split(","),
        seeds=[13],
        cache_dir=sweep.root / "api_cache",
        results_dir=sweep.root / "api_out",
    )
    assert isinstance(results, geneb_bench.ResultSet)
    assert results.problems == []
    assert len(results) == 2 * 2 * 2
    for table in TABLES:
        assert (sweep.root / "api_out" / SWEEP_SCOPE / table).read_bytes() == (
            sweep.root / "pytest_out" / SWEEP_SCOPE / table
        ).read_bytes()
    assert set(results.frame["model"]) == {"kmer-2", "kmer-3"}


def test_run_filters_tasks_and_keeps_going_past_a_broken_item(sweep: Sweep, tmp_path: Path) -> None:
    sweep.good_task("t1")
    sweep.task("missing", {}, 'train = "{dir}/nope.csv"\ntest = "{dir}/nope.csv"')
    sweep.good_task("t3", seed=3, category="Enhancers")
    results = geneb_bench.run(
        ["kmer-2"],
        suite=str(sweep.suite),
        tasks=["t1", "missing"],
        regimes=["full"],
        seeds=[13],
        cache_dir=tmp_path / "cache",
        results_dir=tmp_path / "out",
    )
    assert {r.task_id for r in results} == {"t1"}, results.problems  # t3 filtered out; "missing" recorded
    assert [(p.kind, "missing" in p.item) for p in results.problems] == [("failed", True)]  # bad input
    assert "nope.csv: cannot read: file not found" in results.problems[0].message


def test_run_rejects_an_unknown_regime(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown regime"):
        geneb_bench.run(["kmer-2"], regimes=["fullest"], results_dir=tmp_path)
