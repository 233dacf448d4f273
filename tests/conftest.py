"""A tiny benchmark project for the plugin and reliability tests: tasks in one suite file, run by the plugin.

The sweep runs in a pytester directory, in this process (fast) or in a subprocess (kills, rlimits,
concurrency). Every task is a pair of small files in a folder of its own; a good task carries a motif a
3-mer spectrum sees, so its probe has something to find.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

# Imported here, outside the in-process pytester runs, on purpose: pytester restores sys.modules after each
# run, and torch (imported by the session to pick the device) crashes the interpreter when a later run
# imports it a second time; numpy's, sklearn's and pandas' C parts (the probe, the tables) cannot be loaded
# twice in one process either. torch.distributed's functional collectives and DTensor (imported by
# transformers' model code, which the runs, the hub code and the plan reach) register operators that cannot
# be registered twice either: imported here once.
import torch
import torch.distributed._functional_collectives
import torch.distributed.tensor
import transformers.modeling_utils  # noqa: F401

import geneb_bench.probe.evaluate
import geneb_bench.probe.logistic  # the built-in probes, with sklearn
import geneb_bench.results.aggregate
import geneb_bench.runner.session  # noqa: F401
from geneb_bench.categories import get_category

# The results folder of a Sweep run: its suite ("reliability"), seed 13 only (a protocol variant).
SWEEP_SCOPE = "reliability+seeds__13"
BENCH_MODULE = "from geneb_bench.benchmark import test_geneb\n"
SEQ_LEN = 60


def planted_rows(rng: np.random.Generator, n: int, motif: str) -> list[tuple[str, int]]:
    """Balanced binary rows; class 1 has ``motif`` planted twice (a signal a k-mer spectrum sees)."""
    rows = []
    for i in range(n):
        label = i % 2
        bases = list(rng.choice(list("ACGT"), size=SEQ_LEN))
        if label:
            for _ in range(2):
                at = int(rng.integers(0, SEQ_LEN - len(motif)))
                bases[at : at + len(motif)] = motif
        rows.append(("".join(bases), label))
    return rows


def csv_text(rows: Sequence[tuple[str, int]]) -> str:
    return "text,label\n" + "".join(f"{seq},{label}\n" for seq, label in rows)


@dataclass(frozen=True)
class TaskFiles:
    task_id: str
    category: str
    slug: str
    train: Path
    test: Path


@dataclass
class Sweep:
    """A suite file plus the files of its tasks, under ``root``; ``args`` builds the geneb command line."""

    pytester: pytest.Pytester
    entries: list[str] = field(default_factory=list)
    tasks: list[TaskFiles] = field(default_factory=list)  # the good ones
    seeds: str = "13"
    regimes: str = "full,1shot"

    @property
    def root(self) -> Path:
        return self.pytester.path

    @property
    def suite(self) -> Path:
        return self.root / "suite.toml"

    def task(
        self, task_id: str, files: Mapping[str, str | bytes], spec: str, category: str = "Promoters"
    ) -> Path:
        """Write ``files`` into ``root/data_<n>/`` and declare the task; ``spec`` holds its file keys."""
        folder = self.root / f"data_{len(self.entries)}"
        folder.mkdir()
        for name, content in files.items():
            (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())
        spec = spec.replace("{dir}", folder.name)
        self.entries.append(f'[[task]]\nid = {json.dumps(task_id)}\ncategory = "{category}"\n{spec}\n')
        self.suite.write_text('name = "reliability"\n\n' + "\n".join(self.entries))
        return folder

    def good_task(
        self, task_id: str, seed: int = 1, motif: str = "TATAAAT", category: str = "Promoters"
    ) -> TaskFiles:
        """60 training and 30 test rows with ``motif`` planted in class 1, from one generator seeded ``seed``."""
        rng = np.random.default_rng(seed)
        train, test = csv_text(planted_rows(rng, 60, motif)), csv_text(planted_rows(rng, 30, motif))
        folder = self.task(
            task_id,
            {"train.csv": train, "test.csv": test},
            'train = "{dir}/train.csv"\ntest = "{dir}/test.csv"',
            category,
        )
        files = TaskFiles(
            task_id, category, get_category(category).slug, folder / "train.csv", folder / "test.csv"
        )
        self.tasks.append(files)
        return files

    def args(
        self,
        *extra: str,
        models: Sequence[str] = ("kmer-3",),
        results: str = "out",
        cache: str = "cache",
        controls: bool = False,
    ) -> list[str]:
        """The run's arguments; the kmer-3 control beside a user's model only with ``controls``."""
        return [
            "-p",
            "no:cacheprovider",
            "-p",
            "no:hypothesispytest",
            f"--geneb-suite={self.suite}",
            *(f"--geneb-model={m}" for m in models),
            f"--geneb-seeds={self.seeds}",
            f"--geneb-regimes={self.regimes}",
            f"--geneb-cache-dir={self.root / cache}",
            f"--geneb-results-dir={self.root / results}",
            *([] if controls else ["--geneb-no-controls"]),
            *extra,
        ]

    def run(self, *extra: str, **kwargs: Any) -> pytest.RunResult:
        """In this process (fast; monkeypatches of the test apply)."""
        return self.pytester.runpytest(*self.args(*extra, **kwargs))

    def command(self, *extra: str, **kwargs: Any) -> list[str]:
        return [sys.executable, "-m", "pytest", "test_bench.py", "-q", *self.args(*extra, **kwargs)]

    def subprocess(
        self, *extra: str, preexec_fn: Callable[[], None] | None = None, timeout: float = 120, **kwargs: Any
    ) -> subprocess.CompletedProcess[str]:
        """In a fresh interpreter: for what must not happen to the test process (kills, rlimits)."""
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        return subprocess.run(
            self.command(*extra, **kwargs),
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=preexec_fn,
            env=env,
        )

    def results(self, results: str | Path = "out") -> dict[str, dict[str, Any]]:
        """``model/task/regime`` -> the parsed result JSON (every file must parse); ``results``: a folder
        name under ``root`` or a path."""
        root = self.root / results / "results"
        return {  # results/<suite[+variant]>/<model>/<task>/<regime>.json: the suite folder is left out
            "/".join(path.relative_to(root).with_suffix("").parts[-3:]): json.loads(path.read_text())
            for path in sorted(root.rglob("*.json"))
        }

    def leftovers(self, *folders: str) -> list[Path]:
        """Temporary files of interrupted writes, anywhere under ``folders`` (default: results and cache)."""
        return sorted(p for f in folders or ("out", "cache") for p in (self.root / f).rglob("*.tmp"))

    def cache_entries(self, cache: str = "cache") -> list[Path]:
        return sorted((self.root / cache).rglob("*.npz"))

    @staticmethod
    def reports(result: pytest.RunResult) -> dict[str, pytest.TestReport]:
        """Item id (the part in brackets) -> its call report, or its failing setup (in-process runs only)."""
        reprec = result.reprec  # type: ignore[attr-defined]  # set by runpytest_inprocess
        reports = {}
        for report in reprec.getreports("pytest_runtest_logreport"):
            if report.when == "call" or (report.when == "setup" and not report.passed):
                reports[report.nodeid.split("[", 1)[1].rstrip("]")] = report
        return reports


@pytest.fixture
def hub_online(monkeypatch: pytest.MonkeyPatch) -> None:
    """huggingface_hub not in offline mode, whatever the environment: unset the variables, and its constant
    too (it is read once, when huggingface_hub is first imported, maybe by a test that had set the variable)."""
    import huggingface_hub.constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)


@pytest.fixture(scope="session")
def transformers_imported() -> None:
    """Import everything a transformers model run imports, before an in-process run that uses one:
    pytester drops modules first imported during a run, and torch cannot register its operator
    libraries (``torch.distributed``) a second time in one interpreter."""
    from geneb_bench.models.random_init import load_random_init
    from geneb_bench.models.registry import resolve_model

    load_random_init(resolve_model("random-bert-tiny"), "cpu").embed(["ACGT"])


@pytest.fixture
def sweep(pytester: pytest.Pytester) -> Sweep:
    pytester.makepyfile(test_bench=BENCH_MODULE)
    return Sweep(pytester)


TEXT_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "c", "g", "t", "##a", "##c", "##g", "##t"]


@pytest.fixture
def text_bert(tmp_path: Path) -> Path:
    """A BERT text checkpoint (lower-casing WordPiece, max_input_chars_per_word 100, tiny random weights)
    saved like a sentence-transformers folder, built offline: DNA over 100 nt is one word, so [UNK]."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, BertTokenizerFast

    vocab = {tok: i for i, tok in enumerate(TEXT_VOCAB)}
    core = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    core.normalizer = normalizers.BertNormalizer(lowercase=True)
    core.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    core.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])]
    )
    core.decoder = decoders.WordPiece()
    folder = tmp_path / "text-bert"
    BertTokenizerFast(
        tokenizer_object=core,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=512,
    ).save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(TEXT_VOCAB),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
    )
    BertModel(config, add_pooling_layer=False).save_pretrained(folder)
    return folder


SHARED_MODELS = Path(__file__).resolve().parents[2] / "shared" / "models"  # tiny real-code model folders


@pytest.fixture
def hyena_folder(tmp_path: Path) -> Path:
    """A copy of the real-code HyenaDNA folder (1,026 positions, ``max_seq_len``); skip when absent."""
    import shutil

    source = SHARED_MODELS / "hyenadna"
    if not source.is_dir():
        pytest.skip(f"the HyenaDNA real-code folder is not at {source}")
    return Path(shutil.copytree(source, tmp_path / "hyena-1k"))
