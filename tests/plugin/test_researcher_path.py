"""The researcher's path through a run: controls beside the user's model, its untrained twin and what
pretraining bought, one tables folder per suite or variant, a stale report.html, and every closing hint run
as it is printed."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest

from geneb_bench.cli import main
from geneb_bench.models.random_init import build_random_model, char_tokenizer
from geneb_bench.runner.finish import STALE_MARK
from tests.conftest import SWEEP_SCOPE

if TYPE_CHECKING:
    from tests.conftest import Sweep

pytest_plugins = ["pytester"]


def tiny_model(folder: Path) -> Path:
    """A user's checkpoint folder: a 1-layer BERT with a DNA character tokenizer (random weights)."""
    model = build_random_model(
        {"hidden_size": 16, "num_layers": 1, "num_heads": 2, "max_tokens": 128, "seed": 3}
    )
    model.save_pretrained(folder)
    char_tokenizer(128).save_pretrained(folder)
    return folder


def hint(output: str, marker: str) -> list[str]:
    """The command a closing line prints after ``marker``, split as a shell would."""
    line = next(line for line in output.splitlines() if marker in line)
    return shlex.split(line.split(marker, 1)[1])


def mcc(sweep: Sweep, results: str, model: str, task: str) -> float:
    return float(sweep.results(results)[f"{model}/{task}/full"]["mean"]["mcc"])


@pytest.mark.usefixtures("transformers_imported")
def test_controls_twin_and_what_pretraining_bought(sweep: Sweep) -> None:
    sweep.regimes = "full"
    task = sweep.good_task("good_a").task_id
    folder = tiny_model(sweep.root / "my-dna-model")
    result = sweep.run(models=("my-dna-model",), controls=True)
    result.assert_outcomes(passed=2)  # the user's model and kmer-3 beside it
    out = result.stdout.str()
    ours = {path: r for path, r in sweep.results().items() if r["model"] != "kmer-3"}
    ((path, record),) = ours.items()
    key = record["model"]  # the slot: the folder's name (its results folder adds the identity's hash)
    assert key == "my-dna-model"
    assert sorted(sweep.results()) == sorted([f"kmer-3/{task}/full", path])
    assert "kmer-3: a control (no pretraining): a model is worth its compute only where it beats it." in out

    assert f"geneb: what did pretraining buy {key}? Run its untrained twin" in out
    twin_command = hint(out, "beside it: ")
    assert twin_command[0] == "pytest"
    assert twin_command[-2:] == ["--geneb-model", "my-dna-model[init=random]"]
    again = sweep.pytester.runpytest(*twin_command[1:])  # as printed: the finished items are loaded
    again.assert_outcomes(passed=3)
    twins = [r for r in sweep.results().values() if r["model_identity"]["options"].get("init") == "random"]
    (twin,) = twins
    twin_key = twin["model"]
    gain = float(record["mean"]["mcc"]) - float(twin["mean"]["mcc"])
    again.stdout.fnmatch_lines([f"geneb: what pretraining bought, {key} (full, 1 tasks): *: {gain:+.3f}"])
    assert "what did pretraining buy" not in again.stdout.str()  # the twin ran: no more offer
    assert twin_key != key
    assert record["mean"]["mcc"] != twin["mean"]["mcc"]  # other weights, same folder

    report = hint(again.stdout.str(), "next: ")
    report = report[: report.index("(tables,")]  # the words after the command
    assert report[:2] == ["geneb", "report"]
    assert main(report[1:]) == 0  # runs as typed from where pytest ran
    assert (sweep.root / "out" / SWEEP_SCOPE / "report.html").is_file()

    solo = sweep.run("--geneb-no-controls", models=("my-dna-model",), results="solo")
    solo.assert_outcomes(passed=1)
    assert "worth its compute" not in solo.stdout.str()
    assert folder.is_dir()


def test_a_variant_run_keeps_the_other_tables_and_a_changed_folder_marks_its_report_stale(
    sweep: Sweep,
) -> None:
    sweep.regimes = "full"
    sweep.good_task("good_a")
    sweep.good_task("good_b", seed=2, motif="GGGCCC", category="Enhancers")
    sweep.run("-k", "good_a").assert_outcomes(passed=1)
    folder = sweep.root / "out" / SWEEP_SCOPE
    assert main(["report", str(sweep.root / "out"), "--suite", SWEEP_SCOPE, "--html"]) == 0
    assert (folder / "report.html").is_file()
    assert "[report.html](reliability+seeds__13/report.html)" in (sweep.root / "out" / "index.md").read_text()
    tables = {p.name: p.read_bytes() for p in folder.iterdir() if p.suffix in (".md", ".csv", ".tex")}

    variant = sweep.run("--geneb-seeds=17", "-k", "good_a")  # a quick variant into the same folder
    variant.assert_outcomes(passed=1)
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.suffix in (".md", ".csv", ".tex")} == tables
    assert STALE_MARK not in (folder / "report.html").read_text()
    assert len(pd.read_csv(sweep.root / "out" / "reliability+seeds__17" / "results.csv")) == 1
    index = (sweep.root / "out" / "index.md").read_text()
    assert "[reliability+seeds__13]" in index
    assert "[reliability+seeds__17]" in index

    changed = sweep.run()  # good_b joins the seed-13 folder: the page no longer shows its results
    changed.assert_outcomes(passed=2)
    assert len(pd.read_csv(folder / "results.csv")) == 2
    assert STALE_MARK in (folder / "report.html").read_text()
    assert "| stale |" in (sweep.root / "out" / "index.md").read_text()
    rebuild = hint(changed.stdout.str(), "(marked stale); rebuild: ")
    os.chdir(sweep.root)
    assert main(rebuild[1:]) == 0  # as printed
    assert STALE_MARK not in (folder / "report.html").read_text()
    assert "| stale |" not in (sweep.root / "out" / "index.md").read_text()


def test_model_sets_expand_like_baselines(sweep: Sweep) -> None:
    from geneb_bench.models.registry import expand_model_names, model_sets

    sets = model_sets()
    assert len(set(sets["zoo"])) == len(sets["zoo"]) == 40
    assert set(sets["controls"]) == {
        "kmer-2",
        "kmer-3",
        "kmer-4",
        "kmer-5",
        "kmer-6",
        "random-bert-tiny",
        "random-gpt2-tiny",
    }
    expanded = expand_model_names(["kmer-3", "controls"])  # kmer-3 once, where first named
    assert expanded == ("kmer-3", *(k for k in sets["controls"] if k != "kmer-3"))
    sweep.regimes = "full"
    sweep.good_task("good_a")
    result = sweep.pytester.runpytest(*sweep.args("--collect-only", "-q", models=("zoo",), controls=True))
    ids = re.findall(r"test_geneb\[(.+)-promoters-good_a-full\]", result.stdout.str())
    assert sorted(ids) == sorted([*sets["zoo"], "kmer-3"])  # the zoo, and kmer-3 beside it
