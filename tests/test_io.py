"""geneb_bench.io: atomic writes (old or new file, never half), the results-root rule."""

from __future__ import annotations

from pathlib import Path
from typing import IO

import pytest

from geneb_bench.io import atomic_write, atomic_write_text, results_root


def test_atomic_write_replaces_whole_files(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "table.md"
    atomic_write_text(target, "old\n")
    atomic_write_text(target, "new\n")
    assert target.read_text() == "new\n"
    assert [p.name for p in target.parent.iterdir()] == ["table.md"]  # no temporary file left


def test_a_failed_write_keeps_the_old_file_and_names_the_target(tmp_path: Path) -> None:
    target = tmp_path / "entry.npz"
    atomic_write_text(target, "old")

    def half_then_disk_full(handle: IO[bytes]) -> None:
        handle.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match=r"cannot write embedding cache entry .*entry\.npz: No space left"):
        atomic_write(target, half_then_disk_full, "embedding cache entry")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["entry.npz"]


def test_an_interrupt_removes_the_temporary_file(tmp_path: Path) -> None:
    def interrupted(handle: IO[bytes]) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / "x.json", interrupted)
    assert list(tmp_path.iterdir()) == []


def test_results_root_prefers_the_results_folder(tmp_path: Path) -> None:
    assert results_root(tmp_path) == tmp_path
    (tmp_path / "results").mkdir()
    assert results_root(tmp_path) == tmp_path / "results"
