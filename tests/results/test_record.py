"""Result records: reading them needs no probe (no sklearn), and a user's ``extra`` fields round-trip."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from geneb_bench.results.record import ItemResult, read_result, write_result


def _result(**fields: Any) -> ItemResult:
    return ItemResult(
        model="kmer-3",
        task_id="good_a",
        category="Promoters",
        regime="full",
        mean={"mcc": 0.5, "accuracy": 0.75, "f1": 0.7},
        std={"mcc": 0.0, "accuracy": 0.0, "f1": 0.0},
        per_seed=[{"seed": 13, "mcc": 0.5}],
        n_train=60,
        n_test=30,
        n_classes=2,
        embedding_dim=64,
        task_fingerprint="f" * 64,
        task_revision=None,
        model_identity={"key": "kmer-3"},
        timings={},
        **fields,
    )


def test_reading_results_imports_no_sklearn(tmp_path: Path) -> None:
    write_result(tmp_path, _result())
    code = (
        "import sys\nfrom pathlib import Path\n"
        "from geneb_bench.results.record import iter_results\n"
        "from geneb_bench.results.resultset import ResultSet\n"
        f"assert len(list(iter_results(Path({str(tmp_path)!r})))) == 1\n"
        f"assert len(ResultSet.load(Path({str(tmp_path)!r}))) == 1\n"
        "print('LOADED=' + ','.join(m for m in ('sklearn', 'torch') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "LOADED="


def test_extra_fields_round_trip_and_are_absent_when_empty(tmp_path: Path) -> None:
    plain = write_result(tmp_path / "a", _result())
    assert "extra" not in json.loads(plain.read_text())  # results without extra fields keep their bytes
    assert read_result(plain).extra == {}
    mine = write_result(tmp_path / "b", _result(extra={"lab_run": "run-7", "gpu_hours": 0.25}))
    assert json.loads(mine.read_text())["extra"] == {"lab_run": "run-7", "gpu_hours": 0.25}
    assert read_result(mine) == _result(extra={"lab_run": "run-7", "gpu_hours": 0.25})


def _outcomes(n_test: int = 30) -> dict[str, Any]:
    return {"seeds": [13], "cells": [[0, 0, n_test - 10], [1, 1, 8], [1, 0, 2]]}


def test_outcomes_and_parameter_count_round_trip(tmp_path: Path) -> None:
    result = _result(outcomes=_outcomes(), n_params=133_632)
    assert read_result(write_result(tmp_path, result)) == result


def test_files_without_outcomes_or_parameter_count_load_and_keep_their_shape(tmp_path: Path) -> None:
    """Older files have neither field; writing a record without them adds no key (their bytes stay)."""
    path = write_result(tmp_path, _result())
    data = json.loads(path.read_text())
    assert "outcomes" not in data
    assert "n_params" not in data
    loaded = read_result(path)
    assert (loaded.outcomes, loaded.n_params) == (None, None)


@pytest.mark.parametrize(
    ("outcomes", "message"),
    [
        ({"seeds": [13], "cells": [[0, 0, 20], [1, 1, 9]]}, "outcomes count 29 test rows, n_test is 30"),
        ({"seeds": [13], "cells": [[0, 0, 30, 1]]}, r"outcomes\['cells'\]\[0\]"),
        ({"seeds": ["13"], "cells": [[0, 0, 30]]}, r"outcomes\['seeds'\]"),
        ({"seeds": [13], "cells": []}, r"outcomes\['cells'\]"),
        ({"seeds": [13], "cells": [[0, 0, -30]]}, r"outcomes\['cells'\]\[0\]"),
    ],
)
def test_malformed_outcomes_are_refused_naming_the_file(
    tmp_path: Path, outcomes: dict[str, Any], message: str
) -> None:
    path = write_result(tmp_path, _result())
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "outcomes": outcomes}))
    with pytest.raises(ValueError, match=message) as caught:
        read_result(path)
    assert str(path) in str(caught.value)


def test_mean_and_std_must_be_what_per_seed_gives(tmp_path: Path) -> None:
    """Was: a hand-edited ``mean.mcc`` (0.999) was read, resumed and published; per_seed held the truth."""
    seeds = [{"seed": s, "mcc": m, "accuracy": 0.75, "f1": 0.7} for s, m in ((13, 0.5), (17, 0.25))]
    good = _result().to_dict()
    good |= {
        "per_seed": seeds,
        "mean": {"mcc": 0.375, "accuracy": 0.75, "f1": 0.7},
        "std": {"mcc": 0.125, "accuracy": 0.0, "f1": 0.0},
    }
    assert ItemResult.from_dict(good).mean["mcc"] == 0.375
    near = {**good, "mean": {**good["mean"], "mcc": 0.375 + 1e-12}}  # float noise of another summation
    assert ItemResult.from_dict(near).mean["mcc"] == pytest.approx(0.375)
    edited = {**good, "mean": {**good["mean"], "mcc": 0.999}}
    with pytest.raises(
        ValueError, match=r"mean\['mcc'\] is 0.999 but per_seed gives 0.375 \(edited by hand\?\)"
    ):
        ItemResult.from_dict(edited)
    with pytest.raises(ValueError, match=r"std\['mcc'\] is 0.5 but per_seed gives 0.125"):
        ItemResult.from_dict({**good, "std": {**good["std"], "mcc": 0.5}})
