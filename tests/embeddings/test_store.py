"""SequenceStore: each distinct sequence embedded once per model, within a task, across tasks and processes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geneb_bench.embeddings.store import Distinct, SequenceStore, model_parts

PARTS: dict[str, Any] = {
    "harness": "0.1.0",
    "engine": "1",
    "model": {"key": "m", "family": "f", "source": None, "revision": None, "options": {}},
    "dtype": "float32",
    "long_input": "truncate",
    "task_id": "t1",
    "task_fingerprint": "a" * 64,
}


def vector(sequence: str, dim: int = 4) -> np.ndarray:
    """A deterministic per-sequence vector (what a model computes, minus the model)."""
    seed = int.from_bytes(hashlib.sha256(sequence.encode()).digest()[:4], "little")
    return np.random.default_rng(seed).standard_normal(dim).astype(np.float32)


class Model:
    """A compute function that counts its calls and the sequences it is given."""

    def __init__(self) -> None:
        self.calls = 0
        self.seen: list[str] = []

    def __call__(self, sequences: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.seen.extend(sequences)
        return np.stack([vector(s) for s in sequences])


def expected(sequences: Sequence[str]) -> np.ndarray:
    return np.stack([vector(s) for s in sequences])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(["A", "C", "G", "T", "AC", "GT", ""]), min_size=1, max_size=40))
def test_distinct_scatters_back_every_row(rows: list[str]) -> None:
    distinct = Distinct.of(rows)
    firsts = [rows[i] for i in distinct.first]
    assert len(firsts) == len(set(rows))  # each distinct value once
    assert [firsts[j] for j in distinct.inverse] == rows  # and every row gets its own back
    assert distinct.first == sorted(distinct.first)  # first-seen order


def test_a_task_embeds_each_distinct_sequence_once(tmp_path: Path) -> None:
    rows = ["ACGT", "TTTT", "ACGT", "GGGA", "TTTT", "ACGT"]
    model = Model()
    vectors, stats = SequenceStore(tmp_path).embed(PARTS, rows, model)
    assert model.seen == ["ACGT", "TTTT", "GGGA"]
    assert (stats.rows, stats.distinct, stats.computed) == (6, 3, 3)
    np.testing.assert_allclose(vectors, expected(rows))
    assert vectors.dtype == np.float32


def test_two_tasks_sharing_half_embed_the_shared_half_once(tmp_path: Path) -> None:
    shared = [f"SHARED{i}" for i in range(50)]
    task_a = shared + [f"A{i}" for i in range(50)]
    task_b = [f"B{i}" for i in range(50)] + shared[::-1]
    model = Model()
    store = SequenceStore(tmp_path)
    store.embed(PARTS, task_a, model)
    vectors_b, stats = store.embed({**PARTS, "task_id": "t2", "task_fingerprint": "b" * 64}, task_b, model)
    assert model.calls == 2
    assert len(model.seen) == 150  # 100 for A, only B's 50 new ones for B
    assert set(model.seen[100:]) == {f"B{i}" for i in range(50)}
    assert (stats.distinct, stats.computed) == (100, 50)
    np.testing.assert_allclose(vectors_b, expected(task_b))
    # a new process (a fresh store object: nothing in memory) computes nothing for either task
    again = Model()
    vectors_a, stats = SequenceStore(tmp_path).embed(PARTS, task_a, again)
    assert again.calls == 0
    assert stats.computed == 0
    np.testing.assert_allclose(vectors_a, expected(task_a))


CHILD = """
import json, sys
from pathlib import Path
import numpy as np
from geneb_bench.embeddings.store import SequenceStore
seen = []
def model(sequences):
    seen.extend(sequences)
    return np.ones((len(sequences), 4), dtype=np.float32)
parts = json.loads(sys.argv[2])
SequenceStore(Path(sys.argv[1])).embed(parts, json.loads(sys.argv[3]), model)
print(json.dumps(seen))
"""


def test_across_two_processes_the_shared_half_is_embedded_once(tmp_path: Path) -> None:
    import json

    shared = [f"S{i}" for i in range(20)]
    model = Model()
    SequenceStore(tmp_path).embed(PARTS, shared + [f"A{i}" for i in range(20)], model)
    task_b = shared + [f"B{i}" for i in range(20)]
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    parts = {**PARTS, "task_id": "t2", "task_fingerprint": "b" * 64}
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path), json.dumps(parts), json.dumps(task_b)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == [f"B{i}" for i in range(20)]


def test_the_task_does_not_separate_stores_but_the_model_side_does(tmp_path: Path) -> None:
    store = SequenceStore(tmp_path)
    assert store.model({**PARTS, "task_id": "other"}) is store.model(PARTS)
    assert model_parts(PARTS).keys() == PARTS.keys() - {"task_id", "task_fingerprint"}
    model = Model()
    store.embed(PARTS, ["ACGT"], model)
    for change in (
        {"dtype": "bfloat16"},
        {"long_input": "window"},
        {"engine": "2"},
        {"model": {**PARTS["model"], "revision": "r2"}},
    ):
        store.embed({**PARTS, **change}, ["ACGT"], model)
    assert model.calls == 5  # every recipe change is a new store


def test_non_finite_vectors_are_returned_but_never_stored(tmp_path: Path) -> None:
    store = SequenceStore(tmp_path)
    vectors, _ = store.embed(PARTS, ["AC", "GT"], lambda s: np.full((len(s), 3), np.nan, dtype=np.float32))
    assert np.isnan(vectors).all()
    model = Model()
    SequenceStore(tmp_path).embed(PARTS, ["AC", "GT"], model)
    assert model.calls == 1


def test_a_corrupt_shard_is_dropped_and_recomputed(tmp_path: Path) -> None:
    rows = [f"S{i}" for i in range(10)]
    SequenceStore(tmp_path).embed(PARTS, rows, Model())
    (shard,) = tmp_path.rglob("*.npy")
    data = bytearray(shard.read_bytes())
    data[-3] ^= 0xFF  # flip bits in the last vector
    shard.write_bytes(bytes(data))
    model = Model()
    vectors, stats = SequenceStore(tmp_path).embed(PARTS, rows, model)
    assert stats.computed == 10
    assert model.calls == 1
    np.testing.assert_allclose(vectors, expected(rows))
    assert not shard.exists()  # the bad shard is gone; a new one holds the recomputed rows


def test_a_truncated_index_or_an_orphan_vectors_file_is_invisible(tmp_path: Path) -> None:
    SequenceStore(tmp_path).embed(PARTS, ["S1"], Model())
    (index,) = tmp_path.rglob("*.index")
    index.write_bytes(
        index.read_bytes()[:20]
    )  # as a SIGKILL mid-write cannot leave it (atomic), but a disk might
    model = Model()
    SequenceStore(tmp_path).embed(PARTS, ["S1"], model)
    assert model.calls == 1
    # an orphan vectors file (killed between the two writes) is ignored, and pruned once it is old
    directory = next(p.parent for p in tmp_path.rglob("key.json"))
    orphan = directory / "orphan.npy"
    np.save(orphan, np.zeros((1, 4), dtype=np.float32))
    model = Model()
    SequenceStore(tmp_path).embed(PARTS, ["S1"], model)
    assert model.calls == 0
    store = SequenceStore(tmp_path)
    assert store.prune() == []  # young: maybe a write in progress
    os.utime(orphan, (time.time() - 7200, time.time() - 7200))
    assert [e.vectors.name for e in store.prune()] == ["orphan.npy"]


def test_concurrent_writers_of_the_same_sequences_agree(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    rows = [f"S{i}" for i in range(30)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: SequenceStore(tmp_path).embed(PARTS, rows, Model())[0], range(4)))
    for vectors in results:
        np.testing.assert_allclose(vectors, expected(rows))
    model = Model()
    SequenceStore(tmp_path).embed(PARTS, rows, model)
    assert model.calls == 0


def test_shards_are_listed_and_pruned_by_model_and_size(tmp_path: Path) -> None:
    store = SequenceStore(tmp_path)
    store.embed(PARTS, ["A", "C"], Model())
    other = {**PARTS, "model": {**PARTS["model"], "key": "m2"}}
    store.embed(other, ["A"], Model())
    shards = store.shards()
    assert sorted((e.model, e.sequences) for e in shards) == [("m", 2), ("m2", 1)]
    assert [e.model for e in store.prune(model="m2")] == ["m2"]
    assert [e.model for e in store.shards()] == ["m"]
    assert len(store.prune(max_bytes=0)) == 1
    assert store.shards() == []


def test_empty_input_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no sequences"):
        SequenceStore(tmp_path).embed(PARTS, [], Model())


def _session(cache: Path, model: str = "random-bert-tiny") -> Any:
    from geneb_bench.protocol import REGIMES
    from geneb_bench.runner.session import GenebSession
    from geneb_bench.runner.settings import Settings

    return GenebSession(
        Settings(
            suite="lite",
            models=(model,),
            regimes=REGIMES,
            seeds=(13,),
            data_dir=None,
            cache_dir=cache,
            results_dir=cache.parent / "out",
            device="cpu",
        )
    )


def _counted(session: Any) -> tuple[Model, Any]:
    """Count the sequences the session's (only) model embeds; returns the counter and the uncounted embed."""
    embedder = session.embedder(session.models[0])
    direct, model = embedder.embed, Model()

    def counted(sequences: Sequence[str]) -> np.ndarray:
        model(sequences)
        vectors: np.ndarray = direct(sequences)
        return vectors

    embedder.embed = counted
    return model, direct


def _task(name: str, rows: list[str]) -> Any:
    from geneb_bench.data.task import TaskData, TaskSpec

    labels = np.arange(len(rows)) % 2
    cut = len(rows) * 3 // 4
    return TaskData(
        TaskSpec(name, "Promoters"), rows[:cut], labels[:cut], rows[cut:], labels[cut:], ("0", "1")
    )


def _rows(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list("ACGT"), 30)) for _ in range(n)]


def test_the_session_embeds_a_sequence_shared_by_two_tasks_once(tmp_path: Path) -> None:
    """The call site: ``GenebSession.embeddings`` goes through the store (counted at the embedder)."""
    # a transformer: k-mer spectra are recomputed, not stored (RECOMPUTED_FAMILIES)
    session = _session(tmp_path / "cache")
    spec = session.models[0]
    model, direct = _counted(session)
    shared, own = _rows(20, 0), {"a": _rows(20, 1), "b": _rows(20, 2)}

    x_a = session.embeddings(spec, _task("a", shared + own["a"]))
    x_b = session.embeddings(spec, _task("b", own["b"] + shared + shared[:5]))
    assert len(model.seen) == 40 + 20  # b: only its own 20; the shared 20 (and a repeat of 5) are reused
    assert set(model.seen[40:]) == set(own["b"])
    np.testing.assert_allclose(
        np.vstack(x_b[:2]), direct([*own["b"], *shared, *shared[:5]]), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(np.vstack(x_a[:2]), direct([*shared, *own["a"]]), rtol=1e-5, atol=1e-6)
    session.close()


def _entry_arrays(cache: Path) -> list[set[str]]:
    """The array names of each per-task cache entry (the store's shards are .npy/.index, not .npz)."""
    names = []
    for entry in sorted(cache.rglob("*.npz")):
        with np.load(entry, allow_pickle=False) as data:
            names.append(set(data.files))
    return names


def test_the_per_task_cache_is_a_view_over_the_store(tmp_path: Path) -> None:
    """Vectors are stored once (in the store); a later run reads the task without the model."""
    cache, rows = tmp_path / "cache", _rows(30, 3) + _rows(10, 3)[:6]  # with repeated rows
    first = _session(cache)
    x = first.embeddings(first.models[0], _task("a", rows))
    first.close()
    (arrays,) = _entry_arrays(cache)
    assert "store_view" in arrays
    assert not {"train", "test"} & arrays, arrays

    again = _session(cache)  # a new run: empty memory, the per-task entry and the store on disk
    model, _ = _counted(again)
    y = again.embeddings(again.models[0], _task("a", rows))
    assert model.seen == [], "read back without the model"
    assert y[2] is True, "reported as cached"
    np.testing.assert_array_equal(np.vstack(y[:2]), np.vstack(x[:2]))  # the same stored float32 rows
    again.close()

    for shard in cache.rglob("geneb-sequences-1/*/*.index"):  # the store pruned behind the view's back
        shard.unlink()
    third = _session(cache)
    model, _ = _counted(third)
    z = third.embeddings(third.models[0], _task("a", rows))
    assert len(model.seen) == 30, "the distinct sequences are recomputed, once each"
    assert z[2] is False
    np.testing.assert_allclose(np.vstack(z[:2]), np.vstack(x[:2]), rtol=1e-5, atol=1e-6)
    third.close()


def test_k_mer_entries_keep_their_vectors(tmp_path: Path) -> None:
    """Recomputed families are not in the store, so their per-task entry holds the vectors."""
    session = _session(tmp_path / "cache", model="kmer-3")
    session.embeddings(session.models[0], _task("a", _rows(20, 4)))
    session.close()
    assert [{"train", "test"} <= names for names in _entry_arrays(tmp_path / "cache")] == [True]
    assert not list((tmp_path / "cache").rglob("geneb-sequences-1/*/*.npy"))


def test_geneb_cache_commands_cover_the_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from geneb_bench.cli import main

    SequenceStore(tmp_path).embed(PARTS, ["A", "C", "G"], Model())
    assert main(["cache", "du", "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "stored sequences" in out
    assert "0 entries, 1 store shards" in out
    assert main(["cache", "ls", "--cache-dir", str(tmp_path)]) == 0
    assert "(store: 3 sequences)" in capsys.readouterr().out
    assert main(["cache", "prune", "--cache-dir", str(tmp_path), "--model", "m"]) == 0
    assert "removed 1 entries and shards" in capsys.readouterr().out
    assert SequenceStore(tmp_path).shards() == []


def test_cache_prune_max_size_drops_the_least_recently_used_of_entries_and_shards(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One size budget over per-task entries and store shards together, oldest use first."""
    from geneb_bench.cli import main
    from geneb_bench.embeddings.cache import EmbeddingCache

    cache = EmbeddingCache(tmp_path)
    cache.write({**PARTS, "task_id": "old"}, {"train": np.ones((500, 8), np.float32)})
    SequenceStore(tmp_path).embed(PARTS, [f"seq{i}" for i in range(200)], Model())  # the middle one
    cache.write({**PARTS, "task_id": "new"}, {"train": np.ones((500, 8), np.float32)})
    (old,) = [e for e in cache.entries() if e.task == "old"]
    (new,) = [e for e in cache.entries() if e.task == "new"]
    (shard,) = SequenceStore(tmp_path).shards()
    os.utime(old.path, (time.time() - 300, time.time() - 300))
    for path in (shard.vectors, shard.index):
        assert path is not None
        os.utime(path, (time.time() - 200, time.time() - 200))

    budget = (new.size + shard.size + 1) / 1e9  # room for the two newest only
    assert main(["cache", "prune", "--cache-dir", str(tmp_path), "--max-size-gb", str(budget)]) == 0
    assert "removed 1 entries and shards" in capsys.readouterr().out
    assert [e.task for e in cache.entries()] == ["new"]
    assert len(SequenceStore(tmp_path).shards()) == 1

    budget = (new.size + 1) / 1e9  # now the shard is the oldest
    assert main(["cache", "prune", "--cache-dir", str(tmp_path), "--max-size-gb", str(budget)]) == 0
    assert [e.task for e in cache.entries()] == ["new"]
    assert SequenceStore(tmp_path).shards() == []
