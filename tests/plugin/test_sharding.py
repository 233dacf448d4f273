"""Shard assignment properties."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geneb_bench.plugin.sharding import assign_shards, parse_shard

weights = st.dictionaries(st.text(min_size=1, max_size=8), st.integers(1, 50).map(float), max_size=40)


@given(weights, st.integers(1, 7))
def test_every_group_in_exactly_one_shard(groups: dict[str, float], count: int) -> None:
    assignment = assign_shards(groups, count)
    assert set(assignment) == set(groups)
    assert all(0 <= shard < count for shard in assignment.values())


@given(weights, st.integers(1, 7))
def test_assignment_ignores_input_order_and_is_balanced(groups: dict[str, float], count: int) -> None:
    assignment = assign_shards(groups, count)
    assert assign_shards(dict(reversed(list(groups.items()))), count) == assignment
    loads = [sum(w for k, w in groups.items() if assignment[k] == s) for s in range(count)]
    if groups:
        assert max(loads) - min(loads) <= max(groups.values())  # LPT bound


@pytest.mark.parametrize(("text", "expected"), [("0/1", (0, 1)), (" 2 / 4 ", (2, 4))])
def test_parse_shard(text: str, expected: tuple[int, int]) -> None:
    assert parse_shard(text) == expected


@pytest.mark.parametrize("text", ["1/1", "-1/2", "a/b", "2", "0/0"])
def test_parse_shard_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="geneb-shard"):
        parse_shard(text)


def test_each_xdist_worker_pins_one_gpu(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    from geneb_bench.plugin import _pin_worker_gpu

    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 'GPU 0: H100 (UUID: a)'\necho 'GPU 1: H100 (UUID: b)'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    for worker, expected in (("gw0", "0"), ("gw1", "1"), ("gw2", "0"), ("gw5", "1")):
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        _pin_worker_gpu()
        assert os.environ["CUDA_VISIBLE_DEVICES"] == expected
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "7")  # the user's choice wins
    _pin_worker_gpu()
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "7"
