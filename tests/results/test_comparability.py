"""Comparability is a property of the data: suites and protocol variants are stored and tabled apart,
partial and synthetic runs carry their labels everywhere and are never ranked, variants are never the
protocol (tables, merge, submission)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import geneb_bench
from geneb_bench.reports.html import build_html
from geneb_bench.reports.submission import build_submission, validate_submission
from geneb_bench.results.merge import MergeConflict, merge_dirs
from geneb_bench.results.provenance import IncompatibleResults
from geneb_bench.results.record import write_result
from geneb_bench.results.render import render_text
from geneb_bench.results.resultset import ResultSet
from tests.reports.conftest import make_result, page_rows, write_run

TASK_A, TASK_B = "lite_promoter_tata", "lite_enhancer_tf_cluster"


def _lite(
    out: Path, cache: Path, tasks: list[str], seeds: tuple[int, ...] = (13, 17, 42, 123, 997)
) -> ResultSet:
    return geneb_bench.run(
        ["kmer-2"], suite="lite", tasks=tasks, regimes=["full"], seeds=seeds, cache_dir=cache, results_dir=out
    )


@pytest.fixture(scope="module")
def lite_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """kmer-2 on one lite task, then on another: the second run's tables cover both."""
    out, cache = tmp_path_factory.mktemp("lite"), tmp_path_factory.mktemp("cache")
    _lite(out, cache, [TASK_A])
    _lite(out, cache, [TASK_B])
    return out


def test_results_are_stored_per_suite(lite_dir: Path) -> None:
    assert sorted(
        p.relative_to(lite_dir / "results").parts[0] for p in (lite_dir / "results").rglob("*.json")
    ) == ["lite", "lite"]


def test_a_subset_run_rebuilds_the_tables_from_every_result_of_the_suite(lite_dir: Path) -> None:
    markdown = (lite_dir / "lite" / "leaderboard.md").read_text()
    assert "| 2/14    |" in markdown  # both tasks, though the last run had one
    assert json.loads((lite_dir / "lite" / "run.json").read_text())["table_items"] == 2


def test_lite_run_is_labelled_and_not_ranked(lite_dir: Path) -> None:
    markdown = (lite_dir / "lite" / "leaderboard.md").read_text()
    assert "suite lite: 14 synthetic tasks, not GENEB; not ranked" in markdown
    assert "| rank" not in markdown
    page = build_html(lite_dir)
    assert "lite: 14 synthetic tasks, not GENEB" in page
    mine = [r for r in page_rows(page) if "mine" in r["_class"]]
    assert {r["model"] for r in mine} == {"2-mer spectrum"}
    assert all("apart" in r["_class"] and r["rank"] == "" for r in mine)  # never placed
    assert "&lt;NA&gt;" not in page


def test_partial_geneb_run_is_labelled_and_not_ranked(tmp_path: Path) -> None:
    from geneb_bench.data.suites import geneb_task_specs

    write_run(tmp_path, "mine", tasks=[s.task_id for s in geneb_task_specs()[:3]], regimes=("full",))
    frame = ResultSet.load(tmp_path).frame
    text = render_text(frame, transpose=True)
    assert "suite geneb: the GENEB suite (100 tasks); not ranked" in text
    assert "3/100" in text
    rows = page_rows(build_html(tmp_path))
    published = [r for r in rows if r["basis"] == "published: 100 tasks" and r["regime"] == "full"]
    (mine,) = [r for r in published if r["model"] == "mine"]
    assert "apart" in mine["_class"]
    assert (mine["rank"], mine["tasks"]) == ("", "3/100")


def test_complete_geneb_run_is_ranked(tmp_path: Path) -> None:
    write_run(tmp_path, "mine", regimes=("full",))
    text = render_text(ResultSet.load(tmp_path).frame)
    assert "ranked by macro" in text
    assert text.splitlines()[2].split()[:2] == ["model", "rank"]


def test_two_suites_in_one_directory_are_never_averaged(lite_dir: Path, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(lite_dir, tmp_path / "both")
    write_run(tmp_path / "both", "kmer-2", tasks=["leannmlindsey_GUE_human_tf_0"], regimes=("full",))
    with pytest.raises(IncompatibleResults, match=r"2 suites or protocol variants \(geneb, lite\).*--suite"):
        ResultSet.load(tmp_path / "both")
    assert set(ResultSet.load(tmp_path / "both", suite="lite").frame["suite"]) == {"lite"}


def test_other_seeds_are_a_variant_stored_apart(lite_dir: Path, tmp_path: Path) -> None:
    variant = _lite(tmp_path / "v", tmp_path / "cache", [TASK_A], seeds=(1, 2, 3))
    assert {r.protocol for r in variant} == {"geneb-1.0+seeds=1,2,3"}
    assert [p.name for p in (tmp_path / "v" / "results").iterdir()] == ["lite+seeds__1__2__3"]
    assert (
        "protocol variant geneb-1.0+seeds=1,2,3"
        in (tmp_path / "v" / "lite+seeds__1__2__3" / "leaderboard.md").read_text()
    )
    with pytest.raises(MergeConflict, match=r"protocol \('geneb-1.0' vs 'geneb-1.0\+seeds=1,2,3'\)"):
        merge_dirs([lite_dir, tmp_path / "v"], tmp_path / "merged")
    assert not (tmp_path / "merged").exists()


def test_a_variant_cannot_be_submitted(tmp_path: Path) -> None:
    from dataclasses import replace

    from geneb_bench.data.suites import geneb_task_specs

    for spec in geneb_task_specs():
        for regime in ("full", "10shot", "1shot"):
            result = make_result("mine", spec.task_id, spec.category, regime, 0.5)
            write_result(
                tmp_path, replace(result, protocol="geneb-1.0+seeds=1,2,3", per_seed=result.per_seed[:3])
            )
    with pytest.raises(
        ValueError,
        match=r"protocol variants only \(geneb\+seeds__1__2__3\).*only protocol runs can be submitted",
    ):
        build_submission(tmp_path, "mine")


def test_validation_refuses_a_variant_and_accepts_the_protocol(tmp_path: Path) -> None:
    good = build_submission(write_run(tmp_path, "kmer-3"), "kmer-3")
    assert validate_submission(good) == []
    bad = {**good, "protocol": {**good["protocol"], "seeds": [1, 2, 3]}}
    assert validate_submission(bad) == [
        "protocol.seeds: [1, 2, 3] is not the protocol's [13, 17, 42, 123, 997] (a variant cannot be submitted)"
    ]
