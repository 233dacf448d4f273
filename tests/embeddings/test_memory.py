"""The in-memory embedding store: LRU in bytes, device copies made once, released with the task."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from geneb_bench.embeddings.memory import EmbeddingStore
from geneb_bench.protocol import REGIMES
from geneb_bench.runner.session import GenebSession
from geneb_bench.runner.settings import Settings


def _pair(rows: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((rows, 4), np.float32), np.zeros((1, 4), np.float32)  # rows * 16 + 16 bytes


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("abc"), st.sampled_from("xyz"), st.integers(1, 40)), min_size=1, max_size=30
    ),
    st.integers(100, 1000),
)
def test_store_is_an_lru_bounded_in_bytes(puts: list[tuple[str, str, int]], max_bytes: int) -> None:
    store = EmbeddingStore(max_bytes)
    order: list[tuple[str, str]] = []  # least recently used first, as a model of the store
    for model, task, rows in puts:
        key = (model, task)
        store.put(key, *_pair(rows), cached=False)
        order = [k for k in order if k != key] + [key]
        assert key in store  # the pair in use is never evicted
        assert store.nbytes <= max_bytes or len(store) == 1
        survivors = [k for k in order if k in store]
        assert survivors == order[len(order) - len(survivors) :]  # only the oldest went
        order = survivors


def test_get_refreshes_and_release_drops_model_or_task() -> None:
    store = EmbeddingStore(3 * (2 * 16 + 16))
    for key in (("m", "t1"), ("m", "t2"), ("n", "t1")):
        store.put(key, *_pair(2), cached=True)
    assert store.get(("m", "t1")) is not None  # now the most recent
    store.put(("n", "t2"), *_pair(2), cached=False)  # evicts the least recent: ("m", "t2")
    assert ("m", "t2") not in store
    assert ("m", "t1") in store
    store.release("n", "t1")
    assert ("n", "t1") not in store
    assert ("n", "t2") in store
    store.release("m")
    assert len(store) == 1


def test_device_copy_is_made_once_and_shares_host_memory_on_cpu() -> None:
    store = EmbeddingStore()
    train, test = np.arange(12, dtype=np.float32).reshape(3, 4), np.ones((2, 4), np.float32)
    store.put(("m", "t"), train, test, cached=False)
    first = store.on_device(("m", "t"), "cpu")
    assert store.on_device(("m", "t"), "cpu")[0] is first[0]
    assert isinstance(first[0], torch.Tensor)
    assert first[0].data_ptr() == train.__array_interface__["data"][0]  # no copy on the host
    assert store.nbytes == train.nbytes + test.nbytes


def test_session_keeps_the_torch_probes_inputs_for_the_tasks_regimes(tmp_path: Path) -> None:
    session = GenebSession(
        Settings(
            suite="lite",
            models=("kmer-2",),
            regimes=REGIMES,
            seeds=(13,),
            data_dir=None,
            cache_dir=tmp_path / "c",
            results_dir=tmp_path / "r",
            device="cpu",
            probe_backend="torch",
            rerun=True,
        )
    )
    plan = session.plan()
    first, second, third, next_task = plan[0], plan[1], plan[2], plan[3]
    key = (first.model.key, first.task.task_id)
    session.run_item(first)
    tensors = session.memory.get(key).on_device["cpu"]  # type: ignore[union-attr]
    session.after_item(first, second)
    session.run_item(second)
    assert session.memory.get(key).on_device["cpu"][0] is tensors[0]  # type: ignore[union-attr]
    session.after_item(third, next_task)  # the task's last regime: released
    assert key not in session.memory
    session.close()
