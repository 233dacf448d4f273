"""Outcomes a CI can trust: a run that measured nothing fails; skips are summarised once per cause."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

# Imported before the in-process runs (pytester restores sys.modules after each; numpy's fft module
# cannot be imported twice in one process).
import geneb_bench.probe.evaluate
import geneb_bench.runner.session  # noqa: F401
from geneb_bench.data.suites import geneb_task_specs
from geneb_bench.models.base import ModelUnavailable
from tests.conftest import SWEEP_SCOPE

if TYPE_CHECKING:
    from tests.conftest import Sweep


@pytest.fixture
def bench(sweep: Sweep) -> Sweep:
    sweep.good_task("prom_a", 1, "TATAAAT", "Promoters")
    sweep.good_task("tf_a", 2, "GGGCGGG", "TF Binding")
    return sweep


@pytest.fixture
def broken_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """kmer-6 cannot load (as a checkpoint without weights cannot); kmer-3 still works."""
    import geneb_bench.runner.session as session
    from geneb_bench.models.registry import build_embedder

    def build(spec, device):  # type: ignore[no-untyped-def]
        if spec.key == "kmer-6":
            raise ModelUnavailable("kmer-6: no weights in the checkpoint")
        return build_embedder(spec, device)

    monkeypatch.setattr(session, "build_embedder", build)


def test_a_model_that_cannot_load_fails_the_run(bench: Sweep, broken_model: None) -> None:
    result = bench.run(models=("kmer-3", "kmer-6"))
    result.assert_outcomes(passed=4, skipped=4)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    text = result.stdout.str()
    assert "geneb: FAILED: 1 selected model(s) could not be loaded (kmer-6)" in text
    # one line per cause, before the table
    assert text.count("model kmer-6 (4 items): kmer-6: no weights in the checkpoint") == 1
    assert text.index("GENEB skips: 4 items, 1 causes") < text.index("GENEB results")


def test_allow_skips_accepts_it(bench: Sweep, broken_model: None) -> None:
    result = bench.run("--geneb-allow-skips", models=("kmer-3", "kmer-6"))
    assert result.ret == pytest.ExitCode.OK
    assert (
        "geneb: accepted (--geneb-allow-skips): 1 selected model(s) could not be loaded"
        in result.stdout.str()
    )


def test_all_skipped_fails_and_allow_skips_accepts(bench: Sweep, broken_model: None) -> None:
    result = bench.run(models=("kmer-6",))
    result.assert_outcomes(skipped=4)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert bench.run("--geneb-allow-skips", models=("kmer-6",)).ret == pytest.ExitCode.OK


def test_missing_data_dir_fails_with_one_cause(
    sweep: Sweep, tmp_path_factory: pytest.TempPathFactory
) -> None:
    task = geneb_task_specs()[0].task_id
    missing = tmp_path_factory.mktemp("x") / "no-such-dir"
    args = (f"--geneb-data-dir={missing}", "-k", task)
    result = sweep.pytester.runpytest(*sweep.args(*args), "--geneb-suite=geneb")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    text = result.stdout.str()
    skipped = result.parseoutcomes()["skipped"]
    assert f"geneb: FAILED: no item produced a result ({skipped} skipped)" in text
    assert text.count(f"the data directory {missing} does not exist") == 1  # one cause, said once
    assert f"GENEB skips: {skipped} items, 1 causes" in text
    allowed = sweep.pytester.runpytest(*sweep.args(*args, "--geneb-allow-skips"), "--geneb-suite=geneb")
    assert allowed.ret == pytest.ExitCode.OK


def test_tasks_missing_from_a_data_dir_are_one_cause_and_not_repeated_per_item(
    sweep: Sweep, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A data directory holding some of the GENEB tasks (the quick start's 14 of 100): the absent tasks are
    one line of the skip block, naming the first few, and pytest's ``-ra`` summary adds no line per item."""
    tasks = [spec.task_id for spec in geneb_task_specs()[:3]]
    data = tmp_path_factory.mktemp("data")
    (data / "tasks").mkdir()
    selected = " or ".join(tasks)
    result = sweep.pytester.runpytest(
        *sweep.args(f"--geneb-data-dir={data}", "-k", selected, "--geneb-allow-skips"),
        "--geneb-suite=geneb",
        "-ra",
    )
    text = result.stdout.str()
    skipped = result.parseoutcomes()["skipped"]
    assert skipped >= 3
    assert f"GENEB skips: {skipped} items, 1 causes" in text
    (line,) = [line for line in text.splitlines() if line.startswith("task ")]
    assert f"({skipped} items): <task>: not in the data directory {data}" in line
    assert all(task in line for task in sorted(tasks)[:2]) or " more (" in line
    assert "SKIPPED [" not in text


def test_a_complete_run_passes_without_a_verdict(bench: Sweep) -> None:
    result = bench.run()
    assert result.ret == pytest.ExitCode.OK
    assert "geneb: FAILED" not in result.stdout.str()
    assert "GENEB skips" not in result.stdout.str()


def test_a_failed_item_is_one_line_and_listed_by_cause(
    sweep: Sweep, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was: a bad task's items each showed ~98 lines of source; nothing listed them after the run."""
    import json

    from geneb_bench.cli import main

    sweep.good_task("good_a")
    rows = "text,label\nACGT,0\nGGCC,1\nACXA,0\nGGCA,1\n"
    folder = sweep.task(
        "bad_b", {"tr.csv": rows, "te.csv": rows}, 'train = "{dir}/tr.csv"\ntest = "{dir}/te.csv"'
    )
    cause = f"{folder}/tr.csv row 3: invalid character 'X' at position 3"
    result = sweep.run()
    result.assert_outcomes(passed=2, failed=2)
    reports = sweep.reports(result)
    failed = [r for r in reports.values() if r.failed]
    assert len(failed) == 2
    for report in failed:
        assert report.longreprtext.count("\n") == 0, report.longreprtext  # one line, no source
        assert report.longreprtext.startswith(cause)
    text = result.stdout.str()
    assert "GENEB failed items: 2 items, 1 causes" in text
    assert f"2 item(s) (kmer-3 / bad_b / 1shot, kmer-3 / bad_b / full): {cause}" in text
    run = json.loads((sweep.root / "out" / SWEEP_SCOPE / "run.json").read_text())
    assert [(g["items"], g["cause"].startswith(cause)) for g in run["failed"]] == [
        (["kmer-3 / bad_b / 1shot", "kmer-3 / bad_b / full"], True)
    ]
    capsys.readouterr()
    assert main(["report", str(sweep.root / "out")]) == 0
    assert (
        f"failed: 2 item(s) (kmer-3 / bad_b / 1shot, kmer-3 / bad_b / full): {cause}"
        in capsys.readouterr().out
    )
