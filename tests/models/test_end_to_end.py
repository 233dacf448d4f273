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
    assert set(records) == {f"{k}/prom_x/{r}.json" for k in (bert_key, remote_key) for r in ("full", "1shot")}
    recorded = json.dumps(records[f"{remote_key}/prom_x/full.json"])
    assert '"rc_pooling": true' in recorded, "the recipe is recorded in the results"
    assert '"trust_remote_code": true' in recorded
