"""The probe engine: shared work, warnings, threads, degenerate cases, the torch backend, the recorded backend."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

from geneb_bench.probe import evaluate as ev
from geneb_bench.probe import logistic, threads, torch_lr
from geneb_bench.probe.evaluate import evaluate_regime, evaluate_task
from geneb_bench.probe.metrics import score
from geneb_bench.probe.sampling import kshot_indices
from geneb_bench.protocol import REGIMES, SEEDS, get_regime
from geneb_bench.results.record import ItemResult

FULL, TEN, ONE = (get_regime(n) for n in ("full", "10shot", "1shot"))


def blobs(n_classes: int, n: int = 300, d: int = 8, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.RandomState(seed)
    centers = rng.normal(size=(n_classes, d))
    y_tr, y_te = rng.randint(0, n_classes, n), rng.randint(0, n_classes, n // 2)
    return (
        centers[y_tr] + rng.normal(scale=1.5, size=(n, d)),
        y_tr,
        centers[y_te] + rng.normal(scale=1.5, size=(n // 2, d)),
        y_te,
    )


# -- metrics: sklearn's numbers to the bit ----------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(data=st.data(), n_classes=st.integers(1, 41), n=st.integers(1, 400))
def test_score_equals_sklearn_exactly(data: st.DataObject, n_classes: int, n: int) -> None:
    labels = st.lists(st.integers(0, n_classes - 1), min_size=n, max_size=n)
    y_true, y_pred = np.array(data.draw(labels)), np.array(data.draw(labels))
    s = score(y_true, y_pred)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert s.mcc == matthews_corrcoef(y_true, y_pred)
        assert s.accuracy == accuracy_score(y_true, y_pred)
        assert s.f1 == f1_score(y_true, y_pred, average="macro", zero_division=0)


def test_score_rejects_mismatched_input() -> None:
    with pytest.raises(ValueError, match="one length"):
        score(np.array([0, 1]), np.array([0]))
    with pytest.raises(TypeError, match="integer"):
        score(np.array([0.0, 1.0]), np.array([0.0, 1.0]))


# -- identical work is done once --------------------------------------------------------------------------
def test_each_distinct_fit_runs_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = logistic._sklearn_fit

    def counting(x: Any, y: Any, xt: Any, seed: int) -> Any:
        calls.append(len(y))
        return real(x, y, xt, seed)

    monkeypatch.setattr(logistic, "_sklearn_fit", counting)
    x_tr, y_tr, x_te, y_te = blobs(2)
    got = evaluate_task(x_tr, y_tr, x_te, y_te, REGIMES, SEEDS)
    assert sorted(calls) == [2] * 5 + [20] * 5 + [300]  # 1 full fit, not 5
    assert [s.fit_shared_with for s in got["full"].seeds] == [None, 13, 13, 13, 13]
    # one row per class: every 1-shot draw is the same rows in the same order, so one fit serves all seeds
    calls.clear()
    x2, y2 = np.array([[0.0], [1.0], [5.0]]), np.array([0, 1, 2])
    r = evaluate_regime(x2, y2, x2, y2, ONE, SEEDS)
    assert calls == [3]
    assert [s.fit_shared_with for s in r.seeds] == [None, 13, 13, 13, 13]
    assert [s.convergence_warnings for s in r.seeds[1:]] == [0] * 4


def test_all_regimes_at_once_equal_one_regime_at_a_time() -> None:
    x_tr, y_tr, x_te, y_te = blobs(3)
    together = evaluate_task(x_tr, y_tr, x_te, y_te, REGIMES, SEEDS)
    for regime in REGIMES:
        alone = evaluate_regime(x_tr, y_tr, x_te, y_te, regime, SEEDS)
        assert alone == together[regime.name]


def test_convergence_warnings_are_counted_not_printed(
    recwarn: pytest.WarningsRecorder, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logistic, "PROBE_MAX_ITER", 2)  # lbfgs stops before converging, and sklearn warns
    x, y, _, _ = blobs(2)
    got = evaluate_regime(x * 100, y, x, y, FULL, SEEDS)
    assert not [w for w in recwarn if issubclass(w.category, ConvergenceWarning)]
    assert "Convergence" not in capsys.readouterr().err
    first, *rest = got.seeds
    assert not first.converged
    assert first.convergence_warnings == 1
    assert first.n_iter == 2
    assert all(s.convergence_warnings == 0 and not s.converged for s in rest)  # shared fit: counted once


# -- threads ----------------------------------------------------------------------------------------------
def test_blas_threads_never_oversubscribe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: set(range(8)), raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    assert threads.available_cores() == 8
    assert threads.blas_threads(64) == 1  # narrow: measured faster on one thread
    assert threads.blas_threads(4096) == 8
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "3")
    assert threads.available_cores() == 2
    assert threads.blas_threads(4096) == 2
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "16")
    assert threads.available_cores() == 1


def test_blas_cap_is_applied_during_fits_and_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    from threadpoolctl import threadpool_info

    seen: list[int] = []
    real = logistic._sklearn_fit

    def spy(*args: Any) -> Any:
        seen.extend(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
        return real(*args)

    monkeypatch.setattr(logistic, "_sklearn_fit", spy)
    before = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    x_tr, y_tr, x_te, y_te = blobs(2)
    evaluate_regime(x_tr, y_tr, x_te, y_te, FULL, (13,))
    assert seen
    assert set(seen) == {1}
    assert [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"] == before


# -- degenerate cases -------------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["sklearn", "torch"])
def test_one_class_draw_is_a_constant_prediction(backend: str) -> None:
    x = np.arange(20, dtype=float).reshape(10, 2)
    got = evaluate_regime(
        x, np.zeros(10, dtype=int), x[:4], np.array([0, 1, 0, 1]), FULL, (13,), backend=backend
    )
    s = got.seeds[0]
    assert (s.mcc, s.accuracy, s.n_iter) == (0.0, 0.5, 0)
    assert s.note == ev.ONE_CLASS_NOTE


def test_constant_predictions_score_mcc_zero() -> None:
    # the test split is far outside the training data: the fitted model predicts one class everywhere
    x_tr, y_tr, _, _ = blobs(2, d=2)
    x_te, y_te = np.full((50, 2), 1e3), np.arange(50) % 2
    s = evaluate_regime(x_tr, y_tr, x_te, y_te, FULL, (13,)).seeds[0]
    assert s.mcc == 0.0
    assert s.accuracy == 0.5
    assert s.note is not None
    assert s.note.endswith("for every test row: MCC 0 by definition"), "the zero is explained"


def test_class_with_fewer_than_k_rows_gives_all_its_rows() -> None:
    x_tr, y_tr, x_te, y_te = blobs(3)
    keep = (
        np.flatnonzero(y_tr != 2)[:100].tolist() + np.flatnonzero(y_tr == 2)[:4].tolist()
    )  # class 2: 4 rows
    got = evaluate_regime(x_tr[keep], y_tr[keep], x_te, y_te, TEN, SEEDS)
    assert [s.n_train for s in got.seeds] == [10 + 10 + 4] * 5
    rng = np.random.RandomState(13)
    assert got.seeds[0].mcc == pytest.approx(
        _by_hand(x_tr[keep], y_tr[keep], x_te, y_te, 10, 13, rng), abs=1e-12
    )


def _by_hand(
    x: np.ndarray,
    y: np.ndarray,
    xt: np.ndarray,
    yt: np.ndarray,
    k: int,
    seed: int,
    rng: np.random.RandomState,
) -> float:
    idx = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), min(k, int((y == c).sum())), replace=False) for c in np.unique(y)]
    )
    return float(
        matthews_corrcoef(
            yt, LogisticRegression(max_iter=1000, random_state=seed).fit(x[idx], y[idx]).predict(xt)
        )
    )


@pytest.mark.filterwarnings("ignore:The number of unique classes:UserWarning")  # sklearn, on 40 rows
def test_forty_classes() -> None:
    x_tr, y_tr, x_te, y_te = blobs(40, n=2000, d=16)
    got = evaluate_task(x_tr, y_tr, x_te, y_te, (TEN, ONE), SEEDS)
    assert [s.n_train for s in got["10shot"].seeds] == [400] * 5
    assert [s.n_train for s in got["1shot"].seeds] == [40] * 5
    for regime, k in (("10shot", 10), ("1shot", 1)):
        ref = [_by_hand(x_tr, y_tr, x_te, y_te, k, seed, np.random.RandomState(seed)) for seed in SEEDS]
        np.testing.assert_allclose(got[regime].values("mcc"), ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("split", ["train", "test"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("backend", ["sklearn", "torch"])
def test_non_finite_embeddings_are_refused(split: str, bad: float, backend: str) -> None:
    x_tr, y_tr, x_te, y_te = blobs(2)
    (x_tr if split == "train" else x_te)[7, 3] = bad
    with pytest.raises(ValueError, match=f"non-finite.*{split} split, row 8"):
        evaluate_regime(x_tr, y_tr, x_te, y_te, FULL, SEEDS, backend=backend)


def test_unknown_backend() -> None:
    x_tr, y_tr, x_te, y_te = blobs(2)
    with pytest.raises(
        ValueError, match="unknown implementation 'jax' of probe 'logistic-regression'; known: sklearn, torch"
    ):
        evaluate_regime(x_tr, y_tr, x_te, y_te, FULL, SEEDS, backend="jax")


# -- the torch backend ------------------------------------------------------------------------------------
def _sklearn(x: np.ndarray, y: np.ndarray, **kwargs: Any) -> LogisticRegression:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LogisticRegression(**{"max_iter": 1000, **kwargs}).fit(x, y)


@settings(max_examples=20, deadline=None)
@given(
    n_classes=st.integers(2, 6),
    d=st.integers(1, 12),
    scale=st.sampled_from([0.01, 1.0, 30.0]),
    seed=st.integers(0, 99),
    max_iter=st.sampled_from([1, 2, 5, 1000]),
)
@example(n_classes=2, d=10, scale=30.0, seed=2, max_iter=1000)  # 40 iterations, drift 3e-7 of the largest
def test_torch_runs_sklearns_solver(n_classes: int, d: int, scale: float, seed: int, max_iter: int) -> None:
    """float64 input: sklearn's iterates, so the same coefficients after the same number of iterations.

    Rounding differs (another summation order) and grows with the iterations, so agreement is asserted for
    runs sklearn ends within 50 iterations (the same count; coefficients to 1e-5 of the largest: 40 iterations
    on scaled, ill-conditioned blobs drift by 3e-7 of it) and, to 1e-7, for any run cut at 1, 2 or 5.
    """
    x_tr, y_tr, x_te, _ = blobs(n_classes, n=120, d=d, seed=seed)
    x_tr, x_te = x_tr * scale, x_te * scale
    ref = _sklearn(x_tr, y_tr, max_iter=max_iter)
    (fit,) = torch_lr.fit_predict(x_tr, y_tr, [np.arange(y_tr.size)], x_te, max_iter=max_iter)
    assert fit.converged == (fit.n_iter < max_iter)
    if ref.n_iter_[0] < 50:
        assert fit.n_iter == int(ref.n_iter_[0])
        sk_coef = np.column_stack([ref.coef_, ref.intercept_])
        rtol = 1e-7 if max_iter <= 5 else 1e-5
        np.testing.assert_allclose(fit.coef, sk_coef, rtol=rtol, atol=rtol * np.abs(sk_coef).max())


def test_torch_tol_is_sklearns_tol() -> None:
    x_tr, y_tr, x_te, _ = blobs(3)
    for tol in (1e-2, 1e-8):
        (fit,) = torch_lr.fit_predict(x_tr, y_tr, [np.arange(y_tr.size)], x_te, tol=tol)
        assert fit.n_iter == int(_sklearn(x_tr, y_tr, tol=tol).n_iter_[0])


@pytest.mark.parametrize("n_classes", [2, 5])
def test_torch_batched_equals_one_at_a_time(n_classes: int) -> None:
    x_tr, y_tr, x_te, _ = blobs(n_classes)
    rows = [kshot_indices(y_tr, k, s) for k in (10, 1) for s in SEEDS]
    batched = torch_lr.fit_predict(x_tr, y_tr, rows, x_te)
    for r, b in zip(rows, batched, strict=True):
        (alone,) = torch_lr.fit_predict(x_tr, y_tr, [r], x_te)
        np.testing.assert_array_equal(alone.predictions, b.predictions)
        assert (b.n_iter, b.converged) == (alone.n_iter, alone.converged)
        np.testing.assert_array_equal(b.predictions, _sklearn(x_tr[r], y_tr[r]).predict(x_te))


def test_lockstep_driver_is_scipys_minimize() -> None:
    """The private ``setulb`` route is checked against the public one; the fallback gives the same fits."""
    assert (
        torch_lr.lockstep_available()
    )  # a scipy release that changes setulb makes this fail, not the numbers
    x_tr, y_tr, x_te, _ = blobs(4)
    rows = [kshot_indices(y_tr, 10, s) for s in SEEDS]
    lockstep = torch_lr.fit_predict(x_tr, y_tr, rows, x_te)
    torch_lr.lockstep_available.cache_clear()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(torch_lr, "lockstep_available", lambda: False)
            each = torch_lr.fit_predict(x_tr, y_tr, rows, x_te)
    finally:
        torch_lr.lockstep_available.cache_clear()
    for a, b in zip(lockstep, each, strict=True):
        np.testing.assert_array_equal(a.predictions, b.predictions)
        assert a.n_iter == b.n_iter


def test_torch_non_convergence_is_reported() -> None:
    x_tr, y_tr, x_te, _ = blobs(3)
    (stopped,) = torch_lr.fit_predict(x_tr * 1e3, y_tr, [np.arange(y_tr.size)], x_te, max_iter=2)
    assert (stopped.converged, stopped.n_iter, stopped.message) == (False, 2, "iteration limit reached")


def test_torch_non_convergence_is_reported_in_results(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch_lr.fit_predict, "__defaults__", ("cpu", torch_lr.PROBE_TOL, 2))
    x_tr, y_tr, x_te, y_te = blobs(2)
    s = evaluate_regime(x_tr * 1e3, y_tr, x_te * 1e3, y_te, FULL, (13,), backend="torch").seeds[0]
    assert not s.converged
    assert s.convergence_warnings == 1
    assert s.note == "torch lbfgs did not converge: iteration limit reached"


def test_torch_accepts_tensors_in_place() -> None:
    """Embeddings already on the probe's device are used as they are (no numpy round trip)."""
    import torch

    x_tr, y_tr, x_te, _ = blobs(2)
    rows = [np.arange(y_tr.size)]
    from_numpy = torch_lr.fit_predict(x_tr, y_tr, rows, x_te)[0]
    from_tensor = torch_lr.fit_predict(torch.as_tensor(x_tr), y_tr, rows, torch.as_tensor(x_te))[0]
    np.testing.assert_array_equal(from_numpy.predictions, from_tensor.predictions)


def test_torch_rejects_mixed_class_sets() -> None:
    y = np.array([0, 1, 2, 0, 1, 2])
    with pytest.raises(ValueError, match="class set"):
        torch_lr.fit_predict(np.eye(6), y, [np.array([0, 1]), np.array([0, 2])], np.eye(6))


# -- the backend is recorded ------------------------------------------------------------------------------
def test_backend_is_recorded_in_results() -> None:
    x_tr, y_tr, x_te, y_te = blobs(2)
    backends = ("sklearn", "torch")
    for backend in backends:
        r = evaluate_regime(x_tr, y_tr, x_te, y_te, ONE, SEEDS, backend=backend)
        item = ItemResult.from_regime(
            r,
            model="m",
            task_id="t",
            category="Promoters",
            n_train=300,
            n_test=150,
            n_classes=2,
            embedding_dim=8,
            task_fingerprint="f",
            task_revision=None,
            model_identity={},
            timings={},
        )
        assert r.backend == item.probe_backend == backend
        assert ItemResult.from_dict(item.to_dict()).probe_backend == backend
    old = item.to_dict()
    del old["probe_backend"]  # a file written before the field existed
    assert ItemResult.from_dict(old).probe_backend == "sklearn"


def test_session_passes_the_backend_and_names_model_and_task(tmp_path: Path) -> None:
    from geneb_bench.runner.session import BenchItem, GenebSession
    from geneb_bench.runner.settings import Settings

    settings_ = Settings(
        suite="lite",
        models=("kmer-2",),
        regimes=(ONE,),
        seeds=(13, 17),
        data_dir=None,
        cache_dir=tmp_path / "cache",
        results_dir=tmp_path / "out",
        device="cpu",
        probe_backend="torch",
        rerun=True,
    )
    session = GenebSession(settings_)
    item = next(i for i in session.plan())
    outcome = session.run_item(item)
    assert outcome.result.probe_backend == "torch"
    assert '"probe_backend": "torch"' in outcome.path.read_text()
    x_tr, x_te, cached = session.embeddings(item.model, session.task_data(item.task))
    x_tr = x_tr.copy()
    x_tr[0, 0] = np.nan
    session.memory.put((item.model.key, item.task.task_id), x_tr, x_te, cached)  # what the probe device gets
    with pytest.raises(ValueError, match=f"model 'kmer-2', task '{item.task.task_id}': non-finite"):
        session.run_item(BenchItem(item.model, item.task, item.regime))
