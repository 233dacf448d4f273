"""End to end: a broken extraction fails or skips its items with the cause; local checkpoints never collide."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tests.conftest import Sweep


CONSTANT_EXTRACTOR = """
import numpy as np


def embed(sequences, batch_size):
    return np.ones((len(sequences), 8), dtype=np.float32)
"""


def long_task(sweep: Sweep, task_id: str, length: int) -> None:
    """40 training and 20 test rows of ``length`` random bases; class 1 starts with a motif."""
    rng = np.random.default_rng(5)

    def rows(n: int) -> str:
        seqs = ["".join(rng.choice(list("ACGT"), length)) for _ in range(n)]
        return "text,label\n" + "".join(
            f"{'TATAAAT' * (i % 2)}{s[: length - 7 * (i % 2)]},{i % 2}\n" for i, s in enumerate(seqs)
        )

    sweep.task(
        task_id,
        {"train.csv": rows(40), "test.csv": rows(20)},
        'train = "{dir}/train.csv"\ntest = "{dir}/test.csv"',
    )


def random_bert_folder(folder: Path, seed: int) -> Path:
    from geneb_bench.models.random_init import build_random_model, char_tokenizer

    build_random_model(
        {"arch": "bert", "hidden_size": 16, "num_layers": 1, "num_heads": 2, "seed": seed}
    ).save_pretrained(folder)
    char_tokenizer(256).save_pretrained(folder)
    return folder


def test_wordpiece_text_tokenizer_fails_the_item_with_the_cause(sweep: Sweep, text_bert: Path) -> None:
    long_task(sweep, "long_dna", 150)
    sweep.regimes = "full"
    done = sweep.subprocess(
        models=(str(text_bert),), controls=True, timeout=300
    )  # fresh interpreter: loads a checkpoint
    assert "1 failed" in done.stdout, done.stdout[-3000:]
    assert (
        "degenerate embeddings, 60 of 60 sequences became unknown tokens only ([UNK]): DNA passed as one word "
        "over max_input_chars_per_word=100; use [kmer=K] or a DNA tokenizer"
    ) in done.stdout
    assert list(sweep.results()) == ["kmer-3/long_dna/full"], "only the control beside it was scored"


def test_constant_vectors_fail_the_item(sweep: Sweep) -> None:
    (sweep.root / "constant.py").write_text(CONSTANT_EXTRACTOR)
    sweep.good_task("good_a")
    sweep.regimes = "full"
    result = sweep.run("--geneb-no-controls", models=(f"python:{sweep.root / 'constant.py'}:embed",))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*1 distinct vector(s) for * distinct sequences*"])


GC_EXTRACTOR = """
import numpy as np


def embed(sequences, batch_size):
    return np.array([[sum(b in "GC" for b in s) / len(s)] for s in sequences], dtype=np.float32)
"""


def test_a_one_dimensional_extractor_is_measured(sweep: Sweep) -> None:
    """Issue 24: GC content (one dimension, many ties) was refused as 'output does not depend on its input'."""
    (sweep.root / "gc.py").write_text(GC_EXTRACTOR)
    sweep.good_task("good_a")
    sweep.regimes = "full"
    result = sweep.run(models=(f"python:{sweep.root / 'gc.py'}:embed",))
    result.assert_outcomes(passed=1)
    (health,) = [r["health"] for r in sweep.results().values()]
    assert health["dim"] == 1
    assert health["distinct_vectors"] < health["distinct_sequences"] / 2, health  # refused before


def test_tokenizer_clash_is_a_skip_with_the_reason(sweep: Sweep, tmp_path: Path) -> None:
    folder = random_bert_folder(tmp_path / "clash", 1)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    (folder / "tokenizer_config.json").write_text(
        json.dumps({**config, "tokenizer_class": "CharacterTokenizer"})
    )
    (folder / "tokenizer.json").unlink()
    sweep.good_task("good_a")
    sweep.regimes = "full"
    done = sweep.subprocess("-rs", "--geneb-no-controls", models=(str(folder),), timeout=300)
    assert "1 skipped" in done.stdout, done.stdout[-3000:]
    assert "tokenizer class CharacterTokenizer resolved to a different class" in done.stdout


def test_two_local_folders_named_model_keep_separate_results(sweep: Sweep, tmp_path: Path) -> None:
    first = random_bert_folder(tmp_path / "run1" / "model", 1)
    second = random_bert_folder(tmp_path / "run2" / "model", 2)
    sweep.good_task("good_a")
    sweep.regimes = "full"
    done = sweep.subprocess("--geneb-no-controls", models=(str(first), str(second)), timeout=300)
    assert "2 passed" in done.stdout, done.stdout[-3000:]
    results = sweep.results()
    models = sorted({name.split("/")[0] for name in results})
    assert len(models) == 2
    # both folders are named "model": the default names take the parent folder to stay apart
    assert models[0].startswith("run1__model~")
    assert models[1].startswith("run2__model~")
    assert {r["model"] for r in results.values()} == {"run1__model", "run2__model"}
    sources = {r["model_identity"]["source"] for r in results.values()}
    assert sources == {str(first.resolve()), str(second.resolve())}
    health = next(iter(results.values()))["health"]
    assert health["distinct_vectors"] == health["distinct_sequences"]
    assert health["unk_only"] == 0


def test_run_summary_prints_truncation_and_task_provenance(sweep: Sweep) -> None:
    long_task(sweep, "long_dna", 600)  # over random-bert-tiny's 512 tokens
    sweep.regimes = "full"
    done = sweep.subprocess(models=("random-bert-tiny",), timeout=300)
    assert "1 passed" in done.stdout, done.stdout[-3000:]
    assert "GENEB notes" in done.stdout
    assert (
        "geneb: random-bert-tiny / long_dna: 60 of 60 sequences cut to 512 tokens (recipe max_tokens), "
        "mean 85% kept"
    ) in done.stdout


def test_hyena_1k_folder_under_the_160k_recipe_runs_at_its_own_limit_in_float32(
    sweep: Sweep, hyena_folder: Path
) -> None:
    folder = hyena_folder
    long_task(sweep, "long_dna", 1500)  # 1,500 bases: over the checkpoint's 1,026 positions
    sweep.regimes = "full"
    done = sweep.subprocess(
        "--geneb-no-controls", models=(f"hyenadna-medium-160k-seqlen-hf[path={folder}]",), timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (result,) = sweep.results().values()
    assert result["model"] == folder.name  # a local folder's default name; the zoo key stays in the identity
    assert result["model_identity"]["key"].startswith("hyenadna-medium-160k-seqlen-hf+local-")
    health = result["health"]
    assert (health["dtype"], health["token_limit"], health["limit_source"]) == (
        "float32",
        1026,
        "config max_seq_len",
    )
    assert health["truncated"] == 60
    assert 0.6 < health["mean_kept"] < 0.75  # ~1,024 of 1,500 bases
    assert "cut to 1026 tokens (config max_seq_len)" in done.stdout
