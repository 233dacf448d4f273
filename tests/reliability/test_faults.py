"""Faults caused for real: out-of-memory, a full disk, a killed worker, two runs on one results directory.

* Out of memory: the model's first activation allocation (its embedding lookup) raises
  ``torch.OutOfMemoryError`` -- the CUDA caching allocator's error type, which exists on CPU builds --
  whenever a batch holds more tokens than a limit.
* Full disk: ``RLIMIT_FSIZE`` (no root needed, unlike a small tmpfs): the kernel refuses every write past
  the limit with ``EFBIG``, exactly where a full disk gives ``ENOSPC``. Python ignores ``SIGXFSZ``, so the
  write fails with an ``OSError`` instead of killing the process.
* Killed worker: an xdist worker sends itself ``SIGKILL`` between writing a file and renaming it into
  place -- once inside the embedding cache (holding the cache lock), once writing a result.
* Concurrency: two sweeps start together (a start barrier) on one results and cache directory, both
  recomputing the items they share.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import resource
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest
import torch

from geneb_bench.embeddings.cache import EmbeddingCache
from geneb_bench.results.record import ItemResult, read_result, result_path, write_result
from geneb_bench.results.render import write_reports
from tests.conftest import SWEEP_SCOPE

if TYPE_CHECKING:
    from tests.conftest import Sweep


# ---- out of memory -------------------------------------------------------------------------------------


class Allocator:
    """Patched into ``torch.nn.functional.embedding``: out of memory above ``limit`` tokens per batch."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.embedding = torch.nn.functional.embedding
        self.ooms = 0
        self.largest_ok = 0

    def __call__(self, ids: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        if ids.numel() > self.limit:
            self.ooms += 1
            raise torch.OutOfMemoryError(
                f"CUDA out of memory. Tried to allocate {ids.numel() * 256} bytes (limit {self.limit} tokens)"
            )
        self.largest_ok = max(self.largest_ok, ids.numel())
        return self.embedding(ids, *args, **kwargs)


def _vectors(cache: Path) -> np.ndarray:
    """The task's distinct vectors, in first-seen order: one shard of the model's sequence store."""
    (shard,) = sorted(cache.rglob("geneb-sequences-1/*/*.npy"))
    vectors: np.ndarray = np.load(shard, allow_pickle=False)
    return vectors


@pytest.mark.slow
@pytest.mark.usefixtures("transformers_imported")
def test_oom_backs_off_and_gives_the_same_vectors(sweep: Sweep, monkeypatch: pytest.MonkeyPatch) -> None:
    sweep.good_task("good_a")
    sweep.regimes = "full"
    sweep.run(models=("random-bert-tiny",), results="ref", cache="cache-ref").assert_outcomes(passed=1)

    allocator = Allocator(limit=8 * 62)  # 8 sequences of 60 bases + 2 special tokens; a task has 90
    monkeypatch.setattr(torch.nn.functional, "embedding", allocator)
    result = sweep.run(models=("random-bert-tiny",), results="oom", cache="cache-oom")
    result.assert_outcomes(passed=1)
    assert allocator.ooms >= 1, "the fault never happened"
    assert 0 < allocator.largest_ok <= allocator.limit
    assert allocator.ooms <= 8, "the budget that fitted is kept: no out-of-memory per batch"
    # each row at the width of its own length (engine 2): the back-off moves no bit
    np.testing.assert_array_equal(_vectors(sweep.root / "cache-oom"), _vectors(sweep.root / "cache-ref"))
    assert sweep.results("oom").keys() == sweep.results("ref").keys()


@pytest.mark.usefixtures("transformers_imported")
def test_oom_on_a_single_sequence_skips_the_model_with_the_reason(
    sweep: Sweep, monkeypatch: pytest.MonkeyPatch
) -> None:
    sweep.good_task("good_a")
    allocator = Allocator(limit=10)  # not even one sequence (62 tokens) fits
    monkeypatch.setattr(torch.nn.functional, "embedding", allocator)
    result = sweep.run(models=("kmer-3", "random-bert-tiny"))
    result.assert_outcomes(passed=2, skipped=2)
    assert allocator.ooms >= 2
    for item, report in sweep.reports(result).items():
        if item.startswith("random-bert-tiny"):
            assert report.skipped
            assert "out of memory on cpu embedding a single sequence of 62 tokens" in str(report.longrepr), (
                item
            )
            assert "this model does not fit here" in str(report.longrepr)
    assert sorted(sweep.results()) == ["kmer-3/good_a/1shot", "kmer-3/good_a/full"]
    assert len(sweep.cache_entries()) == 1, "nothing cached for the model that did not fit"
    assert sweep.leftovers() == []


# ---- full disk ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def disk_quota(limit: int) -> Iterator[None]:
    """This process may not grow a file past ``limit`` bytes: the soft limit, restored afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    assert signal.getsignal(signal.SIGXFSZ) == signal.SIG_IGN, (
        "Python ignores SIGXFSZ: writes fail, not the process"
    )
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def _quota(limit: int) -> None:
    """For ``preexec_fn``: the child starts under the quota."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))


def _result(regime: str, n_seeds: int) -> ItemResult:
    return ItemResult(
        model="kmer-3",
        task_id="good_a",
        category="Promoters",
        regime=regime,
        mean={"mcc": 0.5, "accuracy": 0.75, "f1": 0.7},
        std={"mcc": 0.0, "accuracy": 0.0, "f1": 0.0},
        per_seed=[{"seed": s, "mcc": 0.5, "note": "x" * 200} for s in range(n_seeds)],
        n_train=60,
        n_test=30,
        n_classes=2,
        embedding_dim=64,
        task_fingerprint="f" * 64,
        task_revision=None,
        model_identity={"key": "kmer-3"},
        timings={},
    )


def test_disk_full_while_writing_result_cache_and_tables_keeps_the_old_files(tmp_path: Path) -> None:
    """Overwrites that hit the quota: the old file stays whole, no temporary file is left, the error names
    the file. (A result is rewritten by ``--geneb-rerun``; tables by every run.)"""
    small = write_result(tmp_path, _result("full", 1))
    before = small.read_bytes()
    cache = EmbeddingCache(tmp_path / "cache")
    parts = {"task_id": "good_a"}
    entry = cache.write(parts, {"train": np.ones((2, 2), np.float32), "test": np.ones((1, 2), np.float32)})
    entry_bytes = entry.read_bytes()
    from geneb_bench.results.aggregate import tidy

    frame = tidy([read_result(small)])
    tables = write_reports(frame, tmp_path)
    table_bytes = {p: p.read_bytes() for p in tables}
    big_frame = pd.concat([frame] * 200, ignore_index=True)
    limit = 8192
    assert max(len(before), len(entry_bytes), *map(len, table_bytes.values())) < limit

    with disk_quota(limit):
        with pytest.raises(OSError, match=rf"cannot write {re.escape(str(small))}: File too large"):
            write_result(tmp_path, _result("full", 60))
        with pytest.raises(
            OSError, match=rf"cannot write embedding cache entry {re.escape(str(entry))}: File too"
        ):
            cache.write(parts, {"train": np.ones((2000, 2), np.float32), "test": np.ones((1, 2), np.float32)})
        with pytest.raises(OSError, match=r"cannot write .*\.(md|csv): File too large"):
            write_reports(big_frame, tmp_path)

    assert small.read_bytes() == before
    assert entry.read_bytes() == entry_bytes
    assert cache.read(parts) is not None, "the old entry still reads (checksum intact)"
    assert {p: p.read_bytes() for p in tables} == table_bytes
    assert sorted(tmp_path.rglob("*.tmp")) == []


@pytest.mark.slow
def test_disk_full_in_a_sweep_turns_caching_off_and_a_full_results_disk_fails_clearly(sweep: Sweep) -> None:
    """A cache entry (~25 kB) does not fit, a result (~2 kB) does: caching goes off with one warning and
    every item still passes and writes its result (was: every item failed, no result written)."""
    sweep.good_task("good_a")
    sweep.good_task("good_b", seed=2)
    sweep.regimes = "full"
    run = sweep.subprocess("--capture=sys", preexec_fn=lambda: _quota(8192))
    assert run.returncode == 0, run.stdout[-3000:]
    assert "2 passed" in run.stdout
    assert run.stdout.count("caching is off for the rest of this run") == 1, run.stdout[-3000:]
    assert f"embedding cache {sweep.root / 'cache'} is not writable ([Errno 27] cannot write" in run.stdout
    assert sweep.cache_entries() == []
    assert sorted(sweep.results()) == ["kmer-3/good_a/full", "kmer-3/good_b/full"]
    assert sweep.leftovers() == []

    sweep.run().assert_outcomes(passed=2)  # space again: the cache fills
    size = result_path(sweep.root / "out", "kmer-3", "good_a", "full", SWEEP_SCOPE).stat().st_size
    assert size > 1024
    # cache full now; only the result (> 1 kB) is written: the item fails naming it, nothing half-written
    run = sweep.subprocess("--capture=sys", preexec_fn=lambda: _quota(1024), results="out2")
    assert run.returncode == 1, run.stdout[-3000:]
    path = result_path(sweep.root / "out2", "kmer-3", "good_a", "full", SWEEP_SCOPE)
    assert f"[Errno 27] cannot write {path}: File too large" in run.stdout  # one line, no traceback
    assert not path.exists()
    assert sweep.leftovers("out2") == []


# ---- killed worker ---------------------------------------------------------------------------------------

KILLER = '''
"""Loaded by every worker of the sweep: SIGKILL once just before the cache entry of the first (model, task)
is renamed into place (the cache lock held), and once before tf_a's full result is."""
import os
import signal
from pathlib import Path

MARKERS = os.environ.get("GENEB_KILL_MARKERS")
if MARKERS:
    _fsync, _replace = os.fsync, os.replace

    def _once(name):
        marker = Path(MARKERS) / name
        if marker.exists():
            return False
        marker.touch()
        return True

    def fsync(fd):  # only the cache calls fsync, after np.savez and before os.replace
        _fsync(fd)
        if _once("cache"):
            os.kill(os.getpid(), signal.SIGKILL)

    def replace(src, dst):
        if str(dst).endswith("tf_a/full.json") and _once("result"):
            os.kill(os.getpid(), signal.SIGKILL)
        return _replace(src, dst)

    os.fsync, os.replace = fsync, replace
'''


@pytest.mark.slow
def test_worker_killed_mid_item_the_sweep_goes_on_and_resume_completes(sweep: Sweep) -> None:
    pytest.importorskip("xdist")
    sweep.good_task("prom_a", seed=1)
    sweep.good_task("tf_a", seed=2)
    sweep.pytester.makeconftest(KILLER)
    markers = sweep.root / "markers"
    markers.mkdir()
    env = {**os.environ, "GENEB_KILL_MARKERS": str(markers)}
    killed = subprocess.run(
        sweep.command("-n", "2"), cwd=sweep.root, capture_output=True, text=True, timeout=120, env=env
    )  # xdist 3.8's own loadgroup scheduler hangs here
    out = killed.stdout
    assert sorted(p.name for p in markers.iterdir()) == ["cache", "result"], "both kills happened"
    crashed = re.findall(
        r"crashed while running 'test_bench.py::test_geneb\[kmer-3-promoters-(\w+)-(\w+)\]'", out
    )
    assert len(set(crashed)) == 2, out[-3000:]
    assert ("tf_a", "full") in crashed
    assert "2 failed, 2 passed" in out, out[-3000:]  # the sweep went on after each kill
    root = sweep.root / "out" / "results" / "reliability+seeds__13"
    finished = {p: p.read_bytes() for p in root.rglob("*.json")}
    assert sorted(str(p.relative_to(root)) for p in finished) == sorted(
        f"kmer-3/{t}/{r}.json" for t in ("prom_a", "tf_a") for r in ("full", "1shot") if (t, r) not in crashed
    )
    for content in finished.values():
        json.loads(content)  # complete, not torn

    resumed = sweep.run()  # no kills now (in-process run: the killer is off without GENEB_KILL_MARKERS)
    resumed.assert_outcomes(passed=4)
    resumed.stdout.fnmatch_lines(["geneb: 2 of 4 items loaded from earlier results*"])
    assert len(sweep.results()) == 4
    assert all(p.read_bytes() == content for p, content in finished.items()), (
        "finished results kept as they were"
    )
    assert len(sweep.cache_entries()) == 2
    # what the kills left: temporary files, never read as a result or a cache entry
    assert all(p.suffix == ".tmp" for p in sweep.leftovers())


# ---- concurrent runs --------------------------------------------------------------------------------------

BARRIER = '''
"""Both sweeps wait for each other before their first item, so they really run at the same time."""
import os
import time
from pathlib import Path

BARRIER = os.environ.get("GENEB_BARRIER")


def pytest_runtest_setup(item):
    if not BARRIER or getattr(pytest_runtest_setup, "done", False):
        return
    pytest_runtest_setup.done = True
    (Path(BARRIER) / f"ready-{os.getpid()}").touch()
    deadline = time.monotonic() + 60
    while len(list(Path(BARRIER).glob("ready-*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
'''


@pytest.mark.slow
def test_two_concurrent_runs_on_one_results_directory(sweep: Sweep) -> None:
    sweep.good_task("prom_a", seed=1)
    sweep.good_task("tf_a", seed=2)
    sweep.pytester.makeconftest(BARRIER)
    barrier = sweep.root / "barrier"
    barrier.mkdir()
    env = {**os.environ, "GENEB_BARRIER": str(barrier), "PYTHONDONTWRITEBYTECODE": "1"}
    runs = [
        subprocess.Popen(
            sweep.command("--geneb-rerun", models=models),
            cwd=sweep.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for models in (("kmer-2", "kmer-3"), ("kmer-3", "kmer-4"))
    ]
    outputs = [run.communicate(timeout=180)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert len(list(barrier.glob("ready-*"))) == 2

    results = sweep.results()  # every file parses: no torn or interleaved JSON
    expected = {f"kmer-{k}/{t}/{r}" for k in (2, 3, 4) for t in ("prom_a", "tf_a") for r in ("full", "1shot")}
    assert set(results) == expected, "no result lost"
    for key, record in results.items():
        assert "/".join((record["model"], record["task_id"], record["regime"])) == key
    assert sweep.leftovers() == []
    assert len(sweep.cache_entries()) == 6
    # the tables of the run that finished last
    table = pd.read_csv(sweep.root / "out" / SWEEP_SCOPE / "results.csv")
    assert len(table) == 12  # the tables cover every result of the suite in the directory: both runs
    assert set(table["model"]) == {"kmer-2", "kmer-3", "kmer-4"}  # the last table read both runs' files
    run_json = json.loads((sweep.root / "out" / SWEEP_SCOPE / "run.json").read_text())
    assert run_json["items"] == 8
