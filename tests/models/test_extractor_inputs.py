"""``python:file.py:function`` extractors: declared inputs in the identity, undeclared reads named in a
warning, and ``--geneb-reembed`` for fresh vectors whatever the cache holds (docs/identity.md)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from geneb_bench.models.extractor_inputs import UndeclaredInputWarning
from geneb_bench.models.registry import build_embedder, resolve_model

if TYPE_CHECKING:
    from tests.conftest import Sweep

# A projection loaded from W.npy next to the file: its vectors change when W.npy does, its source not.
EXTRACTOR = """
import numpy as np
from pathlib import Path
{declaration}
def embed(sequences, batch_size):
    W = np.load(Path(__file__).with_name("W.npy"))
    onehot = np.array([[s.count(b) for b in "ACGT"] for s in sequences], dtype=np.float32)
    return onehot @ W
"""


def _extractor(folder: Path, declaration: str = "", seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "W.npy", np.random.default_rng(seed).normal(size=(4, 8)).astype(np.float32))
    path = folder / "proj.py"
    path.write_text(EXTRACTOR.format(declaration=declaration))
    return path


def test_declared_inputs_are_part_of_the_identity(tmp_path: Path) -> None:
    path = _extractor(tmp_path, 'GENEB_INPUTS = ["W.npy"]\nGENEB_VERSION = "1"')
    before = resolve_model(f"python:{path}:embed").revision
    np.save(tmp_path / "W.npy", np.ones((4, 8), dtype=np.float32))  # new weights, same source
    after = resolve_model(f"python:{path}:embed").revision
    assert after != before
    path.write_text(path.read_text().replace('GENEB_VERSION = "1"', 'GENEB_VERSION = "2"'))
    assert resolve_model(f"python:{path}:embed").revision != after
    plain = _extractor(tmp_path / "plain")
    undeclared = resolve_model(f"python:{plain}:embed").revision
    np.save(tmp_path / "plain" / "W.npy", np.ones((4, 8), dtype=np.float32))
    assert resolve_model(f"python:{plain}:embed").revision == undeclared  # why declaring matters


def test_a_declaration_naming_a_missing_file_or_no_literal_is_refused(tmp_path: Path) -> None:
    path = _extractor(tmp_path, 'GENEB_INPUTS = ["W2.npy"]')
    with pytest.raises(ValueError, match=r"proj.py, line \d+: GENEB_INPUTS: declared input 'W2.npy'"):
        resolve_model(f"python:{path}:embed")
    path.write_text(EXTRACTOR.format(declaration="GENEB_INPUTS = [str(1)]"))
    with pytest.raises(ValueError, match="must be a literal"):
        resolve_model(f"python:{path}:embed")


def test_an_undeclared_read_is_named_in_a_warning(tmp_path: Path) -> None:
    path = _extractor(tmp_path / "undeclared")
    embedder = build_embedder(resolve_model(f"python:{path}:embed"), "cpu")
    with pytest.warns(UndeclaredInputWarning, match=r"read .*undeclared/W\.npy, which it does not declare"):
        embedder.embed(["ACGT", "AAAA"])
    declared = _extractor(tmp_path / "declared", 'GENEB_INPUTS = ["W.npy"]')
    embedder = build_embedder(resolve_model(f"python:{declared}:embed"), "cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UndeclaredInputWarning)
        assert embedder.embed(["ACGT"]).shape == (1, 8)


def test_reembed_gives_fresh_vectors_where_rerun_reads_the_cache(sweep: Sweep) -> None:
    sweep.good_task("prom_a", 1, "TATAAAT")
    sweep.regimes = "full"
    path = _extractor(sweep.root / "ext", seed=0)
    model = (f"python:{path}:embed",)
    run = sweep.run(models=model, results="first")
    assert run.ret == 0
    run.stdout.fnmatch_lines(
        ["*UndeclaredInputWarning: extractor 'python-proj-embed' read */ext/W.npy, which*"]
    )
    (first,) = sweep.results("first").values()
    _extractor(sweep.root / "ext", seed=1)  # W.npy changed, undeclared: same identity
    assert sweep.run("--geneb-rerun", models=model, results="rerun").ret == 0
    (rerun,) = sweep.results("rerun").values()
    assert rerun["per_seed"] == first["per_seed"]  # the cached (stale) vectors
    assert sweep.run("--geneb-reembed", models=model, results="fresh").ret == 0
    (fresh,) = sweep.results("fresh").values()
    assert fresh["per_seed"] != first["per_seed"]
    # the fresh vectors are what a cold cache gives
    assert sweep.run(models=model, results="cold", cache="cold-cache").ret == 0
    (cold,) = sweep.results("cold").values()
    assert np.array_equal([s["mcc"] for s in fresh["per_seed"]], [s["mcc"] for s in cold["per_seed"]])
