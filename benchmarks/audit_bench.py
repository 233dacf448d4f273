"""The task audit (seqleak, ``geneb tasks --audit``) on every task of a data dir: verdict, checks, wall time, memory.

    python benchmarks/audit_bench.py --data-dir ../shared/data/geneb-tasks-subset
    python benchmarks/audit_bench.py --data-dir DIR --tasks leannmlindsey_GUE_mouse_3 --cache-dir /tmp/audits

Each task runs in a fresh interpreter (loading as the harness does, then seqleak's audit, no cache read), so
its wall time and peak RSS (``wait4``'s ``ru_maxrss``: load + audit, interpreter included) are its own.
``--cache-dir`` keeps the reports (then ``geneb report`` / ``report.html`` can show them).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

CHILD = """
import json, sys
from pathlib import Path
from geneb_bench.data.audit import audit_data
from geneb_bench.data.suites import get_suite
data = get_suite("geneb").load(sys.argv[1], Path(sys.argv[2]))
audit = audit_data(data, Path(sys.argv[3]), refresh=True)
print(json.dumps(audit.to_json() | {"n_train": len(data.train_sequences), "n_test": len(data.test_sequences)}))
"""


def run_one(task_id: str, data_dir: Path, cache_dir: Path) -> dict[str, object]:
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, task_id, str(data_dir), str(cache_dir)],
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    wall = time.perf_counter() - started
    row: dict[str, object] = (
        json.loads(text.strip().splitlines()[-1])
        if proc.returncode == 0 and text.strip()
        else {"task_id": task_id, "status": "error", "message": f"exit {proc.returncode}"}
    )
    return row | {"wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="published layout: tasks/<task_id>/")
    parser.add_argument("--tasks", nargs="*", help="default: every task folder of the data dir")
    parser.add_argument("--cache-dir", type=Path, default=None, help="keep the audit reports here")
    args = parser.parse_args()
    tasks = args.tasks or sorted(p.name for p in (args.data_dir / "tasks").iterdir() if p.is_dir())
    from tabulate import tabulate

    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache_dir or Path(tmp)
        rows = []
        for task_id in tasks:
            r = run_one(task_id, args.data_dir, cache)
            flags = cast("list[dict[str, Any]]", r.get("flags") or [])
            mcc = r.get("baseline_mcc")
            rows.append(
                [
                    task_id,
                    r.get("n_train", ""),
                    r.get("n_test", ""),
                    r.get("verdict") or r.get("status"),
                    "; ".join(
                        f"{f['status']} {f['check']} {f['value']:.3f}" for f in flags if f["status"] == "FAIL"
                    ),
                    "; ".join(f"{f['check']} {f['value']:.3f}" for f in flags if f["status"] == "WARN"),
                    "" if mcc is None else f"{mcc:.3f}",
                    f"{r['wall_s']:.1f}",
                    f"{r['peak_rss_mb']:.0f}",
                ]
            )
            print("\t".join(map(str, rows[-1])), file=sys.stderr, flush=True)
    print(
        tabulate(
            rows,
            headers=[
                "task",
                "train",
                "test",
                "verdict",
                "FAIL checks",
                "WARN checks",
                "no-model MCC",
                "wall s",
                "peak RSS MB",
            ],
            tablefmt="github",
            disable_numparse=True,
        )
    )


if __name__ == "__main__":
    main()
