"""Fail early and clearly, and survive every fault without losing a result (issue 19).

Each test is a case the adversarial run found: bad options refused before any work (exit 4), cache locks
that say who holds them and give up, a full cache or a failed table write that degrades instead of
cascading, broken checkpoints and corrupt result files named for what they are, data errors that would give
a silently wrong score, and vectors that no longer depend on the run's out-of-memory history.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas  # noqa: F401  # imported outside the in-process runs (pytester drops modules a run imports)
import pytest
import torch

from geneb_bench.cli import main as geneb
from geneb_bench.embeddings import key as key_module
from geneb_bench.embeddings.cache import CacheDisabledWarning, CacheLockTimeout, EmbeddingCache, cache_key
from geneb_bench.embeddings.engine import EmbeddingEngine, token_budget_batches
from geneb_bench.results.record import METRICS, read_result, result_path
from tests.conftest import SWEEP_SCOPE

if TYPE_CHECKING:
    from tests.conftest import Sweep

pytest_plugins = ["pytester"]


# ---- 1. pre-flight: usage errors before anything is computed -----------------------------------------------


def _refused(sweep: Sweep, *extra: str, **kwargs: Any) -> str:
    """Run the sweep; it must stop with a usage error and compute nothing. Returns stderr."""
    result = sweep.run(*extra, **kwargs)
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()[-2000:]
    assert not list(sweep.root.rglob("*.npz")), "nothing embedded"
    assert not list(sweep.root.rglob("results/**/*.json")), "nothing probed"
    return str(result.stderr.str())


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("results-dir-is-a-file", "--geneb-results-dir: {root}/out is a file, not a directory"),
        ("cache-dir-is-a-file", "--geneb-cache-dir: {root}/cache is a file, not a directory"),
        (
            "results-dir-under-a-file",
            "--geneb-results-dir: cannot create {root}/blocker/out: {root}/blocker is a file",
        ),
        ("seed-negative", "--geneb-seeds: -5 is not a valid probe seed"),
        ("seed-too-large", "--geneb-seeds: 4294967296 is not a valid probe seed"),
        ("override-of-the-wrong-type", "model 'kmer-3[k=abc]': k='abc' is not int (the default is 3)"),
        ("relative-path-typo", "no such model folder: './typo'"),
        ("path-under-an-existing-folder", "no such model folder: 'models/typo'"),
        ("lock-timeout-zero", "--geneb-lock-timeout: 0.0 is not a positive number of seconds"),
    ],
)
def test_bad_option_is_a_usage_error_before_any_work(sweep: Sweep, case: str, message: str) -> None:
    sweep.good_task("good_a")
    root = sweep.root
    extra: list[str] = []
    kwargs: dict[str, Any] = {}
    if case == "results-dir-is-a-file":
        (root / "out").write_text("")
    elif case == "cache-dir-is-a-file":
        (root / "cache").write_text("")
    elif case == "results-dir-under-a-file":
        (root / "blocker").write_text("")
        kwargs["results"] = "blocker/out"
    elif case.startswith("seed-"):
        extra.append("--geneb-seeds=" + ("-5" if case == "seed-negative" else str(2**32)))
    elif case == "override-of-the-wrong-type":
        kwargs["models"] = ("kmer-3[k=abc]",)
    elif case == "relative-path-typo":
        kwargs["models"] = ("./typo",)
    elif case == "path-under-an-existing-folder":
        (root / "models").mkdir()
        kwargs["models"] = ("models/typo",)
    elif case == "lock-timeout-zero":
        extra.append("--geneb-lock-timeout=0")
    assert message.format(root=root) in _refused(sweep, *extra, **kwargs)


def test_task_id_too_long_for_the_filesystem_is_a_usage_error(sweep: Sweep) -> None:
    sweep.good_task("t" * 300)
    err = _refused(sweep)
    assert "--geneb-results-dir / --geneb-suite: task id 'tttt" in err
    assert "over this filesystem's limit of 255" in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_device_without_cuda_is_a_usage_error(sweep: Sweep) -> None:
    sweep.good_task("good_a")
    err = _refused(sweep, "--geneb-device=cuda")
    assert "--geneb-device cuda: no CUDA device is available here" in err
    assert "Fix: --geneb-device auto or cpu" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="running as root: permissions do not stop root from writing")
def test_read_only_results_directory_is_a_usage_error(sweep: Sweep) -> None:
    sweep.good_task("good_a")
    (sweep.root / "out").mkdir()
    (sweep.root / "out").chmod(0o555)
    try:
        assert f"--geneb-results-dir: cannot write in {sweep.root / 'out'}" in _refused(sweep)
    finally:
        (sweep.root / "out").chmod(0o755)


# ---- 2. locks that tell ----------------------------------------------------------------------------------

HOLDER = """
import os, signal, sys
from pathlib import Path
from geneb_bench.embeddings.cache import EmbeddingCache
cache = EmbeddingCache(Path(sys.argv[1]))
path = cache.path_for("ab" * 32)
path.parent.mkdir(parents=True, exist_ok=True)
with cache._locked(path):
    print("held", flush=True)
    os.kill(os.getpid(), signal.SIG{signal})
"""


def _hold(tmp_path: Path, sig: str) -> subprocess.Popen[str]:
    """A process that takes an entry's lock (as a run would) and then stops (Ctrl-Z) or dies (SIGKILL)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER.format(signal=sig), str(tmp_path / "cache")],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_lock_held_by_a_suspended_run_says_who_and_gives_up(tmp_path: Path) -> None:
    """Was: a run suspended with Ctrl-Z made another run on the same cache wait forever, silently."""
    holder = _hold(tmp_path, "STOP")
    try:
        told: list[str] = []
        cache = EmbeddingCache(tmp_path / "cache", lock_timeout=1.5, notice_after=0.3, notify=told.append)
        start = time.monotonic()
        with pytest.raises(CacheLockTimeout) as info, cache._locked(cache.path_for("ab" * 32)):
            pass
        assert time.monotonic() - start < 10
        assert len(told) == 1
        assert f"held by PID {holder.pid} on host {os.uname().nodename}" in told[0]
        assert "giving up after 2 s (--geneb-lock-timeout)" in told[0]
        assert f"held by PID {holder.pid}" in str(info.value)
        assert "--geneb-lock-timeout" in str(info.value)
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_lock_of_a_dead_holder_is_taken_over(tmp_path: Path) -> None:
    holder = _hold(tmp_path, "KILL")
    holder.wait(timeout=30)
    cache = EmbeddingCache(tmp_path / "cache", lock_timeout=5, notice_after=0.2, notify=pytest.fail)
    path = cache.path_for("ab" * 32)
    assert Path(f"{path}.lock.holder").exists(), "the dead holder's record is still there"
    start = time.monotonic()
    with cache._locked(path):
        record = json.loads(Path(f"{path}.lock.holder").read_text())
        assert record["pid"] == os.getpid()
    assert time.monotonic() - start < 2
    assert not Path(f"{path}.lock.holder").exists()


# ---- 3. faults degrade, not cascade -------------------------------------------------------------------------


def test_unwritable_cache_turns_caching_off_once(tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("a file where the cache should be")
    cache = EmbeddingCache(tmp_path / "cache")
    calls = []

    def compute() -> dict[str, np.ndarray]:
        calls.append(1)
        return {"train": np.ones((2, 2)), "test": np.ones((1, 2))}

    with pytest.warns(CacheDisabledWarning, match="caching is off for the rest of this run") as record:
        got = [cache.get_or_compute({"task_id": task}, compute) for task in ("a", "b", "c")]
    assert [cached for _, cached in got] == [False, False, False]
    assert all(arrays["train"].dtype == np.float32 for arrays, _ in got)
    assert len(record) == 1
    assert len(calls) == 3


def test_failing_table_write_is_one_line_after_the_summary(sweep: Sweep) -> None:
    """Was: ~100 lines of pluggy traceback from pytest_sessionfinish and no failure summary."""
    sweep.good_task("good_a")
    sweep.task(
        "bad",
        {"tr.csv": "text,label\nACGT,0\n", "te.csv": "text,label\nACGT,0\n"},
        'train = "{dir}/tr.csv"\ntest = "{dir}/te.csv"',
    )
    sweep.regimes = "full"

    # a real fault: the table cannot be replaced
    (sweep.root / "out" / SWEEP_SCOPE / "leaderboard.md").mkdir(parents=True)
    result = sweep.run()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    assert "INTERNALERROR" not in out
    assert "pluggy/_" not in out  # no traceback through the hook machinery
    lines = out.splitlines()
    failure = [i for i, line in enumerate(lines) if line.startswith("geneb: could not write the tables")]
    assert len(failure) == 1
    assert "leaderboard.md" in lines[failure[0]]
    assert "geneb report" in lines[failure[0]]
    assert failure[0] > next(i for i, line in enumerate(lines) if "= FAILURES =" in line)
    assert sorted(sweep.results()) == ["kmer-3/good_a/full"], "the good item's result is intact"


def test_failing_table_write_in_a_passing_run_exits_1(sweep: Sweep) -> None:
    sweep.good_task("good_a")
    sweep.regimes = "full"
    (sweep.root / "out" / SWEEP_SCOPE / "leaderboard.md").mkdir(parents=True)
    result = sweep.run()
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["geneb: could not write the tables in *leaderboard.md*geneb report*"])


# ---- 4. corrupt results and cache entries -----------------------------------------------------------------


def test_corrupt_result_file_is_recomputed_by_its_item(sweep: Sweep) -> None:
    """Was: a result JSON with ``"per_seed": 5`` crashed its item on every rerun, never repaired."""
    sweep.good_task("good_a")
    sweep.regimes = "full"
    sweep.run().assert_outcomes(passed=1)
    path = result_path(sweep.root / "out", "kmer-3", "good_a", "full", SWEEP_SCOPE)
    good = json.loads(path.read_text())
    path.write_text(json.dumps({**good, "per_seed": 5}))
    result = sweep.run()
    result.assert_outcomes(passed=1)
    assert "1 of 1 items loaded from earlier results" not in result.stdout.str()
    assert json.loads(path.read_text())["per_seed"] == good["per_seed"], "recomputed and rewritten"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("per_seed", 5),
        ("per_seed", [{"seed": "13"}]),
        ("mean", {"mcc": "high"}),
        ("n_test", "30"),
        ("model", None),
    ],
)
def test_result_of_the_wrong_shape_is_unreadable(tmp_path: Path, field: str, value: Any) -> None:
    from geneb_bench.results.record import ItemResult, write_result

    result = ItemResult(
        model="m",
        task_id="t",
        category="Promoters",
        regime="full",
        mean=dict.fromkeys(METRICS, 0.5),
        std=dict.fromkeys(METRICS, 0.0),
        per_seed=[{"seed": 13, "mcc": 0.5}],
        n_train=60,
        n_test=30,
        n_classes=2,
        embedding_dim=8,
        task_fingerprint="f",
        task_revision=None,
        model_identity={"key": "m"},
        timings={},
    )
    path = write_result(tmp_path, result)
    assert read_result(path) == result
    path.write_text(json.dumps({**json.loads(path.read_text()), field: value}))
    with pytest.raises(ValueError, match=rf"unreadable result file: .*{field}"):
        read_result(path)


def test_report_skips_a_corrupt_result_with_a_warning(
    sweep: Sweep, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was: one corrupt result JSON aborted ``geneb report`` entirely."""
    sweep.good_task("good_a")
    sweep.good_task("good_b", seed=2)
    sweep.regimes = "full"
    sweep.run().assert_outcomes(passed=2)
    bad = result_path(sweep.root / "out", "kmer-3", "good_b", "full", SWEEP_SCOPE)
    bad.write_text(bad.read_text()[:100])
    capsys.readouterr()
    assert geneb(["report", str(sweep.root / "out")]) == 0
    _out, err = capsys.readouterr()
    assert f"warning: skipped {bad}: unreadable result file" in err
    assert "good_a" in (sweep.root / "out" / SWEEP_SCOPE / "results.csv").read_text()
    assert "good_b" not in (sweep.root / "out" / SWEEP_SCOPE / "results.csv").read_text()


def test_cache_verify_finds_a_byte_flipped_entry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Was: ``geneb cache ls`` listed a byte-flipped entry as healthy."""
    cache = EmbeddingCache(tmp_path)
    rng = np.random.default_rng(0)
    for task in ("a", "b"):
        cache.write(
            {"model": {"key": "m"}, "task_id": task},
            {"train": rng.normal(size=(50, 8)).astype(np.float32), "test": np.ones((3, 8), np.float32)},
        )
    flipped = cache.path_for(cache_key({"model": {"key": "m"}, "task_id": "b"}))
    data = bytearray(flipped.read_bytes())
    data[len(data) // 3] ^= 0xFF  # inside the stored arrays (uncompressed npz)
    flipped.write_bytes(bytes(data))
    assert geneb(["cache", "verify", "--cache-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"BAD {flipped}" in out
    assert "2 entries checked, 1 bad" in out
    assert geneb(["cache", "verify", "--cache-dir", str(tmp_path), "--remove"]) == 0
    assert not flipped.exists()
    assert len(cache.entries()) == 1


# ---- 5. obvious data errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["same-file", "mostly-shared", "same-file-allowed"])
def test_train_and_test_sharing_their_sequences_fail_the_task(sweep: Sweep, case: str) -> None:
    """Was: the same file as train and test ran to MCC 1.0000 with no message."""
    from geneb_bench.data.suites import get_suite

    good = sweep.good_task("good_a")
    train = good.train.read_text().splitlines()
    if case == "mostly-shared":  # 6 of 10 test rows are training rows
        held_out = good.test.read_text().splitlines()[1:5]
        (good.test.parent / "leaky.csv").write_text("\n".join([train[0], *train[1:7], *held_out]) + "\n")
    test = "leaky.csv" if case == "mostly-shared" else "train.csv"
    allow = "allow_overlap = true\n" if case.endswith("allowed") else ""
    sweep.task(
        "leak",
        {},
        f'train = "{good.train.parent.name}/train.csv"\ntest = "{good.train.parent.name}/{test}"\n{allow}',
    )
    suite = get_suite(str(sweep.suite))
    if case.endswith("allowed"):
        assert len(suite.load("leak").test_sequences) == 60
        return
    expected = "is both a train and a test file" if case == "same-file" else "6 of the 10 test sequences"
    with pytest.raises(ValueError, match=expected):
        suite.load("leak")


def test_renamed_task_is_reported_once(sweep: Sweep, capsys: pytest.CaptureFixture[str]) -> None:
    """Was: a task whose id changed but whose data did not was counted twice by ``geneb report``."""
    good = sweep.good_task("old_name")
    sweep.regimes = "full"
    sweep.run().assert_outcomes(passed=1)
    folder = good.train.parent.name
    sweep.suite.write_text(
        f'[[task]]\nid = "new_name"\ncategory = "Promoters"\ntrain = "{folder}/train.csv"\n'
        f'test = "{folder}/test.csv"\n'
    )
    time.sleep(0.05)  # the renamed run's files are the newer ones
    sweep.run().assert_outcomes(passed=1)
    capsys.readouterr()
    assert geneb(["report", str(sweep.root / "out")]) == 0
    out, err = capsys.readouterr()
    assert err.count("tasks 'old_name' and 'new_name' hold the same data") == 1
    written = next(line.removeprefix("wrote ") for line in out.splitlines() if line.endswith("results.csv"))
    table = Path(written).read_text()  # the renamed run's suite folder: the newer results
    assert "new_name" in table
    assert "old_name" not in table


# ---- 6. library versions are in the cache key --------------------------------------------------------------


def test_a_library_upgrade_misses_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def parts() -> dict[str, Any]:
        return key_module.embedding_key(
            model_identity={"key": "m"},
            task_id="t",
            task_fingerprint="f",
            dtype="float32",
            long_input="truncate",
        )

    cache = EmbeddingCache(tmp_path)
    cache.write(parts(), {"train": np.ones((2, 2), np.float32), "test": np.ones((1, 2), np.float32)})
    assert cache.read(parts()) is not None
    for library in ("torch", "transformers"):
        upgraded = {**key_module.library_versions(), library: "99.0"}
        monkeypatch.setattr(key_module, "library_versions", lambda upgraded=upgraded: upgraded)
        assert cache.read(parts()) is None, f"a {library} upgrade must not reuse old vectors"
        monkeypatch.undo()
    monkeypatch.setattr(key_module, "ENGINE_VERSION", "changed")
    assert cache.read(parts()) is None


# ---- 7. vectors do not depend on the run's out-of-memory history ------------------------------------------


class Recorder:
    """A forward that records each batch it computes and runs out of memory above ``limit`` tokens."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.done: list[tuple[tuple[int, ...], ...]] = []  # batches computed since the last out-of-memory
        self.ooms = 0

    def __call__(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if ids.numel() > self.limit:
            self.ooms += 1
            self.done.clear()
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        self.done.append(tuple(tuple(row[m.bool()].tolist()) for row, m in zip(ids, mask, strict=True)))
        return ids.float().unsqueeze(-1).repeat(1, 1, 3)


def test_after_an_oom_back_off_the_whole_task_is_one_batch_plan() -> None:
    """Was: only the failing batch was split; the task's other vectors came from the old plan."""
    rng = np.random.default_rng(3)
    encoded = [list(rng.integers(1, 9, size=int(n))) for n in rng.integers(5, 40, size=40)]
    forward = Recorder(limit=45)  # two rows of one width above 22 tokens do not fit; any single row does
    engine = EmbeddingEngine(forward, pad_id=0, device="cpu", token_budget=2000)
    engine.embed_ids(encoded, ["x"] * len(encoded), list(range(len(encoded))))
    assert forward.ooms >= 1
    assert engine.token_budget < 2000
    plan = [batch for _, batch in token_budget_batches([len(e) for e in encoded], engine.token_budget)]
    assert sorted(forward.done) == sorted(tuple(tuple(encoded[i]) for i in batch) for batch in plan)


@pytest.mark.usefixtures("transformers_imported")
def test_the_effective_token_budget_is_recorded(sweep: Sweep, monkeypatch: pytest.MonkeyPatch) -> None:
    sweep.good_task("good_a")
    sweep.regimes = "full"
    embedding = torch.nn.functional.embedding
    ooms = []

    def allocator(ids: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        if ids.numel() > 8 * 62:  # 8 sequences of 60 bases + 2 special tokens
            ooms.append(ids.numel())
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return embedding(ids, *args, **kwargs)

    with monkeypatch.context() as patch:  # not monkeypatch.undo(): that would undo pytester's chdir too
        patch.setattr(torch.nn.functional, "embedding", allocator)
        sweep.run(models=("random-bert-tiny",)).assert_outcomes(passed=1)
    assert ooms
    (result,) = sweep.results().values()
    assert result["token_budget"] is not None
    assert result["token_budget"] <= 8 * 62
    sweep.run(models=("kmer-3",)).assert_outcomes(passed=1)
    assert sweep.results()["kmer-3/good_a/full"]["token_budget"] is None  # no token batching


def test_lock_notice_is_shown_live_in_a_sweep(sweep: Sweep, tmp_path: Path) -> None:
    """A second run on a cache entry a suspended run holds: the notice, then a clear failure, in seconds."""
    sweep.good_task("good_a")
    sweep.regimes = "full"
    parts = _sweep_cache_parts(sweep)
    cache = EmbeddingCache(sweep.root / "cache")
    path = cache.path_for(cache_key(parts))
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from geneb_bench.embeddings.cache import EmbeddingCache
        cache = EmbeddingCache(Path({str(sweep.root / "cache")!r}))
        path = Path({str(path)!r})
        path.parent.mkdir(parents=True, exist_ok=True)
        with cache._locked(path):
            print("held", flush=True)
            os.kill(os.getpid(), signal.SIGSTOP)
    """)
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        run = sweep.subprocess("--geneb-lock-timeout=8", timeout=120)
        assert run.returncode == 1, run.stdout[-2000:]
        assert f"geneb: waiting for embedding cache lock {path}.lock, held by PID {holder.pid}" in run.stderr
        assert "gave up after 8 s waiting for embedding cache lock" in run.stdout
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)


def _sweep_cache_parts(sweep: Sweep) -> dict[str, Any]:
    """The cache key of the sweep's first (model, task), as the session builds it."""
    from geneb_bench.protocol import get_regime
    from geneb_bench.runner.session import GenebSession
    from geneb_bench.runner.settings import Settings

    settings = Settings(
        suite=str(sweep.suite),
        models=("kmer-3",),
        regimes=(get_regime("full"),),
        seeds=(13,),
        data_dir=None,
        cache_dir=sweep.root / "cache",
        results_dir=sweep.root / "out",
        device="cpu",
    )
    session = GenebSession(settings)
    spec = settings.specs[0]
    return session.cache_parts(spec, session.task_data(session.suite.tasks[0]))
