"""``geneb_bench.run()``: the pytest-free engine gives the same result files and tables as the pytest run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


# ---- arguments are checked as the command line's options are (issue 24.6) -------------------------------


def _usage_error(sweep: Sweep, *options: str) -> str:
    """The pytest run's usage error for ``options``: the line after ``geneb: ``."""
    result = sweep.run(*options)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    (line,) = [line for line in result.errlines if "geneb: " in line]
    return line.split("geneb: ", 1)[1]


@pytest.mark.parametrize(
    ("kwargs", "option"),
    [
        ({"seeds": [-1]}, "--geneb-seeds=-1"),
        ({"seeds": [13, 2**32]}, f"--geneb-seeds=13,{2**32}"),
        ({"results_dir": "file"}, "--geneb-results-dir={root}/file"),
    ],
)
def test_bad_arguments_fail_before_any_work_with_the_command_lines_message(
    sweep: Sweep, kwargs: dict[str, Any], option: str
) -> None:
    """Was: an empty ResultSet and no error."""
    sweep.good_task("t1")
    (sweep.root / "file").write_text("a file where the results folder should be")
    if kwargs.get("results_dir") == "file":
        kwargs = {**kwargs, "results_dir": sweep.root / "file"}
    expected = _usage_error(sweep, option.format(root=sweep.root))
    with pytest.raises(ValueError, match=r"^--geneb-") as info:
        geneb_bench.run("kmer-2", suite=str(sweep.suite), **{"results_dir": sweep.root / "out", **kwargs})
    assert str(info.value) == expected
    assert not (sweep.root / "out").exists(), "nothing ran"


@pytest.mark.parametrize(
    ("tasks", "message"),
    [
        (["t1", "t1x"], r"suite 'reliability' has no task 't1x': did you mean 't1'\?"),
        ([], "tasks must not be empty"),
    ],
)
def test_unknown_or_no_tasks_are_errors(sweep: Sweep, tasks: list[str], message: str) -> None:
    sweep.good_task("t1")
    with pytest.raises(ValueError, match=message):
        geneb_bench.run("kmer-2", suite=str(sweep.suite), tasks=tasks, results_dir=sweep.root / "out")
    assert not (sweep.root / "out").exists()


def test_single_strings_and_an_int_seed_are_accepted(sweep: Sweep) -> None:
    """Was: ``seeds=13`` raised TypeError, and ``models="kmer-2"`` was read as the models k, m, e, r, -, 2."""
    sweep.good_task("t1")
    sweep.good_task("t2", seed=2)
    results = geneb_bench.run(
        "kmer-2",
        suite=str(sweep.suite),
        tasks="t1",
        regimes="full",
        seeds=13,
        cache_dir=sweep.root / "cache",
        results_dir=sweep.root / "out",
    )
    assert [(r.model, r.task_id, r.regime) for r in results] == [("kmer-2", "t1", "full")]


def test_a_model_that_measured_nothing_raises_unless_skips_are_allowed(sweep: Sweep, tmp_path: Path) -> None:
    """Was: a model folder without a tokenizer gave an empty ResultSet and no error."""
    from geneb_bench.models.random_init import build_random_model
    from geneb_bench.runner.api import RunFailed

    sweep.good_task("t1")
    folder = tmp_path / "no-tokenizer"
    build_random_model({"arch": "bert", "hidden_size": 16, "num_layers": 1, "num_heads": 2}).save_pretrained(
        folder
    )
    common: dict[str, Any] = {
        "suite": str(sweep.suite),
        "regimes": "full",
        "seeds": 13,
        "cache_dir": sweep.root / "cache",
        "results_dir": sweep.root / "out",
    }
    with pytest.raises(RunFailed) as info:
        geneb_bench.run(["kmer-2", str(folder)], **common)
    message = str(info.value)
    assert message.startswith("1 selected model(s) could not be loaded (")
    assert "1 item(s) skipped, 1 measured" in message
    assert "has no tokenizer files" in message
    assert message.endswith("(allow_skips=True accepts this)")
    assert [r.model for r in info.value.results] == ["kmer-2"], "what was measured is kept"
    assert (sweep.root / "out" / SWEEP_SCOPE / "leaderboard.md").is_file()

    allowed = geneb_bench.run(["kmer-2", str(folder)], allow_skips=True, **common)
    assert [(p.kind, "no tokenizer files" in p.message) for p in allowed.problems] == [("skipped", True)]
    with pytest.raises(RunFailed, match=r"^1 selected model\(s\) could not be loaded .*, 0 measured"):
        geneb_bench.run(str(folder), **common)
