"""EmbeddingCache: content-addressed npz entries that are never trusted blindly."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geneb_bench.embeddings.cache import CACHE_FORMAT, EmbeddingCache, cache_key

BASE_KEY: dict[str, Any] = {
    "model": {
        "key": "random-bert-tiny",
        "family": "random-transformer",
        "revision": "abc123",
        "source": None,
    },
    "recipe": {"pooling": "mean", "max_tokens": 512},
    "task": {"task_id": "t1", "fingerprint": "f" * 64},
    "protocol": "geneb-1",
    "harness": "0.1.0",
}


def _arrays(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "train": rng.standard_normal((7, 5)).astype(np.float32),
        "test": rng.standard_normal((3, 5)).astype(np.float32),
    }


class Counter:
    """A compute function that counts its calls."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays
        self.calls = 0

    def __call__(self) -> dict[str, np.ndarray]:
        self.calls += 1
        return self.arrays


def _assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert sorted(a) == sorted(b)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
        assert a[name].dtype == b[name].dtype


def test_round_trip(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    compute = Counter(_arrays())
    first, cached = cache.get_or_compute(BASE_KEY, compute)
    assert not cached
    assert compute.calls == 1
    _assert_same(first, _arrays())
    path = cache.path_for(cache_key(BASE_KEY))
    assert path.is_file()
    assert path.relative_to(tmp_path).parts[0] == CACHE_FORMAT
    assert path.name == f"{cache_key(BASE_KEY)}.npz"
    # no temporary files left behind by the atomic write
    assert not list(path.parent.glob("*.tmp"))

    second, cached = cache.get_or_compute(BASE_KEY, compute)
    assert cached
    assert compute.calls == 1
    _assert_same(second, _arrays())
    assert all(a.dtype == np.float32 for a in second.values())

    # a fresh cache object on the same root (another process, another day) reads the same entry
    _assert_same(EmbeddingCache(tmp_path).read(BASE_KEY) or {}, _arrays())


def test_get_or_compute_stores_float32(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    # float64 on purpose (the cache stores float32): outside the declared float32 type, hence the ignore
    out, _ = cache.get_or_compute(BASE_KEY, lambda: {"x": np.arange(6, dtype=np.float64).reshape(2, 3)})  # type: ignore[dict-item]
    assert out["x"].dtype == np.float32
    again = cache.read(BASE_KEY)
    assert again is not None
    assert again["x"].dtype == np.float32
    np.testing.assert_array_equal(again["x"], np.arange(6, dtype=np.float32).reshape(2, 3))


def test_read_absent_is_none(tmp_path: Path) -> None:
    assert EmbeddingCache(tmp_path).read(BASE_KEY) is None


@pytest.mark.parametrize(
    "damage", ["truncate_half", "truncate_tail", "cut_middle", "flip_data_byte", "empty"]
)
def test_corrupt_file_is_removed_and_recomputed(tmp_path: Path, damage: str) -> None:
    cache = EmbeddingCache(tmp_path)
    path = cache.write(BASE_KEY, _arrays())
    blob = path.read_bytes()
    if damage == "truncate_half":
        damaged = blob[: len(blob) // 2]
    elif damage == "truncate_tail":
        damaged = blob[:-10]
    elif damage == "cut_middle":
        damaged = blob[: len(blob) // 3] + blob[len(blob) // 3 + 17 :]
    elif damage == "flip_data_byte":
        # flip one byte inside the stored bytes of the "train" array (zip CRC or our checksum must catch it)
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo("train.npy")
        head = blob[info.header_offset : info.header_offset + 30]  # the member's local file header
        name_len, extra_len = int.from_bytes(head[26:28], "little"), int.from_bytes(head[28:30], "little")
        start = info.header_offset + 30 + name_len + extra_len
        pos = start + info.file_size - 3  # in the array payload, after the .npy header
        damaged = blob[:pos] + bytes([blob[pos] ^ 0xFF]) + blob[pos + 1 :]
    else:
        damaged = b""
    path.write_bytes(damaged)

    assert cache.read(BASE_KEY) is None
    assert not path.exists(), "a corrupt entry must be removed"

    path.write_bytes(damaged)
    compute = Counter(_arrays(1))
    out, cached = cache.get_or_compute(BASE_KEY, compute)
    assert not cached
    assert compute.calls == 1
    _assert_same(out, _arrays(1))
    _assert_same(cache.read(BASE_KEY) or {}, _arrays(1))


def test_checksum_mismatch_is_detected(tmp_path: Path) -> None:
    """A well-formed npz whose arrays do not match the stored checksum (e.g. edited by hand)."""
    cache = EmbeddingCache(tmp_path)
    path = cache.write(BASE_KEY, _arrays())
    with np.load(path, allow_pickle=False) as data:
        members = {name: data[name] for name in data.files}
    members["train"] = members["train"] + 1.0
    with path.open("wb") as handle:
        np.savez(handle, **members)
    assert cache.read(BASE_KEY) is None
    assert not path.exists()


def test_file_with_other_key_is_not_used(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    other = {**BASE_KEY, "recipe": {"pooling": "cls", "max_tokens": 512}}
    src = cache.write(other, _arrays(5))
    dst = cache.path_for(cache_key(BASE_KEY))
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)

    assert cache.read(BASE_KEY) is None
    compute = Counter(_arrays(0))
    out, cached = cache.get_or_compute(BASE_KEY, compute)
    assert not cached
    assert compute.calls == 1
    _assert_same(out, _arrays(0))
    # the original entry under its own key is untouched
    _assert_same(cache.read(other) or {}, _arrays(5))


def _variants() -> list[tuple[str, dict[str, Any]]]:
    def with_part(section: str, field: str, value: Any) -> dict[str, Any]:
        key: dict[str, Any] = json.loads(json.dumps(BASE_KEY))
        key[section][field] = value
        return key

    return [
        ("model revision", with_part("model", "revision", "def456")),
        ("model key", with_part("model", "key", "random-gpt2-tiny")),
        ("pooling option", with_part("recipe", "pooling", "cls")),
        ("max_tokens option", with_part("recipe", "max_tokens", 256)),
        ("extra option", with_part("recipe", "trust_remote_code", True)),
        ("task fingerprint", with_part("task", "fingerprint", "e" + "f" * 63)),
        ("task id", with_part("task", "task_id", "t2")),
        ("protocol", {**BASE_KEY, "protocol": "geneb-2"}),
        ("harness version", {**BASE_KEY, "harness": "0.2.0"}),
    ]


@pytest.mark.parametrize(("what", "changed"), _variants(), ids=[v[0] for v in _variants()])
def test_any_changed_key_part_is_a_miss(tmp_path: Path, what: str, changed: dict[str, Any]) -> None:
    cache = EmbeddingCache(tmp_path)
    cache.write(BASE_KEY, _arrays())
    assert cache_key(changed) != cache_key(BASE_KEY)
    assert cache.read(changed) is None
    compute = Counter(_arrays(2))
    out, cached = cache.get_or_compute(changed, compute)
    assert not cached
    assert compute.calls == 1
    _assert_same(out, _arrays(2))
    # both entries now coexist
    _assert_same(cache.read(BASE_KEY) or {}, _arrays())


def test_no_pickle_in_entries(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    path = cache.write(BASE_KEY, _arrays())
    with np.load(path, allow_pickle=False) as data:
        assert set(data.files) == {"train", "test", "__key__", "__checksum__"}
        for name in data.files:
            assert data[name].dtype != object
        assert json.loads(str(data["__key__"])) == json.loads(json.dumps(BASE_KEY))


# ---- cache_key properties ---------------------------------------------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
_key_dicts = st.dictionaries(st.text(max_size=6), _json, max_size=5)


def _reordered(value: Any) -> Any:
    """The same mapping with every dict's insertion order reversed (recursively)."""
    if isinstance(value, dict):
        return {k: _reordered(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reordered(v) for v in value]
    return value


@settings(max_examples=200, deadline=None)
@given(_key_dicts)
def test_cache_key_deterministic_and_order_independent(parts: dict[str, Any]) -> None:
    key = cache_key(parts)
    assert len(key) == 64
    assert int(key, 16) >= 0
    assert cache_key(parts) == key
    assert cache_key(json.loads(json.dumps(parts))) == key
    assert cache_key(_reordered(parts)) == key


@settings(max_examples=200, deadline=None)
@given(_key_dicts, _key_dicts)
def test_distinct_dicts_give_distinct_keys(a: dict[str, Any], b: dict[str, Any]) -> None:
    # Python equality treats 1 == 1.0 == True; the cache deliberately does not, so compare the JSON form.
    if json.dumps(a, sort_keys=True) != json.dumps(b, sort_keys=True):
        assert cache_key(a) != cache_key(b)


def test_cache_key_examples() -> None:
    assert cache_key({"a": 1, "b": 2}) == cache_key({"b": 2, "a": 1})
    assert cache_key({"a": 1}) != cache_key({"a": "1"})
    assert cache_key({"a": {"x": 1, "y": 2}}) == cache_key({"a": {"y": 2, "x": 1}})
    assert cache_key({"a": [1, 2]}) != cache_key({"a": [2, 1]})


# ---- concurrency -----------------------------------------------------------------------------------

_WORKER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    import numpy as np
    from geneb_bench.embeddings.cache import EmbeddingCache

    root, marker, me, n = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    parts = json.loads(sys.argv[5])
    (root / f"ready-{me}").touch()
    deadline = time.monotonic() + 30
    while len(list(root.glob("ready-*"))) < n:  # start barrier: everyone is imported and ready
        if time.monotonic() > deadline:
            sys.exit("barrier timeout")
        time.sleep(0.01)

    def compute():
        with marker.open("a") as handle:
            handle.write(me + "\\n")
        time.sleep(1.0)
        return {"x": np.arange(12, dtype=np.float32).reshape(3, 4)}

    arrays, cached = EmbeddingCache(root / "cache").get_or_compute(parts, compute)
    assert arrays["x"].tolist() == np.arange(12, dtype=np.float32).reshape(3, 4).tolist()
    print("cached" if cached else "computed")
    """
)


def test_concurrent_processes_compute_once(tmp_path: Path) -> None:
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    marker = tmp_path / "computations.txt"
    n = 3
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(tmp_path), str(marker), str(i), str(n), json.dumps(BASE_KEY)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(n)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        results.append(out.strip())
    assert len(marker.read_text().splitlines()) == 1, marker.read_text()
    assert sorted(results) == ["cached"] * (n - 1) + ["computed"]
    entry = EmbeddingCache(tmp_path / "cache").read(BASE_KEY)
    assert entry is not None
    np.testing.assert_array_equal(entry["x"], np.arange(12, dtype=np.float32).reshape(3, 4))
