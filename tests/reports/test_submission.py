"""Submission files: built from a complete run, refused when partial, validated good and bad."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from geneb_bench import __version__
from geneb_bench.cli import main
from geneb_bench.reports.submission import build_submission, geneb_task_ids, validate_submission

RunWriter = Callable[..., Path]


@pytest.fixture(scope="module")
def good(complete_run: Path) -> dict[str, Any]:
    return build_submission(complete_run, "kmer-3")


def test_complete_run_gives_a_valid_submission(good: dict[str, Any]) -> None:
    assert good["schema_version"] == "1.0"
    assert good["harness"] == f"geneb-bench-{__version__}"  # this harness, not the authors'
    assert good["protocol"] == {
        "version": "geneb-1.0",
        "seeds": [13, 17, 42, 123, 997],
        "probe": "logistic-regression",
        "probe_implementation": "sklearn",
    }
    assert good["model"]["name"] == "kmer-3"
    assert list(good["results"]) == ["full", "10shot", "1shot"]
    tasks = geneb_task_ids()
    for regime in good["results"].values():
        assert list(regime) == tasks
    first = good["results"]["full"][tasks[0]]
    assert first == {
        "MCC": 0.1235,
        "Acc": round((0.123456789 + 1) / 2, 4),
        "F1": round((0.123456789 + 1) / 2 - 0.01, 4),
    }
    assert "partial" not in good
    assert validate_submission(good) == []


def _drop_task(data: dict[str, Any]) -> None:
    del data["results"]["1shot"][next(iter(data["results"]["1shot"]))]


def _set(path: list[str], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _first_task(metric: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        data["results"]["full"][next(iter(data["results"]["full"]))][metric] = value

    return change


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_set(["schema_version"], "2.0"), "schema_version"),
        (_set(["harness"], "other"), "harness"),
        (_set(["model"], "kmer-3"), "model:"),
        (_set(["model", "name"], ""), "model.name"),
        (_set(["model", "params"], -5), "model.params"),
        (_drop_task, "results.1shot: 1 of 100 tasks missing"),
        (_set(["results", "5shot"], {}), "unknown regimes"),
        (_set(["results", "full", "not_a_task"], {"MCC": 0.1, "Acc": 0.5, "F1": 0.5}), "unknown task ids"),
        (_first_task("MCC", 1.5), "outside [-1, 1]"),
        (_first_task("Acc", "0.5"), "finite number"),
        (_first_task("F1", 0.123456), "not rounded"),
        (_first_task("AUC", 0.5), "should be exactly"),
    ],
)
def test_bad_submissions_are_rejected(
    good: dict[str, Any], change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    data = copy.deepcopy(good)
    change(data)
    errors = validate_submission(data)
    assert any(expected in e for e in errors), errors


def test_incomplete_run_is_refused_unless_allowed(
    tmp_path: Path, run_writer: RunWriter, tf_tasks: list[str]
) -> None:
    run_writer(tmp_path, "mine", tasks=tf_tasks)
    with pytest.raises(
        ValueError, match=r"incomplete run for mine: 285 of 300 items missing.*--allow-partial"
    ):
        build_submission(tmp_path, "mine")
    partial = build_submission(tmp_path, "mine", allow_partial=True)
    assert partial["partial"] is True
    assert len(partial["results"]["full"]) == 5
    assert validate_submission(partial)  # strict validation fails
    assert validate_submission(partial, allow_partial=True) == []


def test_cli_write_and_validate(
    tmp_path: Path, run_writer: RunWriter, tf_tasks: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    run_writer(tmp_path / "run", "mine", tasks=tf_tasks)
    out = tmp_path / "sub.json"
    assert main(["submission", str(tmp_path / "run"), "--model", "mine", "-o", str(out)]) == 2
    assert "incomplete run" in capsys.readouterr().err
    assert (
        main(["submission", str(tmp_path / "run"), "--model", "mine", "-o", str(out), "--allow-partial"]) == 0
    )
    assert main(["submission", "--validate", str(out)]) == 1
    assert "tasks missing" in capsys.readouterr().err
    assert main(["submission", "--validate", str(out), "--allow-partial"]) == 0
    out.write_text(json.dumps({"schema_version": "1.0"}))
    assert main(["submission", "--validate", str(out)]) == 1
    out.write_text("not json")
    assert main(["submission", "--validate", str(out)]) == 1


def test_a_local_model_is_submitted_by_name_with_its_parameter_count_and_no_path(tmp_path: Path) -> None:
    """The slot is the name; ``n_params`` as counted at run time; "local" and the content hash, never the
    submitter's folder."""
    import dataclasses

    from geneb_bench.data.suites import geneb_task_specs
    from geneb_bench.results.record import identity_hash, write_result
    from tests.reports.conftest import make_result

    identity = {
        "key": "mymodels__my-dna-bert-c9449ab5",
        "family": "hf",
        "source": "/home/alice/mymodels/my-dna-bert",
        "revision": "local-c9449ab5d00d1e5f",
        "options": {},
    }
    for spec in geneb_task_specs():
        for regime in ("full", "10shot", "1shot"):
            result = make_result("my-dna-bert", spec.task_id, spec.category, regime, 0.3, n_params=133_632)
            write_result(
                tmp_path,
                dataclasses.replace(result, model_identity=identity, model_hash=identity_hash(identity)),
            )
    submission = build_submission(tmp_path, "my-dna-bert")
    model = submission["model"]
    assert model["name"] == "my-dna-bert"
    assert (model["n_params"], model["params"]) == (133_632, 133_632)
    assert (model["source"], model["content_hash"]) == ("local", "local-c9449ab5d00d1e5f")
    assert "/home/alice" not in json.dumps(submission)
    assert validate_submission(submission) == []
