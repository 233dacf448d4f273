"""Merging result dirs: union, identical duplicates collapse, conflicting provenance is refused."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from geneb_bench.cli import main
from geneb_bench.results.merge import MergeConflict, merge_dirs
from geneb_bench.results.record import ItemResult, iter_results, write_result


def _result(model: str = "m", task: str = "t1", regime: str = "full", mcc: float = 0.5) -> ItemResult:
    return ItemResult(
        model=model,
        task_id=task,
        category="Promoters",
        regime=regime,
        mean={"mcc": mcc, "accuracy": 0.7, "f1": 0.7},
        std={"mcc": 0.0, "accuracy": 0.0, "f1": 0.0},
        per_seed=[],
        n_train=1,
        n_test=1,
        n_classes=2,
        embedding_dim=2,
        task_fingerprint="fp1",
        task_revision=None,
        model_identity={"key": model, "revision": "r1"},
        timings={},
        versions={},
    )


def _files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*.json"))}


def test_merge_is_a_deterministic_union(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    write_result(a, _result(task="t1"))
    write_result(a, _result(task="t2"))
    write_result(b, _result(task="t2"))  # identical duplicate
    write_result(b, _result(model="other", task="t1"))
    report = merge_dirs([a, b], tmp_path / "ab")
    merge_dirs([b, a], tmp_path / "ba")
    assert report.duplicates == 1
    assert len(report.written) == 3
    assert _files(tmp_path / "ab") == _files(tmp_path / "ba")
    assert {(r.model, r.task_id) for r in iter_results(tmp_path / "ab")} == {
        ("m", "t1"),
        ("m", "t2"),
        ("other", "t1"),
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"protocol": "geneb-2.0"}, "protocol"),
        ({"task_fingerprint": "fp2"}, "task_fingerprint"),
        ({"model_identity": {"key": "m", "revision": "r2"}}, "model_identity"),
        ({"probe_backend": "torch"}, "probe_implementation"),
        ({"per_seed": [{"seed": 13}]}, "seeds"),
    ],
)
def test_conflicting_provenance_is_refused_and_names_both_files(
    tmp_path: Path, change: dict[str, object], field: str
) -> None:
    a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "out"
    path_a = write_result(a, _result())
    path_b = write_result(b, dataclasses.replace(_result(), **change))  # type: ignore[arg-type]
    with pytest.raises(MergeConflict) as info:
        merge_dirs([a, b], out)
    message = str(info.value)
    assert str(path_a) in message
    assert str(path_b) in message
    assert f"{field} (" in message
    assert not out.exists()  # checked before anything is written


def test_existing_output_takes_part(tmp_path: Path) -> None:
    a, out = tmp_path / "a", tmp_path / "out"
    write_result(out, _result())
    write_result(a, dataclasses.replace(_result(), task_fingerprint="other"))
    with pytest.raises(MergeConflict):
        merge_dirs([a], out)


def test_differing_scores_are_reported_first_kept(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    write_result(a, _result(mcc=0.5))
    write_result(b, _result(mcc=0.6))
    report = merge_dirs([a, b], tmp_path / "out")
    assert len(report.differing_scores) == 1
    assert next(iter_results(tmp_path / "out")).mean["mcc"] == 0.5


def test_cli_merge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    write_result(a, _result())
    write_result(b, _result(task="t2"))
    assert main(["merge", str(a), str(b), "-o", str(tmp_path / "out")]) == 0
    assert "2 files written" in capsys.readouterr().out
    write_result(b, dataclasses.replace(_result(), protocol="x"))
    assert main(["merge", str(a), str(b), "-o", str(tmp_path / "out2")]) == 2
    assert "protocol ('geneb-1.0' vs 'x')" in capsys.readouterr().err


def _seeded(result: ItemResult, seeds: list[int], backend: str) -> ItemResult:
    per_seed = [{"seed": s, "mcc": result.mean["mcc"]} for s in seeds]
    return dataclasses.replace(result, per_seed=per_seed, probe_backend=backend)


def test_torch_one_seed_and_sklearn_five_seeds_are_refused_by_merge_and_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's case: the same item measured with another probe implementation and other seeds."""
    a, b = tmp_path / "a", tmp_path / "b"
    path_a = write_result(a, _seeded(_result(), [13, 17, 42, 123, 997], "sklearn"))
    path_b = write_result(b, _seeded(_result(), [13], "torch"))
    with pytest.raises(MergeConflict) as info:
        merge_dirs([a, b], tmp_path / "out")
    message = str(info.value)
    assert str(path_a) in message
    assert str(path_b) in message
    assert "probe_implementation ('sklearn' vs 'torch')" in message
    assert "seeds ((13, 17, 42, 123, 997) vs (13,))" in message
    # both in one directory (two tasks, so both files exist): the report refuses to build one table
    path_c = write_result(a, dataclasses.replace(_seeded(_result(), [13], "torch"), task_id="t2"))
    assert main(["report", str(a)]) == 2
    err = capsys.readouterr().err
    assert str(path_a) in err
    assert str(path_c) in err
    assert "cannot share a table" in err
