"""benchmarks/gpu_check.py runs end to end in its dry mode (tiny sizes on the CPU), so that a session lent a
GPU for 15 minutes finds a script that works."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.py"


def test_dry_run_prints_the_table_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "check.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--dry", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["dry"] is True
    assert report["device"] == "cpu"
    checks = {row["check"] for row in report["rows"]}
    assert {
        "matmul peak",
        "extract random BERT",
        "extract HyenaDNA-style",
        "resident store",
        "probe |dMCC|",
        "2 workers",
        "invariance",
        "invariance shape",
    } <= checks
    throughputs = [r["figure"] for r in report["rows"] if r["unit"] == "tok/s"]
    assert len(throughputs) == 4
    assert all(f > 0 for f in throughputs)
    assert 0.0 <= report["max_abs_dmcc"] <= 1.0
    assert "extract HyenaDNA-style" in done.stdout  # the table is printed
    # batch invariance on this CPU in fp32: no row moves with its companions, order or budget
    moved = report["invariance_rows_moved"]
    assert len(moved) == 12  # 2 sizes x 2 dtypes x 3 variants
    assert all(v == 0 for k, v in moved.items() if "fp32" in k), moved
