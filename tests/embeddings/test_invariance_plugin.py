"""Batch invariance seen from the plugin: ``-k Q`` alone, the full run, ``-n 2`` and ``--geneb-shard`` runs give
the same bytes, on random-bert-tiny over two variable-length tasks that share sequences (a cold cache each).

The issue's reproduction: before the padding grid, Q alone vs P then Q gave 125 of 200 shared vectors
different and another 1-shot MCC, because the sequence store served Q's shared sequences from P's batches.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import Sweep, csv_text

MODEL = ("random-bert-tiny",)
# What a run measured about itself, not about the model: wall-clock seconds (``timings``) and the item's cost
# (``resources``: tokens computed, 0 when the store served them, seconds, peak memory). Nothing else differs.
VOLATILE = ("timings", "resources")


def _stable(text: str) -> str:
    record = json.loads(text)
    for field in VOLATILE:
        record.pop(field, None)
    return json.dumps(record, indent=2)


def _rows(rng: np.random.Generator, n: int) -> list[tuple[str, int]]:
    """Random sequences of 20-400 bp, both labels."""
    lengths = rng.integers(20, 401, size=n)
    return [("".join(rng.choice(list("ACGT"), size=int(k))), i % 2) for i, k in enumerate(lengths)]


@pytest.fixture
def shared_tasks(sweep: Sweep) -> Sweep:
    """task_p (declared first, so it runs first) holds 12 of task_q's training and 6 of its test sequences."""
    rng = np.random.default_rng(11)
    q_train, q_test = _rows(rng, 24), _rows(rng, 12)
    p_train, p_test = _rows(rng, 12) + q_train[:12], _rows(rng, 6) + q_test[:6]
    for task_id, train, test in (("task_p", p_train, p_test), ("task_q", q_train, q_test)):
        sweep.task(
            task_id,
            {"train.csv": csv_text(train), "test.csv": csv_text(test)},
            'train = "{dir}/train.csv"\ntest = "{dir}/test.csv"',
        )
    return sweep


def _q_files(root: Path) -> dict[str, str]:
    """task_q's result files, the volatile timings removed (nothing else is touched)."""
    files = sorted((root / "results").rglob("task_q/*.json"))
    assert files, f"no results of task_q under {root}"
    return {path.name: _stable(path.read_text()) for path in files}


@pytest.mark.usefixtures("transformers_imported")
def test_q_alone_and_after_p_write_the_same_result_files(shared_tasks: Sweep) -> None:
    alone = shared_tasks.run("-k", "task_q", models=MODEL, cache="cache-alone", results="alone")
    alone.assert_outcomes(passed=2)
    full = shared_tasks.run(models=MODEL, cache="cache-full", results="full")
    full.assert_outcomes(passed=4)
    q_alone, q_full = _q_files(shared_tasks.root / "alone"), _q_files(shared_tasks.root / "full")
    assert sorted(q_alone) == ["1shot.json", "full.json"]
    for name, text in q_alone.items():
        assert '"timings"' not in text
        assert '"resources"' not in text
        assert text == q_full[name], name
    stored = sorted((shared_tasks.root / "cache-full").rglob("geneb-sequences-*/*/*.index"))
    assert len(stored) == 2  # task_q's shared sequences really came from task_p's shard in the full run


def _tables(folder: Path) -> dict[str, bytes]:
    """The run's tables (in its suite's folder, ``DIR/<suite>[+variant]/``)."""
    (tables,) = {p.parent for p in folder.glob("*/leaderboard.csv")}
    return {name: (tables / name).read_bytes() for name in ("leaderboard.csv", "leaderboard.md")}


@pytest.mark.slow
@pytest.mark.usefixtures("transformers_imported")
def test_xdist_and_shards_give_the_serial_tables(shared_tasks: Sweep) -> None:
    pytest.importorskip("xdist")
    shared_tasks.run(models=MODEL, cache="cache-serial", results="serial").assert_outcomes(passed=4)
    for shard in ("0/2", "1/2"):  # one results folder and one cache, one shard after the other
        shared_tasks.run(
            f"--geneb-shard={shard}", models=MODEL, cache="cache-shards", results="shards"
        ).assert_outcomes(passed=2)
    parallel = shared_tasks.pytester.runpytest_subprocess(
        "-n", "2", *shared_tasks.args(models=MODEL, cache="cache-xdist", results="xdist"), timeout=300
    )
    parallel.assert_outcomes(passed=4)
    serial = _tables(shared_tasks.root / "serial")
    assert _tables(shared_tasks.root / "shards") == serial
    assert _tables(shared_tasks.root / "xdist") == serial
