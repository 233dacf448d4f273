"""A local checkpoint folder passed as ``--geneb-model PATH`` runs through the benchmark end to end."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

# Imported outside the in-process pytester run on purpose: pytester restores sys.modules afterwards, and
# torch crashes the interpreter when imported a second time.
import torch  # noqa: F401
import transformers  # noqa: F401

# The classes these checkpoints load, and the generation mixin they pull in (it registers torch operator
# libraries, which fail when registered twice): loaded here, so the run imports nothing that it would drop.
from transformers import AutoModel, AutoTokenizer, BertModel, GenerationMixin  # noqa: F401

from geneb_bench.models.registry import resolve_model
from geneb_bench.results.record import model_dir


def _write_task(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for split, n in (("train", 24), ("test", 12)):
        rows = []
        for i in range(n):
            label = i % 2
            seq = "".join(rng.choice(list("ACGT"), size=40))
            if label:
                seq = seq[:10] + "GGGGCCCC" + seq[18:]
            rows.append(f"{seq},{label}\n")
        (root / f"{split}.csv").write_text("text,label\n" + "".join(rows))
    suite = root / "suite.toml"
    suite.write_text(
        'name = "tiny"\n\n[[task]]\nid = "prom_x"\ncategory = "Promoters"\n'
        'train = "train.csv"\ntest = "test.csv"\n'
    )
    return suite


@pytest.mark.slow
def test_local_checkpoints_run_through_the_suite(
    pytester: pytest.Pytester, stand_in: Callable[[str], Path], hf_offline: None
) -> None:
    suite = _write_task(pytester.path)
    pytester.makepyfile(test_bench="from geneb_bench.benchmark import test_geneb\n")
    bert = stand_in("bert-mlm-bpe")
    remote = stand_in("fixture-nomask-mlm-rc")
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "-p",
        "no:hypothesispytest",
        f"--geneb-suite={suite}",
        f"--geneb-model={bert}",
        "--geneb-no-controls",
        f"--geneb-model={remote}[trust_remote_code=true,rc_pooling=true]",
        "--geneb-regimes=full,1shot",
        "--geneb-seeds=13,17",
        f"--geneb-cache-dir={pytester.path / 'cache'}",
        f"--geneb-results-dir={pytester.path / 'out'}",
    )
    result.assert_outcomes(passed=4)
    records = {
        p.relative_to(pytester.path / "out" / "results" / "tiny+seeds__13__17").as_posix(): json.loads(
            p.read_text()
        )
        for p in (pytester.path / "out" / "results").rglob("*.json")
    }
    bert_key = resolve_model(str(bert)).key
    remote_key = resolve_model(f"{remote}[trust_remote_code=true,rc_pooling=true]").key
    assert bert_key.startswith(f"{bert.parent.name}__{bert.name}-")
    assert remote_key.endswith("+rc_pooling-True")
    specs = [resolve_model(str(bert)), resolve_model(f"{remote}[trust_remote_code=true,rc_pooling=true]")]
    assert [s.slot for s in specs] == [bert.name, f"{remote.name}+rc_pooling-True"], "named after the folders"
    folders = {p.split("/")[0] for p in records}
    assert set(records) == {f"{f}/prom_x/{r}.json" for f in folders for r in ("full", "1shot")}
    for path, record in records.items():  # a local model's folder: its name + its identity's hash
        assert path.split("/")[0] == model_dir(record["model"], record["model_identity"])
        assert record["model_identity"]["key"] in (bert_key, remote_key)
    assert {r["model"] for r in records.values()} == {s.slot for s in specs}
    recorded = json.dumps(
        records[f"{model_dir(specs[1].slot, records_by_model(records)[specs[1].slot])}/prom_x/full.json"]
    )
    assert '"rc_pooling": true' in recorded, "the recipe is recorded in the results"
    assert '"trust_remote_code": true' in recorded


def records_by_model(records: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    """Each model's identity, from its result files."""
    return {str(r["model"]): r["model_identity"] for r in records.values()}  # type: ignore[misc]
