"""The ``geneb`` command: models, tasks, report (in-process through ``main``) and run (in a subprocess)."""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from geneb_bench.categories import CATEGORIES
from geneb_bench.cli import main
from geneb_bench.models.registry import list_models
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
    assert out.splitlines()[0].split()[:3] == ["key", "family", "params"]
    assert "random-gpt2-tiny" in out


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
    assert "geneb tasks: unknown suite" in err


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
    assert code == 1
    assert f"no result files under {tmp_path}" in err
    assert out == ""
    assert list(tmp_path.iterdir()) == []


def test_report_on_a_foreign_json_file_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "other.json").write_text('{"schema": "something-else"}')
    code, _, err = run_cli(capsys, "report", str(tmp_path))
    assert code == 1  # skipped with a warning, and then there is nothing to report
    assert "warning: skipped" in err
    assert "other.json: unreadable result file" in err
    assert f"no result files under {tmp_path}" in err


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
    assert (out / "results.csv").is_file()


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
