"""The task audit: seqleak on the task as loaded, its verdicts, the cache, failures kept to one task."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from geneb_bench.cli import main
from geneb_bench.data import audit as audit_mod
from geneb_bench.data.audit import (
    AuditCache,
    AuditUnavailable,
    TaskAudit,
    audit_data,
    audit_suite,
    render_line,
)
from geneb_bench.data.suites import get_suite
from geneb_bench.data.task import TaskData, TaskSpec

SUBSET = "geneb-tasks-subset"


def _seqleak() -> None:
    try:
        audit_mod.seqleak_version()
    except AuditUnavailable as exc:
        pytest.skip(str(exc))


def _random(rng: np.random.Generator, n: int, length: int = 120) -> list[str]:
    return ["".join(rng.choice(list("ACGT"), size=length)) for _ in range(n)]


def _revcomp(seq: str) -> str:
    return seq[::-1].translate(str.maketrans("ACGT", "TGCA"))


def _dinucleotide_shuffle(seq: str, rng: np.random.Generator, swaps: int = 30) -> str:
    """Swap the blocks between three occurrences of one base (a U a V a -> a V a U a): dinucleotide counts,
    length and both end bases stay, as in a dinucleotide shuffle."""
    for _ in range(swaps):
        base = str(rng.choice(list("ACGT")))
        at = [i for i, c in enumerate(seq) if c == base]
        if len(at) < 3:
            continue
        i, j, k = sorted(int(x) for x in rng.choice(at, size=3, replace=False))
        seq = seq[: i + 1] + seq[j + 1 : k + 1] + seq[i + 1 : j + 1] + seq[k + 1 :]
    return seq


def _task(task_id: str, train: list[str], train_y: list[int], test: list[str], test_y: list[int]) -> TaskData:
    return TaskData(
        TaskSpec(task_id, "Promoters"),
        train,
        np.array(train_y, dtype=np.int64),
        test,
        np.array(test_y, dtype=np.int64),
        ("0", "1"),
    )


def clean_task(seed: int = 0) -> TaskData:
    rng = np.random.default_rng(seed)
    return _task(
        "clean",
        _random(rng, 400),
        [int(v) for v in rng.integers(0, 2, 400)],
        _random(rng, 100),
        [int(v) for v in rng.integers(0, 2, 100)],
    )


def leaky_task(seed: int = 0) -> TaskData:
    """Positives at random, negatives built from them; the test split holds copies and reverse complements of
    training items and dinucleotide-shuffled twins of training positives with the opposite label."""
    rng = np.random.default_rng(seed)
    positives = _random(rng, 200)
    train = positives + [_dinucleotide_shuffle(s, rng) for s in _random(rng, 200)]
    train_y = [1] * 200 + [0] * 200
    test = (
        [positives[i] for i in range(15)]
        + [_revcomp(positives[i]) for i in range(15, 25)]
        + [_dinucleotide_shuffle(positives[i], rng) for i in range(25, 65)]
        + _random(rng, 35)
    )
    test_y = [1] * 25 + [0] * 40 + [1] * 35
    return _task("leaky", train, train_y, test, test_y)


def test_shuffle_keeps_dinucleotides() -> None:
    rng = np.random.default_rng(3)
    for seq in _random(rng, 20):
        shuffled = _dinucleotide_shuffle(seq, rng)
        pairs = sorted(seq[i : i + 2] for i in range(len(seq) - 1))
        assert shuffled != seq
        assert sorted(shuffled[i : i + 2] for i in range(len(shuffled) - 1)) == pairs
        assert (shuffled[0], shuffled[-1]) == (seq[0], seq[-1])


@pytest.fixture(scope="module")
def audits(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TaskAudit, TaskAudit]:
    _seqleak()
    cache = tmp_path_factory.mktemp("audit-cache")
    return cache, audit_data(leaky_task(), cache), audit_data(clean_task(), cache)


def test_planted_leak_fails(audits: tuple[Path, TaskAudit, TaskAudit]) -> None:
    _, leaky, _ = audits
    assert leaky.status == "ok", leaky.message
    assert leaky.verdict == "FAIL"
    failing = {f.check for f in leaky.failing}
    assert {"overlap.exact", "construction.shuffle"} <= failing, leaky.reason()
    exact = next(f for f in leaky.failing if f.check == "overlap.exact")
    assert exact.value == pytest.approx(25 / 100)  # 15 copies + 10 reverse complements of 100 test items
    assert exact.fail is not None
    assert exact.value is not None
    assert exact.value >= exact.fail
    assert leaky.baseline_mcc is not None
    assert leaky.baseline_mcc > 0.5
    assert render_line(leaky).startswith("FAIL  leaky  no-model MCC ")
    assert "FAIL construction.shuffle" in render_line(leaky)


def test_clean_task_passes(audits: tuple[Path, TaskAudit, TaskAudit]) -> None:
    _, _, clean = audits
    assert (clean.status, clean.verdict, clean.flags) == ("ok", "PASS", ()), clean.reason()
    assert clean.baseline_mcc is not None
    assert clean.baseline_mcc < 0.3


def test_cached_per_fingerprint_and_version(
    audits: tuple[Path, TaskAudit, TaskAudit], monkeypatch: pytest.MonkeyPatch
) -> None:
    cache, leaky, _ = audits
    path = AuditCache(cache).path_for(leaky.fingerprint, leaky.seqleak_version)
    assert path.is_file()
    assert json.loads(path.read_text())["report"]["schema"] == "seqleak.audit/1"

    def refuse(_data: TaskData) -> Any:
        raise AssertionError("a cached audit must not run seqleak again")

    monkeypatch.setattr(audit_mod, "run_seqleak", refuse)
    again = audit_data(leaky_task(), cache)
    assert again.cached
    assert again == leaky
    changed = leaky_task()
    changed = _task(
        "leaky",
        list(changed.train_sequences),
        [*changed.train_labels.tolist()[:-1], 1],
        list(changed.test_sequences),
        changed.test_labels.tolist(),
    )
    fresh = audit_data(
        changed, cache
    )  # one label changed: another fingerprint, audited afresh (here: refused)
    assert fresh.status == "error"
    assert "must not run" in fresh.message
    assert AuditCache(cache).read(leaky.fingerprint, "0.0.0") is None


def _fake_report(verdict: str) -> dict[str, Any]:
    check = {"status": verdict, "value": 0.3, "statistic": "share", "threshold": {"warn": 0.01, "fail": 0.05}}
    return {
        "checks": {"overlap.exact": check},
        "verdict": {"status": verdict},
        "best_rule": {"family": "lookup", "metric": "mcc", "value": 0.42},
        "lookup_baseline": {"value": 0.4},
    }


def test_seqleak_failure_stays_with_its_task(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    entries = []
    for name in ("broken", "fine"):
        lines = "".join(f"{s},{i % 2}\n" for i, s in enumerate(_random(rng, 20, 30)))
        (tmp_path / f"{name}.csv").write_text("text,label\n" + lines)
        entries.append(
            f'[[task]]\nid = "{name}"\ncategory = "Promoters"\nfile = "{name}.csv"\ntest_fraction = 0.5\n'
        )
    (tmp_path / "suite.toml").write_text("\n".join(entries))

    def fake(data: TaskData) -> tuple[dict[str, Any], str, float]:
        if data.spec.task_id == "broken":
            raise ValueError("boom")
        return _fake_report("FAIL"), "0.4.1", 0.1

    monkeypatch.setattr(audit_mod, "seqleak_version", lambda: "0.4.1")
    monkeypatch.setattr(audit_mod, "run_seqleak", fake)
    rows = {a.task_id: a for a in audit_suite(get_suite(str(tmp_path / "suite.toml")), None, tmp_path / "c")}
    assert rows["broken"].status == "error"
    assert "seqleak failed: ValueError: boom" in rows["broken"].message
    assert (rows["fine"].verdict, rows["fine"].baseline_mcc) == ("FAIL", 0.42)
    assert rows["fine"].reason() == "FAIL overlap.exact 0.300 >= 0.05"


def test_missing_seqleak_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.metadata

    def absent(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", absent)
    with pytest.raises(AuditUnavailable, match=r"pip install 'geneb-bench\[audit\]'"):
        audit_mod.seqleak_version()
    assert main(["tasks", "--audit"]) == 2
    assert "pip install 'geneb-bench[audit]'" in capsys.readouterr().err
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "0.5.0")
    with pytest.raises(
        AuditUnavailable, match=r"seqleak 0.5.0 is installed; .*tested with seqleak>=0.4.1,<0.5"
    ):
        audit_mod.seqleak_version()


def test_cli_audit_suite_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bring-your-own suite: one line per task, cached the second time, JSON on request."""
    _seqleak()
    entries = []
    for data in (leaky_task(), clean_task()):
        for split, seqs, labels in (
            ("train", data.train_sequences, data.train_labels),
            ("test", data.test_sequences, data.test_labels),
        ):
            rows = "".join(f"{s},{y}\n" for s, y in zip(seqs, labels.tolist(), strict=True))
            (tmp_path / f"{data.spec.task_id}_{split}.csv").write_text("text,label\n" + rows)
        entries.append(
            f'[[task]]\nid = "{data.spec.task_id}"\ncategory = "Promoters"\n'
            f'train = "{data.spec.task_id}_train.csv"\ntest = "{data.spec.task_id}_test.csv"\n'
        )
    (tmp_path / "suite.toml").write_text("\n".join(entries))
    argv = [
        "tasks",
        "--audit",
        "--suite",
        str(tmp_path / "suite.toml"),
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "FAIL  leaky  no-model MCC" in out
    assert "PASS  clean  no-model MCC" in out
    assert "2 audited (1 PASS, 0 WARN, 1 FAIL; 0 from the cache)" in out
    assert main([*argv, "--task", "nope"]) == 2  # a bad argument, refused before any audit
    assert "geneb tasks: suite 'suite' has no task 'nope'" in capsys.readouterr().err
    assert main([*argv, "--json", "--task", "clean"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["task_id"], r["verdict"], r["cached"]) for r in rows] == [("clean", "PASS", True)]


@pytest.mark.slow
@pytest.mark.parametrize(
    "task_id", ["leannmlindsey_GUE_mouse_3", "leannmlindsey_GUE_mouse_2", "leannmlindsey_GUE_prom_300_tata"]
)
def test_verdicts_match_seqleak_cli(
    task_id: str, shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The audit of the task as loaded gives seqleak's own CLI verdict and checks on the same files."""
    _seqleak()
    folder = shared_data / SUBSET / "tasks" / task_id
    out = tmp_path / "cli.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "seqleak",
            "audit",
            "--train",
            str(folder / "train.csv"),
            "--test",
            str(folder / "test.csv"),
            "--seq-col",
            "text",
            "--out",
            str(out),
            "--quiet",
        ],
        check=True,
        timeout=300,
        capture_output=True,
    )
    cli = json.loads(out.read_text())
    assert (
        main(
            [
                "tasks",
                "--audit",
                "--suite",
                "geneb",
                "--data-dir",
                str(shared_data / SUBSET),
                "--task",
                task_id,
                "--cache-dir",
                str(tmp_path / "cache"),
                "--json",
            ]
        )
        == 0
    )
    [ours] = json.loads(capsys.readouterr().out)
    assert ours["verdict"] == cli["verdict"]["status"]
    assert [f["check"] for f in ours["flags"] if f["status"] == "FAIL"] == cli["verdict"]["fail"]
    assert sorted(f["check"] for f in ours["flags"] if f["status"] == "WARN") == sorted(
        cli["verdict"]["warn"]
    )
    assert ours["baseline_mcc"] == pytest.approx(cli["best_rule"]["value"], abs=1e-9)
