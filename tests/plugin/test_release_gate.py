"""The release gate end to end with a retrained local checkpoint (same folder, new weights): it compares
the same slot across identities, says which with which, fails on a regression, passes within tolerance, and
fails when it compared nothing (docs/identity.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import torch

if TYPE_CHECKING:
    from tests.conftest import Sweep


def _retrain(folder: Path, seed: int) -> None:
    """New weights in the same folder: the checkpoint's content hash (its identity) changes, its name not."""
    from transformers import BertModel

    model = BertModel.from_pretrained(folder)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(
                torch.randn(parameter.shape, generator=generator) * parameter.std().nan_to_num(0.1)
            )
    model.save_pretrained(folder)


@pytest.mark.usefixtures("transformers_imported")
def test_a_retrained_checkpoint_meets_its_baseline_by_name(sweep: Sweep, text_bert: Path) -> None:
    sweep.good_task("prom_a", 1, "TATAAAT")
    sweep.regimes = "full"
    model = (str(text_bert),)
    assert sweep.run(models=model, results="base").ret == 0
    base = sweep.results("base")
    (before,) = base.values()

    _retrain(text_bert, seed=4)
    strict = sweep.run(
        f"--geneb-baseline={sweep.root / 'base'}", "--geneb-baseline-tolerance=0", models=model, results="now"
    )
    (after,) = sweep.results("now").values()
    assert after["model"] == before["model"] == "text-bert"  # the slot: the folder's name
    assert after["model_hash"] != before["model_hash"]  # another identity
    drop = after["mean"]["mcc"] - before["mean"]["mcc"]
    assert drop < 0, "the retrained weights (seed 4) score lower on prom_a"
    assert strict.ret == pytest.ExitCode.TESTS_FAILED
    strict.stdout.fnmatch_lines(
        [
            f"*MCC regression on text-bert / prom_a / full: * vs baseline * (difference {drop:+.4f}, "
            f"tolerance 0.0; identity {after['model_hash'][:8]} (local-*) vs baseline identity "
            f"{before['model_hash'][:8]} (local-*)*",
            f"geneb gate: FAILED: text-bert: identity {after['model_hash'][:8]} (local-*) compared with "
            f"baseline identity {before['model_hash'][:8]} (local-*) on 1 items: 1 regressions*",
        ]
    )

    tolerant = sweep.run(
        f"--geneb-baseline={sweep.root / 'base'}",
        f"--geneb-baseline-tolerance={abs(drop) + 0.01:.4f}",
        models=model,
        results="now",
    )
    assert tolerant.ret == 0, tolerant.stdout.str()
    tolerant.stdout.fnmatch_lines(
        ["geneb gate: text-bert: identity * compared with baseline identity * 0 regressions*"]
    )


@pytest.mark.usefixtures("transformers_imported")
def test_a_gate_that_compared_nothing_fails(sweep: Sweep, text_bert: Path) -> None:
    sweep.good_task("prom_a", 1, "TATAAAT")
    sweep.regimes = "full"
    assert sweep.run(models=("kmer-3",), results="base").ret == 0  # a baseline of another model
    gated = sweep.run(f"--geneb-baseline={sweep.root / 'base'}", models=(str(text_bert),), results="now")
    assert gated.ret == pytest.ExitCode.TESTS_FAILED
    gated.assert_outcomes(failed=1)
    gated.stdout.fnmatch_lines(
        [
            "*no baseline item for text-bert / prom_a / full in * (its models: kmer-3)*",
            "geneb gate: FAILED: text-bert: nothing compared (1 results, 1 without a baseline item*",
            "geneb gate: FAILED: the gate compared nothing*",
        ]
    )
    allowed = sweep.run(
        f"--geneb-baseline={sweep.root / 'base'}",
        "--geneb-baseline-allow-missing",
        models=(str(text_bert),),
        results="now",
    )
    assert allowed.ret == pytest.ExitCode.TESTS_FAILED  # items pass, the empty gate still fails
    allowed.assert_outcomes(passed=1)
    allowed.stdout.fnmatch_lines(["geneb gate: FAILED: the gate compared nothing*"])


def test_the_release_workflow_names_the_model_and_uses_real_options() -> None:
    """examples/github-actions/model-release.yml: every --geneb option it passes exists, and it gives the
    checkpoint a name, so retrained weights meet their baseline by slot."""
    import re

    import yaml

    from geneb_bench.plugin import pytest_addoption
    from tests.test_cli import OptionRecorder

    workflow = Path(__file__).resolve().parents[2] / "examples" / "github-actions" / "model-release.yml"
    steps = yaml.safe_load(workflow.read_text())["jobs"]["geneb"]["steps"]
    (command,) = [s["run"] for s in steps if "geneb run" in str(s.get("run", ""))]
    recorder = OptionRecorder()
    pytest_addoption(recorder)  # type: ignore[arg-type]
    known = {n for names, _ in recorder.options for n in names}
    used = set(re.findall(r"--geneb-[a-z-]+", command))
    assert {"--geneb-baseline", "--geneb-model"} <= used
    assert used <= known
    assert re.search(r"--geneb-model '[^']+\[name=[^]]+\]'", command)
