"""``geneb plan``: sizes from the task files or the registry, throughput measured or assumed, and the
comparison with what a run recorded (``ItemResult.resources``)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

import geneb_bench
from geneb_bench import plan
from geneb_bench.cli import main
from geneb_bench.models.registry import resolve_model

SUBSET_TASK = "leannmlindsey_GUE_mouse_3"
ABSENT_TASK = "InstaDeepAI_nucleotide_transformer_downstream_tasks_H3"  # not in the shared subset


def _rows(path: Path) -> tuple[int, int]:
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    column = next(c for c in rows[0] if c != "label")
    return len(rows), sum(len(r[column]) for r in rows)


def test_sizes_are_counted_in_the_files_where_present_else_assumed(shared_data: Path) -> None:
    root = shared_data / "geneb-tasks-subset"
    here, absent = plan.task_sizes("geneb", [SUBSET_TASK, ABSENT_TASK], root)
    counts = [_rows(root / "tasks" / SUBSET_TASK / f"{split}.csv") for split in ("train", "test")]
    assert here.sequences == sum(n for n, _ in counts)
    assert here.bases == sum(b for _, b in counts)
    assert here.n_train == counts[0][0]
    assert here.source.startswith("files")
    assert absent.sequences == plan.ASSUMED_SEQUENCES
    assert absent.bases == plan.ASSUMED_SEQUENCES * 500  # "500 bp" in geneb_tasks.csv
    assert absent.source.startswith("assumed")


def test_a_model_without_weights_is_costed_from_its_size() -> None:
    spec = resolve_model("MutBERT")  # not in the hub cache here
    task = plan.TaskSize("t", 1000, 1000 * 300, 2, 800, "files: test")
    regimes = [SimpleNamespace(shots=None), SimpleNamespace(shots=10)]
    costed = plan.plan_model(spec, [task], regimes, 5, "cuda", 1e14, calibrate_here=True)
    assert costed.throughput.source.startswith("assumed (weights not here)")
    assert costed.tokens == round((300 * 1.0 + plan.SPECIAL_TOKENS) * 1000)  # single-nucleotide tokens
    assert costed.embed_s == pytest.approx(1000 * 300 * 2 * spec.params / 1e14)  # type: ignore[operator]
    assert costed.throughput.peak_memory_mb * 1024 * 1024 == pytest.approx(spec.params * 2 * 1.25)  # type: ignore[operator]
    assert costed.checkpoint_bytes > 0, "the published checkpoint's size from model_files.csv"
    faster = plan.plan_model(spec, [task], regimes, 5, "cuda", 2e14, calibrate_here=True)
    assert faster.embed_s == pytest.approx(costed.embed_s / 2)


def test_a_model_here_is_measured_on_a_calibration_sample() -> None:
    measured = plan.calibrate(resolve_model("kmer-3"), "cpu", 100)
    assert isinstance(measured, plan.Throughput)
    assert measured.source.startswith("measured on cpu")
    assert measured.embedding_dim == 4**3
    assert measured.bases_per_s > 0


@given(st.lists(st.floats(0.1, 1e5), min_size=1, max_size=30), st.integers(1, 8))
def test_the_longest_shard_is_between_the_even_share_and_the_whole(seconds: list[float], shards: int) -> None:
    model = plan.ModelPlan("m", None, plan.Throughput(1.0, 1.0, 1.0, 8, "assumed"))
    model.groups = [(f"t{i}", s) for i, s in enumerate(seconds)]
    costed = plan.Plan("s", "cpu", ("full",), 5, [], [model], shards)
    longest = costed.shard_seconds()
    assert sum(seconds) / shards - 1e-6 <= longest <= sum(seconds) + 1e-6
    assert longest >= max(seconds) - 1e-6


def test_zoo_is_the_forty_published_models(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "plan",
        "--suite",
        "geneb",
        "--geneb-model",
        "zoo",
        "--no-calibrate",
        "--device",
        "cuda",
        "--json",
    ]
    assert main([*argv, "--shards", "50"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["models"]) == 40
    assert data["items"] == 40 * 100 * 3
    assert data["shards"] == 50
    assert 0 < data["shard_seconds"] < data["totals"]["seconds"]


def test_a_run_records_its_cost_and_run_json_compares_it_with_the_plan(tmp_path: Path) -> None:
    results_dir = tmp_path / "res"
    task = "lite_promoter_tata"
    assert main(["plan", "--task", task, "--model", "kmer-3", "--save", str(results_dir / "plan.json")]) == 0
    run = geneb_bench.run(
        ["kmer-3"], tasks=[task], seeds=[13], results_dir=results_dir, cache_dir=tmp_path / "cache"
    )
    by_regime = {r.regime: r.resources for r in run.results}
    first, *others = (by_regime[r] for r in ("full", "10shot", "1shot"))
    assert first is not None
    assert first["sequences"] == run.results[0].n_train + run.results[0].n_test, "computed once per task"
    assert first["tokens"] is None, "a k-mer model has no tokens"
    assert first["peak_rss_mb"] > 0
    assert all(o is not None and o["sequences"] == 0 for o in others), "the other regimes read the cache"
    (run_file,) = results_dir.glob("*/run.json")  # the suite's tables folder
    summary = json.loads(run_file.read_text())["resources"]
    assert summary["planned"]["sequences"] == summary["actual"]["sequences"] == first["sequences"]
    assert summary["actual"]["items_measured"] == 3
