"""The ``geneb`` command: models, tasks, report (in-process through ``main``) and run (in a subprocess)."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import json
import re
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from geneb_bench.categories import CATEGORIES
from geneb_bench.cli import main
from geneb_bench.models.registry import list_models
from geneb_bench.reports.commands import not_ranked_line
from geneb_bench.results.record import ItemResult, write_result


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- models ----------------------------------------------------------------------------------------------


def test_models_json_lists_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "models", "--json")
    assert code == 0
    models = json.loads(out)
    keys = [m["key"] for m in models]
    assert keys == [s.key for s in list_models()]
    assert {"kmer-2", "kmer-3", "kmer-6", "random-bert-tiny", "random-gpt2-tiny"} <= set(keys)
    by_key = {m["key"]: m for m in models}
    assert by_key["kmer-3"]["family"] == "kmer"
    assert by_key["kmer-3"]["options"] == {"k": 3}
    assert by_key["random-bert-tiny"]["family"] == "random-transformer"


def test_models_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "models")
    assert code == 0
    assert out.splitlines()[0].split()[:3] == ["key", "params", "group"]
    assert "random-gpt2-tiny" in out
    assert "--geneb-model zoo" in out


@pytest.mark.parametrize("argv", [["models"], ["models", "--check"]])
def test_models_tables_fit_120_columns_and_never_cut_a_key(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # --check: offline, no hub probe
    monkeypatch.setenv("COLUMNS", "120")
    code, out, _ = run_cli(capsys, *argv)
    assert code == 0
    lines = out.splitlines()
    assert max(map(len, lines)) <= 120, max(lines, key=len)
    starts = {line.split()[0] for line in lines if line.strip()}
    assert {s.key for s in list_models()} <= starts  # every key in full at the start of its row
    assert "..." not in out
    assert "\u2026" not in out


def test_models_check_reasons_are_wrapped_not_cut(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from geneb_bench.models.check import check_models

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("COLUMNS", "120")
    code, out, _ = run_cli(capsys, "models", "--check")
    assert code == 0
    longest = max(check_models(list_models()), key=lambda c: len(c.why))
    assert len(longest.why) > 66  # the old table cut reasons at 66 characters
    shown = set(re.split(r"[\s-]+", out))
    assert set(re.split(r"[\s-]+", longest.why)) <= shown  # every word of it, on however many lines


# -- tasks -----------------------------------------------------------------------------------------------


def test_tasks_geneb_json_has_the_100_published_tasks(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "tasks", "--suite", "geneb", "--json")
    assert code == 0
    tasks = json.loads(out)
    assert len(tasks) == 100
    assert len({t["task_id"] for t in tasks}) == 100
    counts = Counter(t["category"] for t in tasks)
    assert sorted(counts.values(), reverse=True) == [30, 22, 8, 8, 7, 6, 5, 5, 3, 2, 2, 1, 1]
    assert counts == {c.name: c.geneb_tasks for c in CATEGORIES}
    slugs = {c.name: c.slug for c in CATEGORIES}
    assert all(t["slug"] == slugs[t["category"]] for t in tasks)


def test_tasks_table_summarises_categories(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "tasks", "--suite", "geneb")
    assert code == 0
    assert "100 tasks in suite 'geneb': Histone Mod. 30, Promoters 22," in out


def test_tasks_unknown_suite_is_an_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_cli(capsys, "tasks", "--suite", str(tmp_path / "nosuch.toml"))
    assert code == 2
    assert (
        err
        == f"geneb tasks: no such suite file: {tmp_path / 'nosuch.toml'} (suite {str(tmp_path / 'nosuch.toml')!r}; built-in suites: lite, geneb)\n"
    )


def test_unknown_argument_is_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["models", "--nosuch-flag"])
    assert exc.value.code == 2
    assert "unrecognised arguments: --nosuch-flag" in capsys.readouterr().err


# -- report ----------------------------------------------------------------------------------------------


def make_result(model: str, task_id: str, category: str, regime: str, mcc: float) -> ItemResult:
    seeds = [{"seed": s, "mcc": mcc, "accuracy": (1 + mcc) / 2, "f1": (1 + mcc) / 2} for s in (13, 17)]
    return ItemResult(
        model=model,
        task_id=task_id,
        category=category,
        regime=regime,
        mean={"mcc": mcc, "accuracy": (1 + mcc) / 2, "f1": (1 + mcc) / 2},
        std={"mcc": 0.0, "accuracy": 0.0, "f1": 0.0},
        per_seed=seeds,
        n_train=60,
        n_test=30,
        n_classes=2,
        embedding_dim=64,
        task_fingerprint=hashlib.sha256(task_id.encode()).hexdigest(),  # distinct data: not a renamed task
        task_revision=None,
        model_identity={"key": model},
        timings={"embed_s": 0.0, "probe_s": 0.0},
    )


@pytest.fixture
def results_dir(tmp_path: Path) -> Path:
    root = tmp_path / "reports"
    for model, task_id, category, regime, mcc in [
        ("kmer-3", "p1", "Promoters", "full", 0.8),
        ("kmer-3", "p2", "Promoters", "full", 0.4),
        ("kmer-3", "t1", "TF Binding", "full", 0.2),  # macro (0.6 + 0.2) / 2 = 0.4, micro 1.4 / 3
        ("kmer-6", "p1", "Promoters", "full", 0.5),
        ("kmer-6", "p2", "Promoters", "full", 0.5),
        ("kmer-6", "t1", "TF Binding", "full", 0.5),  # macro 0.5: ranked first
        ("kmer-3", "p1", "Promoters", "1shot", 0.1),
    ]:
        write_result(root, make_result(model, task_id, category, regime, mcc))
    return root


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_report_rebuilds_the_tables(capsys: pytest.CaptureFixture[str], results_dir: Path) -> None:
    code, out, _ = run_cli(capsys, "report", str(results_dir))
    assert code == 0
    assert "MCC - full" in out
    assert "MCC - 1shot" in out
    full = out.split("MCC - full", 1)[1].split("MCC - 1shot", 1)[0]
    assert full.index("kmer-6") < full.index("kmer-3")  # ranked by macro
    for name in ("leaderboard.md", "leaderboard.csv", "results.csv"):
        assert f"wrote {results_dir / name}" in out
        assert (results_dir / name).is_file()

    assert len(read_csv(results_dir / "results.csv")) == 7
    board = {(r["regime"], r["metric"], r["model"]): r for r in read_csv(results_dir / "leaderboard.csv")}
    row = board[("full", "mcc", "kmer-3")]
    assert float(row["Promoters"]) == pytest.approx(0.6)
    assert float(row["macro"]) == pytest.approx(0.4)
    assert float(row["micro"]) == pytest.approx(1.4 / 3, abs=1e-6)
    assert (row["n_tasks"], row["n_categories"]) == ("3", "2")
    assert float(board[("full", "mcc", "kmer-6")]["macro"]) == pytest.approx(0.5)
    assert float(board[("1shot", "mcc", "kmer-3")]["macro"]) == pytest.approx(0.1)
    assert float(board[("full", "accuracy", "kmer-3")]["macro"]) == pytest.approx(0.7)


def test_report_metric_and_output_dir(
    capsys: pytest.CaptureFixture[str], results_dir: Path, tmp_path: Path
) -> None:
    output = tmp_path / "tables"
    code, out, _ = run_cli(
        capsys, "report", str(results_dir / "results"), "--metric", "accuracy", "-o", str(output)
    )
    assert code == 0
    assert "ACCURACY - full" in out
    assert "MCC - full" not in out
    assert (output / "leaderboard.md").is_file()
    assert not (results_dir / "leaderboard.md").exists()


def test_report_on_an_empty_directory_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run_cli(capsys, "report", str(tmp_path))
    assert code == 2  # nothing to report: unusable input, not a failed check
    assert f"no result files under {tmp_path}" in err
    assert out == ""
    assert list(tmp_path.iterdir()) == []


def test_report_on_a_foreign_json_file_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "other.json").write_text('{"schema": "something-else"}')
    code, _, err = run_cli(capsys, "report", str(tmp_path))
    assert code == 2  # skipped with a warning, and then there is nothing to report
    assert "warning: skipped" in err
    assert "other.json: unreadable result file" in err
    assert f"no result files under {tmp_path}" in err


def test_report_json_holds_the_tables_on_stdout(
    capsys: pytest.CaptureFixture[str], results_dir: Path, tmp_path: Path
) -> None:
    code, text, _ = run_cli(capsys, "report", str(results_dir), "-o", str(tmp_path / "text"))
    assert code == 0
    code, out, _ = run_cli(capsys, "report", str(results_dir), "--json", "-o", str(tmp_path / "json"))
    assert code == 0
    doc = json.loads(out)  # the whole of stdout is one JSON document
    boards = {b["regime"]: {r["model"]: r for r in b["rows"]} for b in doc["leaderboards"]}
    assert sorted(boards) == ["1shot", "full"]
    kmer3 = boards["full"]["kmer-3"]
    assert kmer3["Promoters"] == pytest.approx(0.6)
    assert kmer3["TF Binding"] == pytest.approx(0.2)
    assert kmer3["macro"] == pytest.approx(0.4)
    assert kmer3["micro"] == pytest.approx(1.4 / 3)
    assert (kmer3["n_tasks"], kmer3["n_categories"]) == (3, 2)
    assert boards["full"]["kmer-6"]["macro"] == pytest.approx(0.5)
    assert boards["1shot"]["kmer-3"]["macro"] == pytest.approx(0.1)
    assert doc["metric"] == "mcc"
    assert doc["suite_tasks"] == 3
    assert sorted(Path(p).name for p in doc["written"]) == sorted(
        ["leaderboard.md", "leaderboard.csv", "leaderboard.tex", "results.csv"]
    )
    assert all(Path(p).is_file() and Path(p).parent == tmp_path / "json" for p in doc["written"])
    # the same information as the text form: its suite line, ranking note and not-ranked lines
    assert f"suite {doc['suite']}; {doc['leaderboards'][0]['ranking']}" in text
    assert {r["model"] for r in doc["not_ranked"]} == {"kmer-3", "kmer-6"}
    for row in doc["not_ranked"]:
        assert not_ranked_line(row, placed_below=False) in text
        assert f"{row['model']} ({row['regime']}): not on the full leaderboard: " in text
    assert [f"note: {n}" for n in doc["notes"]] == [
        line for line in text.splitlines() if line.startswith("note: ")
    ]
    assert doc["published"] is None
    assert doc["html"] is None
    assert (tmp_path / "json" / "results.csv").read_text() == (tmp_path / "text" / "results.csv").read_text()


def test_report_json_carries_the_task_audits(
    capsys: pytest.CaptureFixture[str], results_dir: Path, tmp_path: Path
) -> None:
    from geneb_bench.data.audit import Flag, TaskAudit
    from geneb_bench.results.audited import AUDIT_FILE

    leak = TaskAudit(
        "p1",
        "Promoters",
        verdict="FAIL",
        flags=(Flag("overlap.exact", "FAIL", 0.2, 0.005, 0.05),),
        baseline_mcc=0.9,
        fingerprint=hashlib.sha256(b"p1").hexdigest(),  # make_result's fingerprint of p1
        seqleak_version="0.4.1",
    )
    (results_dir / AUDIT_FILE).write_text(json.dumps([leak.to_json()]))
    code, out, _ = run_cli(capsys, "report", str(results_dir), "--json", "-o", str(tmp_path))
    assert code == 0
    audit = json.loads(out)["audit"]
    assert [(a["task_id"], a["verdict"]) for a in audit["tasks"]] == [("p1", "FAIL")]
    assert audit["regime"] == "full"
    per_task = {row["task_id"]: row for row in audit["per_task"]}
    assert per_task["p1"]["kmer-3"] == pytest.approx(0.8)
    assert per_task["p2"]["kmer-3"] == pytest.approx(0.4)
    without = {row["model"]: row for row in audit["without_fail"]}
    assert without["kmer-3"]["macro (no FAIL)"] == pytest.approx((0.4 + 0.2) / 2)  # p1 out: Promoters = p2


def test_report_json_warnings_go_to_stderr(
    capsys: pytest.CaptureFixture[str], results_dir: Path, tmp_path: Path
) -> None:
    (results_dir / "results" / "broken.json").write_text("{not json")
    code, out, err = run_cli(capsys, "report", str(results_dir), "--json", "-o", str(tmp_path))
    assert code == 0
    assert "warning: skipped" in err
    assert "broken.json" in err
    assert {r["model"] for b in json.loads(out)["leaderboards"] for r in b["rows"]} == {"kmer-3", "kmer-6"}


# -- cache --json ------------------------------------------------------------------------------------------


def fill_cache(root: Path) -> list[Path]:
    """Three real entries (two models) written by the cache itself."""
    from geneb_bench.embeddings.cache import EmbeddingCache

    cache = EmbeddingCache(root)
    return [
        cache.write(
            {"model": {"key": model}, "task_id": task},
            {"train": np.full((rows, 8), 0.5, np.float32), "test": np.ones((2, 8), np.float32)},
        )
        for model, task, rows in (("m1", "t1", 10), ("m1", "t2", 20), ("m2", "t1", 400))
    ]


def test_cache_ls_and_du_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    paths = fill_cache(tmp_path)
    sizes = {p: p.stat().st_size for p in paths}
    code, out, _ = run_cli(capsys, "cache", "ls", "--json", "--cache-dir", str(tmp_path))
    assert code == 0
    listed = json.loads(out)
    assert sorted((e["model"], e["task"], e["bytes"]) for e in listed["entries"]) == sorted(
        [("m1", "t1", sizes[paths[0]]), ("m1", "t2", sizes[paths[1]]), ("m2", "t1", sizes[paths[2]])]
    )
    assert {e["path"] for e in listed["entries"]} == {str(p) for p in paths}
    assert listed["store_shards"] == []
    assert (listed["n_entries"], listed["total_bytes"]) == (3, sum(sizes.values()))
    code, out, _ = run_cli(capsys, "cache", "du", "--json", "--cache-dir", str(tmp_path))
    assert code == 0
    per_model = {m["model"]: m["cache_bytes"] for m in json.loads(out)["models"]}
    assert per_model == {"m1": sizes[paths[0]] + sizes[paths[1]], "m2": sizes[paths[2]]}


def test_cache_verify_and_prune_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    paths = fill_cache(tmp_path)
    paths[1].write_bytes(b"not a zip")
    code, out, _ = run_cli(capsys, "cache", "verify", "--json", "--cache-dir", str(tmp_path))
    assert code == 1  # the check found a corrupt entry
    report = json.loads(out)
    assert report["checked"] == 3
    assert [(b["path"], b["model"]) for b in report["bad"]] == [(str(paths[1]), "?")]
    assert report["bad"][0]["problem"].startswith("unreadable")
    size = paths[2].stat().st_size
    code, out, _ = run_cli(capsys, "cache", "prune", "--json", "--model", "m2", "--cache-dir", str(tmp_path))
    assert code == 0
    # m2's entry, and the unreadable one (prune always drops those)
    assert json.loads(out) | {"root": ""} == {
        "action": "prune",
        "root": "",
        "removed": 2,
        "removed_bytes": size + len(b"not a zip"),
    }
    assert [p.exists() for p in paths] == [True, False, False]


# -- help on every argument ----------------------------------------------------------------------------------


def help_problems(parser: argparse.ArgumentParser, path: str = "geneb") -> list[str]:
    """'<command> <argument>: <what is wrong>' for every argument of ``parser`` and its subcommands whose
    help is empty, or, for one that takes a value and may be left out, does not say its default."""
    problems = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                problems += help_problems(child, f"{path} {name}")
        elif not isinstance(action, argparse._HelpAction | argparse._VersionAction):
            name = "/".join(action.option_strings) or action.dest
            takes_value = action.nargs != 0 and (bool(action.option_strings) or action.nargs in ("?", "*"))
            problem = option_help_problem(action.help, takes_value and not action.required)
            if problem:
                problems.append(f"{path} {name}: {problem}")
    return problems


def option_help_problem(text: str | None, needs_default: bool) -> str | None:
    if not text or not text.strip() or text == argparse.SUPPRESS:
        return "no help"
    if needs_default and "default" not in text.lower():
        return "the help does not say the default"
    return None


def test_every_geneb_argument_has_help() -> None:
    from geneb_bench.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert {"run", "tasks", "models", "report", "slurm", "cache", "merge", "analyze", "submission"} <= set(
        commands
    )
    assert help_problems(parser) == []
    for name, command in commands.items():  # every help renders (a stray % would raise here)
        assert f"usage: geneb {name}" in command.format_help()


def test_the_help_check_names_what_lacks_help() -> None:
    parser = argparse.ArgumentParser(prog="geneb")
    child = parser.add_subparsers().add_parser("demo")
    child.add_argument("--told", default=3, help="a number (default: 3)")
    child.add_argument("--untold", default=3, help="a number")
    child.add_argument("--silent")
    child.add_argument("--flag", action="store_true", help="a switch")
    child.add_argument("path", help="a file")
    assert help_problems(parser) == [
        "geneb demo --untold: the help does not say the default",
        "geneb demo --silent: no help",
    ]


class OptionRecorder:
    """What ``pytest_addoption`` registers, with every keyword (pytest's own parser keeps only some)."""

    def __init__(self) -> None:
        self.options: list[tuple[tuple[str, ...], dict[str, object]]] = []

    def getgroup(self, name: str, description: str = "") -> OptionRecorder:
        return self

    def addoption(self, *names: str, **kwargs: object) -> None:
        self.options.append((names, kwargs))


def test_every_geneb_pytest_option_has_help() -> None:
    from geneb_bench.plugin import pytest_addoption

    recorder = OptionRecorder()
    pytest_addoption(recorder)  # type: ignore[arg-type]  # duck-typed: getgroup and addoption only
    names = [n for names, _ in recorder.options for n in names]
    assert {"--geneb-model", "--geneb-suite", "--geneb-allow-skips"} <= set(names)
    problems = []
    for option, kwargs in recorder.options:
        takes_value = kwargs.get("action") not in ("store_true", "store_false", "count")
        problem = option_help_problem(str(kwargs.get("help") or ""), takes_value)
        if problem:
            problems.append(f"pytest {'/'.join(option)}: {problem}")
    assert problems == []


# -- exit statuses: 0 done, 1 the thing checked failed, 2 usage error or unusable input ------------------------


def write_suite(root: Path, train: str) -> Path:
    """A one-task suite file whose train split is ``train`` (and test split a copy of the train split)."""
    for split in ("train", "test"):
        (root / f"{split}.csv").write_text(train)
    suite = root / "suite.toml"
    suite.write_text('[[task]]\nid = "t"\ncategory = "Promoters"\ntrain = "train.csv"\ntest = "test.csv"\n')
    return suite


def conflicting_dirs(root: Path) -> list[str]:
    """Two result dirs holding one item measured on different task data: merge refuses them."""
    result = make_result("kmer-3", "p1", "Promoters", "full", 0.5)
    write_result(root / "a", result)
    write_result(root / "b", dataclasses.replace(result, task_fingerprint="other data"))
    return [str(root / "a"), str(root / "b")]


def mixed_suites(root: Path) -> str:
    write_result(
        root, dataclasses.replace(make_result("kmer-3", "p1", "Promoters", "full", 0.5), suite="lite")
    )
    write_result(
        root, dataclasses.replace(make_result("kmer-3", "p2", "Promoters", "full", 0.5), suite="geneb")
    )
    return str(root)


def corrupt_cache(root: Path) -> str:
    fill_cache(root)[0].write_bytes(b"not a zip")
    return str(root)


EXIT_CASES: list[tuple[str, Callable[[Path, Path], list[str]], int]] = [
    ("tasks", lambda tmp, res: ["tasks", "--suite", "lite", "--json"], 0),
    (
        "tasks-check-bad-label",
        lambda tmp, res: ["tasks", "--check", "--suite", str(write_suite(tmp, "text,label\nACGT,x\n"))],
        1,
    ),
    ("tasks-unknown-suite", lambda tmp, res: ["tasks", "--suite", str(tmp / "nosuch.toml")], 2),
    ("tasks-audit-unknown-task", lambda tmp, res: ["tasks", "--audit", "--task", "nosuch"], 2),
    ("models", lambda tmp, res: ["models"], 0),
    ("models-bad-flag", lambda tmp, res: ["models", "--nosuch"], 2),
    ("report", lambda tmp, res: ["report", str(res), "-o", str(tmp / "out")], 0),
    ("report-empty-dir", lambda tmp, res: ["report", str(tmp / "empty")], 2),
    ("report-mixed-suites", lambda tmp, res: ["report", mixed_suites(tmp / "mixed")], 2),
    ("cache-ls", lambda tmp, res: ["cache", "ls", "--cache-dir", str(tmp / "cache")], 0),
    (
        "cache-verify-corrupt",
        lambda tmp, res: ["cache", "verify", "--cache-dir", corrupt_cache(tmp / "cache")],
        1,
    ),
    ("cache-unknown-action", lambda tmp, res: ["cache", "nosuch"], 2),
    ("merge", lambda tmp, res: ["merge", str(res), "-o", str(tmp / "merged")], 0),
    ("merge-conflict", lambda tmp, res: ["merge", *conflicting_dirs(tmp), "-o", str(tmp / "merged")], 2),
    ("merge-missing-dir", lambda tmp, res: ["merge", str(tmp / "nosuch"), "-o", str(tmp / "merged")], 2),
    ("merge-no-results", lambda tmp, res: ["merge", str(tmp / "empty"), "-o", str(tmp / "merged")], 2),
    (
        "merge-one-empty-shard",
        lambda tmp, res: ["merge", str(res), str(tmp / "empty"), "-o", str(tmp / "m")],
        0,
    ),
    ("analyze", lambda tmp, res: ["analyze", "winners"], 0),
    ("analyze-missing-dir", lambda tmp, res: ["analyze", "scaling", str(tmp / "nosuch")], 2),
    ("submission-invalid", lambda tmp, res: ["submission", "--validate", str(res / "results.json")], 1),
    ("submission-missing-file", lambda tmp, res: ["submission", "--validate", str(tmp / "nosuch.json")], 2),
    ("submission-no-model", lambda tmp, res: ["submission", str(res)], 2),
    ("figures-missing-dir", lambda tmp, res: ["figures", str(tmp / "nosuch"), "-o", str(tmp / "fig")], 2),
    ("slurm", lambda tmp, res: ["slurm", "--shards", "2", "--results-dir", str(tmp / "r")], 0),
    ("slurm-no-shards", lambda tmp, res: ["slurm", "--shards", "0", "--results-dir", str(tmp / "r")], 2),
]


@pytest.mark.parametrize(("argv", "status"), [c[1:] for c in EXIT_CASES], ids=[c[0] for c in EXIT_CASES])
def test_exit_statuses(
    argv: Callable[[Path, Path], list[str]],
    status: int,
    tmp_path: Path,
    results_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (results_dir / "results.json").write_text('{"schema": "not a submission"}')
    (tmp_path / "empty").mkdir()
    try:
        code = main(argv(tmp_path, results_dir))
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    _, err = capsys.readouterr()
    assert code == status, err
    if status == 2:
        assert err.strip()  # says what was wrong


def test_run_usage_error_is_status_2(tmp_path: Path) -> None:
    """pytest calls a bad option a usage error with status 4; ``geneb run`` says 2 like every command."""
    import subprocess

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "geneb_bench.cli",
            "run",
            "--results-dir",
            str(tmp_path),
            "--geneb-regimes=nosuch",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "nosuch" in done.stdout + done.stderr


# -- run -------------------------------------------------------------------------------------------------


def test_run_benchmarks_through_pytest(pytester: pytest.Pytester) -> None:
    rng = np.random.default_rng(0)
    for split, n in (("train", 40), ("test", 20)):
        rows = []
        for i in range(n):
            seq = "".join(rng.choice(list("ACGT"), size=50))
            rows.append(f"{seq[:20] + 'TATAAATA' + seq[28:] if i % 2 else seq},{i % 2}")
        (pytester.path / f"{split}.csv").write_text("text,label\n" + "\n".join(rows) + "\n")
    suite = pytester.path / "suite.toml"
    suite.write_text(
        '[[task]]\nid = "prom"\ncategory = "Promoters"\ntrain = "train.csv"\ntest = "test.csv"\n'
    )

    result = pytester.run(
        sys.executable,
        "-m",
        "geneb_bench.cli",
        "run",
        "--results-dir",
        "out",
        f"--geneb-suite={suite}",
        "--geneb-model=kmer-2",
        "--geneb-seeds=13",
        "--geneb-regimes=full,1shot",
        f"--geneb-cache-dir={pytester.path / 'cache'}",
        "-p",
        "no:hypothesispytest",
    )
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    result.stdout.fnmatch_lines(["*GENEB results (mean over seeds)*", "*2 passed*"])
    out = pytester.path / "out"
    assert (out / "junit.xml").read_text().count('<property name="mcc"') == 2
    assert sorted(p.name for p in next((out / "results").glob("*/kmer-2/prom")).iterdir()) == [
        "1shot.json",
        "full.json",
    ]
    assert (out / "suite+seeds__13" / "results.csv").is_file()  # the suite's own tables folder
    assert "[suite+seeds__13](suite+seeds__13/leaderboard.md)" in (out / "index.md").read_text()


# -- start-up: the everyday commands import nothing heavy ---------------------------------------------------
HEAVY = ("pandas", "scipy", "sklearn", "matplotlib", "torch", "transformers")


@pytest.mark.parametrize("argv", [["--help"], ["models"], ["cache", "ls"], ["report", "--help"]])
def test_everyday_commands_import_no_heavy_library(argv: list[str], tmp_path: Path) -> None:
    """``geneb --help``, ``geneb models`` and ``geneb cache ls`` start fast: none of pandas, scipy, sklearn,
    matplotlib, torch or transformers is imported (measured wall times: benchmarks/cli_startup.py)."""
    import subprocess

    code = (
        "import sys\nfrom geneb_bench.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "GENEB_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "HEAVY=", done.stdout[-500:]
