"""Property tests (hypothesis) for what every number passes through: the parsers, the sampler, the
metrics, the cache keys and result paths, and the merger.

They complement the property tests next to each module (FASTA round trip, stratified split and
normalisation in tests/data, k-shot vs a reference in tests/probe/test_protocol.py, metrics vs sklearn in
tests/probe/test_engine.py, cache-key determinism in tests/embeddings/test_cache.py, safe_key in
tests/models/test_registry.py) with what those do not cover: arbitrary bytes, every table format, label
relabelling, path containment, and merge algebra.
"""

from __future__ import annotations

import dataclasses
import gzip
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from geneb_bench.data.formats import Rows, read_file
from geneb_bench.data.registry import check_unique
from geneb_bench.data.sequences import SequenceError
from geneb_bench.data.splits import subsample
from geneb_bench.data.task import TaskSpec
from geneb_bench.embeddings.cache import CACHE_FORMAT, EmbeddingCache, cache_key
from geneb_bench.probe.metrics import score
from geneb_bench.probe.sampling import kshot_indices
from geneb_bench.results.merge import MergeConflict, merge_dirs
from geneb_bench.results.record import ItemResult, iter_results, result_path, write_result

FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextmanager
def scratch() -> Iterator[Path]:
    """A fresh directory per example (hypothesis reruns a test body many times within one tmp_path)."""
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


# ---- parsers -----------------------------------------------------------------------------------------------

_raw_sequence = st.text(alphabet="ACGTNUacgtnu", min_size=1, max_size=40).map(
    lambda s: s[:1] + " " + s[1:] if len(s) > 3 else s
)
_rows = st.lists(st.tuples(_raw_sequence, st.integers(-3, 1_000_000)), min_size=1, max_size=25)


def _read(path: Path, label: int | None = None) -> tuple[Rows | None, str | None]:
    """(rows, None) or (None, the SequenceError's message): any other exception fails the test."""
    try:
        return read_file(path, label=label), None
    except SequenceError as exc:
        return None, str(exc)


def _normalised(raw: str) -> str:
    return "".join(raw.split()).upper().replace("U", "T")


@FAST
@given(_rows, st.sampled_from(["csv", "tsv", "csv.gz", "tsv.gz", "parquet"]), st.booleans(), st.booleans())
def test_tables_read_back_exactly(rows: list[tuple[str, int]], suffix: str, bom: bool, crlf: bool) -> None:
    """Any rows, in any table format, with or without a BOM and CRLF line ends: exactly the normalised
    sequences and the labels, in order."""
    with scratch() as tmp:
        path = tmp / f"t.{suffix}"
        frame = pd.DataFrame({"text": [s for s, _ in rows], "label": [y for _, y in rows]})
        if suffix == "parquet":
            frame.to_parquet(path)
        else:
            text = frame.to_csv(
                index=False,
                sep="\t" if suffix.startswith("tsv") else ",",
                lineterminator="\r\n" if crlf else "\n",
            )
            data = (("\ufeff" if bom else "") + text).encode()
            path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
        got = read_file(path)
    assert got.sequences == [_normalised(s) for s, _ in rows]
    assert got.labels == [y for _, y in rows]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300), st.sampled_from(["csv", "tsv", "fa", "csv.gz", "fa.gz", "parquet"]))
def test_any_bytes_give_valid_rows_or_a_located_error(data: bytes, suffix: str) -> None:
    """Garbage in any format never crashes the reader with anything but a SequenceError naming the file,
    and whatever it accepts is clean: non-empty sequences over A, C, G, T, N and integer labels."""
    with scratch() as tmp:
        path = tmp / f"t.{suffix}"
        path.write_bytes(data)
        rows, error = _read(path, label=0 if ".fa" in suffix else None)
    if error is not None:
        assert error.startswith(str(path)), error
        return
    assert rows is not None
    assert rows.sequences
    assert all(s and set(s) <= set("ACGTN") for s in rows.sequences)
    assert all(isinstance(y, int) for y in rows.labels)
    assert len(rows.labels) == len(rows.sequences)


@FAST
@given(st.text(alphabet="ACGT,\t\n\r\"' ;xX0129.-", max_size=200), st.sampled_from(["csv", "tsv"]))
def test_near_miss_tables_give_valid_rows_or_a_located_error(body: str, suffix: str) -> None:
    """Text that is almost a table (delimiters, quotes, digits, stray characters) under a valid header."""
    with scratch() as tmp:
        path = tmp / f"t.{suffix}"
        path.write_text(("text,label\n" if suffix == "csv" else "text\tlabel\n") + body)
        rows, error = _read(path)
    if error is not None:
        assert error.startswith(str(path)), error
        return
    assert rows is not None
    assert all(s and set(s) <= set("ACGTN") for s in rows.sequences)
    assert len(rows.labels) == len(rows.sequences)


# ---- sampler and row cap -------------------------------------------------------------------------------------


@FAST
@given(
    st.lists(st.integers(0, 4), min_size=1, max_size=60),
    st.integers(1, 12),
    st.integers(0, 2**31 - 1),
    st.lists(st.integers(-1000, 1000), min_size=5, max_size=5, unique=True),
)
def test_kshot_draw_is_the_same_for_any_order_preserving_relabelling(
    labels: list[int], k: int, seed: int, values: list[int]
) -> None:
    """Tasks map labels to 0..C-1 in sorted order; the draw must not depend on the original label values,
    only on their order (else a task and its published copy would draw different rows)."""
    mapping = dict(zip(range(5), sorted(values), strict=True))
    y = np.array(labels)
    raw = np.array([mapping[v] for v in labels])
    np.testing.assert_array_equal(kshot_indices(raw, k, seed), kshot_indices(y, k, seed))


@FAST
@given(st.integers(0, 5000), st.integers(1, 5000), st.integers(0, 2**31 - 1))
def test_row_cap_keeps_a_sorted_subset_of_the_right_size(n: int, cap: int, seed: int) -> None:
    keep = subsample(n, cap, seed)
    if n <= cap:
        assert keep is None
        return
    assert keep is not None
    assert len(keep) == cap
    assert (np.diff(keep) > 0).all(), "sorted, no duplicates: the original row order is kept"
    assert keep[0] >= 0
    assert keep[-1] < n
    np.testing.assert_array_equal(subsample(n, cap, seed), keep)


# ---- metrics ------------------------------------------------------------------------------------------------


@FAST
@given(st.data(), st.integers(1, 6), st.integers(1, 120))
def test_metric_invariants(data: st.DataObject, n_classes: int, n: int) -> None:
    """Bounds, symmetry of MCC and accuracy, invariance under renaming the classes, 1 for a perfect
    prediction of two or more classes."""
    labels = st.lists(st.integers(0, n_classes - 1), min_size=n, max_size=n)
    y_true, y_pred = np.array(data.draw(labels)), np.array(data.draw(labels))
    s = score(y_true, y_pred)
    assert -1.0 - 1e-12 <= s.mcc <= 1.0 + 1e-12
    assert 0.0 <= s.accuracy <= 1.0
    assert 0.0 <= s.f1 <= 1.0
    swapped = score(y_pred, y_true)
    assert swapped.mcc == pytest.approx(s.mcc, abs=1e-12)
    assert swapped.accuracy == s.accuracy
    permutation = np.array(data.draw(st.permutations(range(n_classes))))
    renamed = score(permutation[y_true], permutation[y_pred])
    assert renamed.mcc == pytest.approx(s.mcc, abs=1e-12)
    assert renamed.accuracy == s.accuracy
    assert renamed.f1 == pytest.approx(s.f1, abs=1e-12)
    perfect = score(y_true, y_true)
    assert perfect.accuracy == 1.0
    assert perfect.mcc == (1.0 if len(set(y_true.tolist())) > 1 else 0.0)


# ---- cache keys and result paths -------------------------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@FAST
@given(st.dictionaries(st.text(max_size=8), _json, max_size=5))
def test_cache_entry_paths_stay_in_the_cache(parts: dict[str, Any]) -> None:
    root = Path("/cache-root")
    path = EmbeddingCache(root).path_for(cache_key(parts))
    assert path.parent.parent == root / CACHE_FORMAT
    assert path.name == f"{cache_key(parts)}.npz"


_hostile = (
    st.text(max_size=30)
    | st.text(alphabet="./\\_- a~$", max_size=12)
    | st.sampled_from(["..", "../..", "/etc/passwd", "..\\..\\x", "~/x", "a/../../b", "\x00", "."])
)


@settings(max_examples=200, deadline=None)
@given(_hostile, _hostile, st.sampled_from(["full", "10shot", "1shot", "../x"]))
def test_result_paths_stay_in_the_results_directory(model: str, task_id: str, regime: str) -> None:
    base = Path("/results-dir")
    path = result_path(base, model, task_id, regime)
    assert path.parent.parent.parent == base / "results"  # no suite folder given: none added
    assert ".." not in path.parts
    assert path.suffix == ".json"


@settings(max_examples=200, deadline=None)
@given(st.lists(_hostile, min_size=1, max_size=6))
def test_accepted_task_ids_never_share_a_result_file(ids: list[str]) -> None:
    """Distinct task ids never share a result file (``record.path_part``), whether or not the suite check
    refuses ids that read alike."""
    ids = [i for i in ids if i.strip() == i and i]  # TaskSpec refuses empty or padded ids (issue 24)
    assume(ids)
    specs = [TaskSpec(task_id=i, category="Promoters") for i in ids]
    paths = {result_path(Path("/r"), "m", i, "full") for i in ids}
    assert len(paths) == len(set(ids))
    try:
        check_unique(specs, "suite")
    except ValueError:
        return


# ---- merger ---------------------------------------------------------------------------------------------------

_keys = st.tuples(
    st.sampled_from(["m1", "m2", "m3"]),
    st.sampled_from(["t1", "t2", "t3"]),
    st.sampled_from(["full", "1shot"]),
)


def _result(key: tuple[str, str, str], mcc: float = 0.5, fingerprint: str = "fp") -> ItemResult:
    model, task, regime = key
    return ItemResult(
        model=model,
        task_id=task,
        category="Promoters",
        regime=regime,
        mean={"mcc": mcc, "accuracy": 0.5, "f1": 0.5},
        std={"mcc": 0.0, "accuracy": 0.0, "f1": 0.0},
        per_seed=[],
        n_train=1,
        n_test=1,
        n_classes=2,
        embedding_dim=2,
        task_fingerprint=f"{fingerprint}-{task}",
        task_revision=None,
        model_identity={"key": model, "revision": "r"},
        timings={},
        versions={},
    )


def _contents(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*.json"))}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(_keys, max_size=6), min_size=1, max_size=4), st.randoms(use_true_random=False))
def test_merge_is_the_union_whatever_the_split_and_order(
    shards: list[list[tuple[str, str, str]]], rng: Any
) -> None:
    """Results spread over directories (with identical duplicates) merge into exactly their union, the
    same bytes in any argument order, and merging again changes nothing."""
    with scratch() as tmp:
        dirs = []
        for n, keys in enumerate(shards):
            directory = tmp / f"shard{n}"
            directory.mkdir()
            for key in keys:
                write_result(directory, _result(key))
            dirs.append(directory)
        report = merge_dirs(dirs, tmp / "a")
        union = {k for keys in shards for k in keys}
        assert {(r.model, r.task_id, r.regime) for r in iter_results(tmp / "a")} == union
        assert len(report.written) == len(union)
        assert report.differing_scores == []
        shuffled = list(dirs)
        rng.shuffle(shuffled)
        merge_dirs(shuffled, tmp / "b")
        assert _contents(tmp / "b") == _contents(tmp / "a")
        again = merge_dirs(dirs, tmp / "a")
        assert again.written == []


@settings(max_examples=40, deadline=None)
@given(st.lists(_keys, min_size=1, max_size=6, unique=True), st.data())
def test_merge_refuses_any_conflict_and_writes_nothing(
    keys: list[tuple[str, str, str]], data: st.DataObject
) -> None:
    conflict = data.draw(st.sampled_from(keys))
    with scratch() as tmp:
        for key in keys:
            write_result(tmp / "a", _result(key))
        changed = dataclasses.replace(_result(conflict), task_fingerprint="other")
        write_result(tmp / "b", changed)
        assume((tmp / "a").is_dir())
        with pytest.raises(MergeConflict, match="task_fingerprint"):
            merge_dirs([tmp / "a", tmp / "b"], tmp / "out")
        assert not (tmp / "out").exists()
