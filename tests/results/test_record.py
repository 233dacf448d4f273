"""Result records: reading them needs no probe (no sklearn), and a user's ``extra`` fields round-trip."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

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
