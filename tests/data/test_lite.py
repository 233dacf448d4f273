"""The built-in lite suite: coverage of the GENEB categories, shape, determinism and a real, non-trivial signal."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import matthews_corrcoef

from geneb_bench.categories import CATEGORIES
from geneb_bench.data import lite
from geneb_bench.data.lite import (
    LITE_LENGTHS,
    LITE_TASKS,
    LITE_VERSION,
    lite_task_ids,
    load_lite_task,
    primitives,
)
from geneb_bench.data.task import TaskSpec

IDS = lite_task_ids()
DNA = re.compile(r"[ACGTN]+")


def test_every_category_has_a_task() -> None:
    covered = {spec.category for spec in LITE_TASKS}
    missing = [c.name for c in CATEGORIES if c.name not in covered]
    assert not missing, f"GENEB categories without a lite task: {missing}"


def test_ids_unique_prefixed_and_listed_in_order() -> None:
    assert len(set(IDS)) == len(IDS)
    assert all(t.startswith("lite_") for t in IDS)
    assert [spec.task_id for spec in LITE_TASKS] == IDS
    assert set(LITE_LENGTHS) == set(IDS)


@pytest.mark.parametrize("spec", LITE_TASKS, ids=IDS)
def test_spec_metadata(spec: TaskSpec) -> None:
    assert spec.source == "geneb-bench lite (synthetic)"
    assert spec.description.endswith(".")
    assert len(spec.description) > 30
    assert spec.n_classes is not None
    assert spec.n_classes >= 2


def test_unknown_task_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="lite_promoter_tata"):
        load_lite_task("lite_does_not_exist")


@pytest.mark.parametrize("task_id", IDS)
def test_task_data_shape(task_id: str) -> None:
    data = load_lite_task(task_id)
    spec = data.spec
    assert spec.task_id == task_id
    assert spec.n_classes == data.n_classes == len(data.label_names)
    assert data.revision == LITE_VERSION
    assert 400 <= len(data.train_sequences) <= 810
    assert 200 <= len(data.test_sequences) <= 405
    lo, hi = LITE_LENGTHS[task_id]
    for split_seqs, labels in (
        (data.train_sequences, data.train_labels),
        (data.test_sequences, data.test_labels),
    ):
        assert labels.dtype == np.int64
        assert not labels.flags.writeable, "cached labels must be read-only"
        assert labels.shape == (len(split_seqs),)
        assert all(DNA.fullmatch(s) for s in split_seqs)
        lengths = np.array([len(s) for s in split_seqs])
        assert lengths.min() >= lo
        assert lengths.max() <= hi
        assert labels.min() == 0
        assert labels.max() == data.n_classes - 1
        counts = np.bincount(labels, minlength=data.n_classes)
        # every class present, balanced to one row (label noise permutes labels, so counts stay exact)
        assert counts.min() > 0
        assert counts.max() - counts.min() <= 1


def test_load_is_cached() -> None:
    assert load_lite_task(IDS[0]) is load_lite_task(IDS[0])


@pytest.mark.parametrize("task_id", IDS)
def test_regeneration_is_identical(task_id: str) -> None:
    first, second = lite._generate(task_id), lite._generate(task_id)
    assert first is not second
    assert tuple(first.train_sequences) == tuple(second.train_sequences)
    assert tuple(first.test_sequences) == tuple(second.test_sequences)
    np.testing.assert_array_equal(first.train_labels, second.train_labels)
    np.testing.assert_array_equal(first.test_labels, second.test_labels)
    assert first.fingerprint() == second.fingerprint() == load_lite_task(task_id).fingerprint()


def test_tasks_differ_from_each_other() -> None:
    prints = [load_lite_task(t).fingerprint() for t in IDS]
    assert len(set(prints)) == len(prints)


def test_same_data_in_a_fresh_process() -> None:
    """Seeds come from crc32, not ``hash``: a process with another hash seed must build the same bytes."""
    code = (
        "import json; from geneb_bench.data.lite import lite_task_ids, load_lite_task; "
        "print(json.dumps({t: load_lite_task(t).fingerprint() for t in lite_task_ids()}))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, timeout=120
    )
    assert json.loads(out.stdout) == {t: load_lite_task(t).fingerprint() for t in IDS}


# --------------------------------------------------------------------------- primitives (properties)

IUPAC = "ACGTRYSWKMBDHVN"


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet=IUPAC, min_size=1, max_size=20), st.integers(0, 2**32 - 1))
def test_unmutated_motif_instances_match_their_consensus(motif: str, seed: int) -> None:
    inst = primitives.sample_motif(np.random.default_rng(seed), motif, 25, mutation=0.0)
    assert inst.shape == (25, len(motif))
    for j, ch in enumerate(motif):
        allowed = {"ACGT".index(b) for b in primitives.IUPAC[ch]}
        assert set(inst[:, j].tolist()) <= allowed


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.2, 0.8))
def test_cpg_depletion_extremes(seed: int, gc: float) -> None:
    rng = np.random.default_rng(seed)
    x = primitives.background(rng, 20, 60, gc)
    untouched = x.copy()
    primitives.deplete_cpg(rng, untouched, 1.0)
    np.testing.assert_array_equal(untouched, x)
    primitives.deplete_cpg(rng, x, 0.0)
    assert not ((x[:, :-1] == primitives.C) & (x[:, 1:] == primitives.G)).any()


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 4), st.integers(20, 200), st.floats(0.0, 0.3))
def test_label_noise_keeps_class_counts(seed: int, n_classes: int, n: int, rate: float) -> None:
    rng = np.random.default_rng(seed)
    y = lite._balanced(rng, n, n_classes)
    noisy = lite._label_noise(rng, y, rate)
    np.testing.assert_array_equal(
        np.bincount(noisy, minlength=n_classes), np.bincount(y, minlength=n_classes)
    )


@settings(max_examples=10, deadline=None)
@given(st.sampled_from(IDS))
def test_generation_does_not_touch_the_global_rng(task_id: str) -> None:
    # the legacy global RNG is exactly what must stay untouched, hence the noqa
    np.random.seed(0)  # noqa: NPY002
    expected = np.random.random()  # noqa: NPY002
    np.random.seed(0)  # noqa: NPY002
    lite._generate(task_id)
    assert np.random.random() == expected  # noqa: NPY002


# --------------------------------------------------------------------------- signal sanity


def _kmer_frequencies(seqs: Sequence[str], k: int = 4) -> npt.NDArray[np.float64]:
    codes = np.full(256, -1, dtype=np.int64)
    for i, b in enumerate(b"ACGT"):
        codes[b] = i
    weights = 4 ** np.arange(k - 1, -1, -1)
    out = np.zeros((len(seqs), 4**k))
    for row, seq in enumerate(seqs):
        windows = np.lib.stride_tricks.sliding_window_view(codes[np.frombuffer(seq.encode(), np.uint8)], k)
        index = windows[(windows >= 0).all(axis=1)] @ weights
        out[row] = np.bincount(index, minlength=4**k) / max(index.size, 1)
    return out


@pytest.mark.parametrize("task_id", IDS)
def test_kmer_probe_finds_a_real_but_imperfect_signal(task_id: str) -> None:
    """4-mer frequencies + the GENEB probe: clearly above chance, not trivial, and nothing for shuffled labels."""
    data = load_lite_task(task_id)
    x_train, x_test = _kmer_frequencies(data.train_sequences), _kmer_frequencies(data.test_sequences)
    y_train, y_test = data.train_labels, data.test_labels

    fitted = LogisticRegression(max_iter=1000).fit(x_train, y_train)
    mcc = matthews_corrcoef(y_test, fitted.predict(x_test))
    assert 0.2 < mcc < 0.9, f"{task_id}: 4-mer MCC {mcc:.3f}"

    shuffled = y_train[np.random.RandomState(0).permutation(y_train.size)]
    null = LogisticRegression(max_iter=1000).fit(x_train, shuffled)
    null_mcc = matthews_corrcoef(y_test, null.predict(x_test))
    assert abs(null_mcc) < 0.15, f"{task_id}: shuffled-label MCC {null_mcc:.3f}"
