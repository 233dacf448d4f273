"""``geneb_bench.run`` says how far it is (tqdm.auto: a widget in notebooks) and what it did, unless quiet."""

from __future__ import annotations

from pathlib import Path

import pytest

import geneb_bench
from tests.conftest import Sweep


@pytest.mark.parametrize("quiet", [False, True])
def test_run_prints_progress_unless_quiet(
    sweep: Sweep, tmp_path: Path, quiet: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    sweep.good_task("t1")
    results = geneb_bench.run(
        ["kmer-2"],
        suite=str(sweep.suite),
        regimes=["full"],
        seeds=[13],
        cache_dir=tmp_path / "cache",
        results_dir=tmp_path / "out",
        quiet=quiet,
    )
    assert len(results) == 1
    err = capsys.readouterr().err
    if quiet:
        assert "geneb" not in err
    else:
        assert "1/1" in err  # the bar's last state
        assert "geneb: 1 results (0 resumed), 0 skipped, 0 failed in" in err
        assert ".compare_published()" in err
