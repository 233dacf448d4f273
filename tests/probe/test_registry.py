"""Probe registry: which probe apart from which implementation; a new probe is one function; unknown is an error."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest

from geneb_bench.probe.evaluate import evaluate_regime
from geneb_bench.probe.registry import (
    PROBES,
    Fit,
    FitJob,
    FitPredict,
    get_probe,
    known_probes,
    register_probe,
)
from geneb_bench.protocol import PROBE, SEEDS, get_regime, protocol_label
from geneb_bench.results.record import read_result
from geneb_bench.runner.session import GenebSession
from geneb_bench.runner.settings import Settings

FULL, ONE = get_regime("full"), get_regime("1shot")
CENTROID = "nearest-centroid-test"


def nearest_centroid(
    jobs: Sequence[FitJob], x_train: Any, y_train: Any, x_test: Any, device: str
) -> list[Fit]:
    """A probe in a few lines: predict the class whose training mean is closest."""
    fits = []
    for job in jobs:
        x, y = job.select(x_train, y_train)
        classes = np.unique(y)
        centres = np.stack([x[y == c].mean(axis=0) for c in classes])
        distances = ((x_test[:, None, :] - centres[None]) ** 2).sum(axis=2)
        fits.append(Fit(classes[distances.argmin(axis=1)]))
    return fits


@pytest.fixture
def centroid() -> Iterator[list[int]]:
    """``nearest-centroid-test`` registered (implementation ``numpy``) for one test; yields the jobs it saw."""
    seen: list[int] = []

    def counted(jobs: Sequence[FitJob], *args: Any) -> list[Fit]:
        seen.append(len(jobs))
        return nearest_centroid(jobs, *args)

    register_probe(CENTROID, "numpy")(cast(FitPredict, counted))
    try:
        yield seen
    finally:
        PROBES.unregister(f"{CENTROID}.numpy")


def blobs() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y_tr, y_te = np.arange(60) % 2, np.arange(30) % 2
    return (
        rng.normal(y_tr[:, None] * 10.0, 1.0, (60, 4)),
        y_tr,
        rng.normal(y_te[:, None] * 10.0, 1.0, (30, 4)),
        y_te,
    )


def test_builtins_are_the_protocol_probe_with_sklearn_first() -> None:
    assert known_probes()[PROBE][:2] == ["sklearn", "torch"]
    default = get_probe()
    assert (default.probe, default.implementation, default.on_device) == (PROBE, "sklearn", False)
    assert get_probe(PROBE, "torch").on_device


def test_a_registered_probe_runs_and_is_recorded(centroid: list[int], tmp_path: Path) -> None:
    x_tr, y_tr, x_te, y_te = blobs()
    r = evaluate_regime(x_tr, y_tr, x_te, y_te, ONE, (13, 17), backend=None, probe=CENTROID)
    assert (r.probe, r.backend) == (CENTROID, "numpy")
    assert centroid == [2]  # both seeds' draws in one call
    assert all(s.mcc == 1.0 for s in r.seeds)  # well-separated blobs

    settings = Settings(
        suite="lite",
        models=("kmer-2",),
        regimes=(FULL,),
        seeds=(13,),
        data_dir=None,
        cache_dir=tmp_path / "cache",
        results_dir=tmp_path / "out",
        device="cpu",
        probe=CENTROID,
        probe_backend="numpy",
    )
    session = GenebSession(settings)
    item = session.plan()[0]
    outcome = session.run_item(item)
    on_disk = read_result(outcome.path)
    assert (on_disk.probe, on_disk.probe_backend) == (CENTROID, "numpy")
    assert on_disk.protocol == f"geneb-1.0+seeds=13+probe={CENTROID}.numpy", "another probe is a variant"
    assert outcome.result.per_seed[0]["n_iter"] == 0

    # the probe is part of the provenance: a logistic-regression run does not resume the centroid result
    logistic = GenebSession(dataclasses.replace(settings, probe=PROBE, probe_backend="sklearn"))
    assert logistic.finished_result(item, logistic.task_data(item.task)) is None
    assert session.finished_result(item, session.task_data(item.task)) is not None


def test_one_class_draws_never_reach_the_implementation(centroid: list[int]) -> None:
    x_tr, _, x_te, y_te = blobs()
    r = evaluate_regime(
        x_tr, np.zeros(60, dtype=int), x_te, y_te, FULL, (13,), backend="numpy", probe=CENTROID
    )
    assert centroid == []
    assert r.seeds[0].note is not None


def test_unknown_probe_or_implementation_is_an_error_naming_the_known_ones(centroid: list[int]) -> None:
    with pytest.raises(
        ValueError, match=rf"unknown probe 'ridge'; known: .*{CENTROID}.*{PROBE}|{PROBE}.*{CENTROID}"
    ):
        get_probe("ridge")
    with pytest.raises(
        ValueError, match=rf"unknown implementation 'sklearn' of probe '{CENTROID}'; known: numpy"
    ):
        get_probe(CENTROID, "sklearn")
    with pytest.raises(ValueError, match="unknown probe 'ridge'"):
        Settings(
            suite="lite",
            models=("kmer-2",),
            regimes=(FULL,),
            seeds=(13,),
            data_dir=None,
            cache_dir=Path("c"),
            results_dir=Path("r"),
            device="cpu",
            probe="ridge",
        )


def test_a_second_registration_under_a_taken_name_is_refused(centroid: list[int]) -> None:
    with pytest.raises(
        ValueError, match=rf"probe '{CENTROID}.numpy' is already registered .*nearest_centroid"
    ):
        register_probe(CENTROID, "numpy")(nearest_centroid)
    with pytest.raises(ValueError, match=r"with a '\.'"):
        register_probe(CENTROID, "np.v2")


def test_an_implementation_returning_too_few_fits_is_an_error(centroid: list[int]) -> None:
    register_probe(CENTROID, "broken")(lambda jobs, *args: [])
    try:
        x_tr, y_tr, x_te, y_te = blobs()
        with pytest.raises(ValueError, match="returned 0 fits for 1 training draws"):
            evaluate_regime(x_tr, y_tr, x_te, y_te, FULL, (13,), backend="broken", probe=CENTROID)
    finally:
        PROBES.unregister(f"{CENTROID}.broken")


def test_a_probe_from_an_entry_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An installed package's ``geneb_bench.probes`` entry point, ``<probe>.<implementation>``, is found on
    first use of the name, without being imported anywhere."""
    from importlib import metadata

    (tmp_path / "my_probe_pkg.py").write_text(
        "import numpy as np\nfrom geneb_bench.probe.registry import Fit\n\n"
        "def majority(jobs, x_train, y_train, x_test, device):\n"
        "    return [Fit(np.full(len(x_test), np.bincount(job.select(x_train, y_train)[1]).argmax())) for job in jobs]\n"
    )
    monkeypatch.syspath_prepend(tmp_path)
    ep = metadata.EntryPoint("majority-test.numpy", "my_probe_pkg:majority", "geneb_bench.probes")
    real = metadata.entry_points
    monkeypatch.setattr(
        metadata, "entry_points", lambda **kw: [ep] if kw.get("group") == "geneb_bench.probes" else real(**kw)
    )
    monkeypatch.setattr(PROBES, "_scanned_entry_points", False)
    try:
        x_tr, y_tr, x_te, y_te = blobs()
        r = evaluate_regime(x_tr, y_tr, x_te, y_te, FULL, (13,), backend=None, probe="majority-test")
        assert (r.probe, r.backend) == ("majority-test", "numpy")
        assert r.seeds[0].mcc == 0.0  # a constant prediction
    finally:
        PROBES.unregister("majority-test.numpy")


@pytest.mark.parametrize(
    ("probe", "implementation", "label"),
    [
        (PROBE, "sklearn", "geneb-1.0"),
        (PROBE, "torch", "geneb-1.0+probe=torch"),
        ("ridge", "sklearn", "geneb-1.0+probe=ridge"),
        ("ridge", "torch", "geneb-1.0+probe=ridge.torch"),
    ],
)
def test_only_the_protocol_probe_in_sklearn_earns_the_protocol_label(
    probe: str, implementation: str, label: str
) -> None:
    assert protocol_label(SEEDS, implementation, "truncate", probe) == label
