"""What a run records beside the scores: test outcomes (for CIs) and the model's parameter count."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from geneb_bench.probe.metrics import mcc_from_confusion, seed_confusions
from geneb_bench.protocol import get_regime
from geneb_bench.results.record import read_result
from geneb_bench.runner.session import GenebSession
from geneb_bench.runner.settings import Settings


def _run_one(tmp_path: Path, model: str) -> GenebSession:
    settings = Settings(
        suite="lite",
        models=(model,),
        regimes=(get_regime("1shot"),),
        seeds=(13, 17),
        data_dir=None,
        cache_dir=tmp_path / "cache",
        results_dir=tmp_path / "out",
        device="cpu",
        rerun=True,
    )
    return GenebSession(settings)


def test_a_result_records_its_test_outcomes_and_the_models_size(tmp_path: Path) -> None:
    session = _run_one(tmp_path, "kmer-2")
    item = next(iter(session.plan()))
    outcome = session.run_item(item)
    result = read_result(outcome.path)
    assert result.n_params == 0  # k-mer spectrum: no weights
    assert result.outcomes is not None
    assert result.outcomes["seeds"] == [13, 17]
    cells = np.array(result.outcomes["cells"])
    assert cells[:, -1].sum() == result.n_test
    mccs = mcc_from_confusion(seed_confusions(cells))
    assert mccs == pytest.approx([s["mcc"] for s in result.per_seed], abs=1e-12)
    assert result.mean["mcc"] == pytest.approx(float(mccs.mean()), abs=1e-12)


@pytest.mark.slow
def test_a_loaded_model_is_counted_as_loaded(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    session = _run_one(tmp_path, "random-bert-tiny")
    item = next(iter(session.plan()))
    result = session.run_item(item).result
    assert result.n_params == 133_632  # sum of numel of the module the run built
    session.close()
