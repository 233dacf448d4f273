"""The bad-input catalogue: every malformed task file or broken model, the exact error, and a sweep that
survives them.

Each row of ``DATA_CASES`` is one bad input, loaded the way a sweep loads it (a suite file ->
``Suite.load``), with the error fragment it must produce, file and row included. ``MODEL_CASES`` run one
whole benchmark item (load, embed, probe, write) through ``GenebSession``. Cases already covered
elsewhere (an empty CSV sequence, a text label in a CSV, ...) are not repeated here; docs/reliability.md
points at those tests.
"""

from __future__ import annotations

import gzip
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest
import torch

from geneb_bench.data.suites import get_suite
from geneb_bench.models.base import ModelUnavailable
from geneb_bench.models.hf import HFEmbedder
from geneb_bench.models.random_init import build_random_model, char_tokenizer
from geneb_bench.protocol import get_regime
from geneb_bench.runner.session import BenchItem, GenebSession
from geneb_bench.runner.settings import Settings
from tests.conftest import SWEEP_SCOPE

if TYPE_CHECKING:
    from tests.conftest import Sweep

GOOD = "text,label\nACGT,0\nGGCC,1\nACGA,0\nGGCA,1\n"
PAIR = 'train = "{dir}/tr.csv"\ntest = "{dir}/te.csv"'


def _gz(text: str) -> bytes:
    return gzip.compress(text.encode())


def _truncated_gz(text: str) -> bytes:
    data = gzip.compress(text.encode() * 40)
    return data[: len(data) - 40]


def _bad_crc_gz(text: str) -> bytes:
    data = bytearray(gzip.compress(text.encode()))
    data[-6] ^= 0xFF  # inside the CRC-32 trailer
    return bytes(data)


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class Case:
    """Files of one task (in its own folder ``{d}``), its suite-file keys, and the exact error fragment."""

    files: dict[str, str | bytes]
    spec: str
    error: str  # ``{d}``: the task's folder; ``{s}``: the suite file


DATA_CASES: dict[str, Case] = {
    # -- wrong columns and delimiters
    "csv-semicolon-delimited": Case(
        {"tr.csv": "text;label\nACGT;0\nGG;1\n", "te.csv": GOOD},
        PAIR,
        "{d}/tr.csv: missing column(s) ['text', 'label']; found ['text;label']",
    ),
    "csv-row-with-tab-delimiter": Case(
        {"tr.csv": "text,label\nACGT,0\nGGCC\t1\n", "te.csv": GOOD},
        PAIR,
        "{d}/tr.csv row 2: the sequence field holds a tab in a CSV file (mixed delimiters?)",
    ),
    "tsv-row-with-comma-delimiter": Case(
        {"tr.tsv": "text\tlabel\nACGT\t0\nGG\t1\nGGCC,1\n", "te.csv": GOOD},
        'train = "{dir}/tr.tsv"\ntest = "{dir}/te.csv"',
        "{d}/tr.tsv row 3: the sequence field holds a comma in a TSV file (mixed delimiters?)",
    ),
    "csv-row-with-extra-field": Case(
        {"tr.csv": "text,label\nACGT,0\nGGCC,1,7\n", "te.csv": GOOD},
        PAIR,
        "{d}/tr.csv: cannot read: Error tokenizing data. C error: Expected 2 fields in line 3, saw 3",
    ),
    "columns-mapping-names-absent-column": Case(
        {"tr.csv": "sequence,label\nACGT,0\nGG,1\n", "te.csv": "sequence,label\nAC,0\nGT,1\n"},
        PAIR + '\ncolumns = {text = "seq"}',
        "{d}/tr.csv: missing column(s) ['seq']; found ['sequence', 'label']",
    ),
    # -- encodings, invalid characters
    "csv-latin1-not-utf8": Case(
        {"tr.csv": "text,label\nACGT,0\nGGÉC,1\n".encode("latin-1"), "te.csv": GOOD},
        PAIR,
        "{d}/tr.csv: cannot read: 'utf-8' codec can't decode byte 0xc9 in position",
    ),
    "csv-utf16-with-bom": Case(
        {"tr.csv": "text,label\nACGT,0\nGG,1\n".encode("utf-16"), "te.csv": GOOD},
        PAIR,
        "{d}/tr.csv: cannot read: 'utf-8' codec can't decode byte 0xff in position 0",
    ),
    "fasta-iupac-code-on-second-line": Case(
        {"tr.fa": ">a label=0\nACGT\nACRT\n>b label=1\nAC\n", "te.csv": GOOD},
        'train = "{dir}/tr.fa"\ntest = "{dir}/te.csv"',
        "{d}/tr.fa record 1 (>a label=0, line 1): invalid character 'R' at position 7",
    ),
    "fasta-alignment-gap": Case(
        {"tr.fa": ">a label=0\nAC-GT\n>b label=1\nAC\n", "te.csv": GOOD},
        'train = "{dir}/tr.fa"\ntest = "{dir}/te.csv"',
        "{d}/tr.fa record 1 (>a label=0, line 1): invalid character '-' at position 3",
    ),
    "csv-control-character": Case(
        {"tr.csv": "text,label\nAC\x01GT,0\nGG,1\n", "te.csv": GOOD},
        PAIR,
        "{d}/tr.csv row 1: invalid character '\\x01' at position 3",
    ),
    "csv-spreadsheet-number-as-sequence": Case(
        {"tr.csv": "text,label\nACGT,0\n1.2E+05,1\n", "te.csv": GOOD},
        PAIR,
        "{d}/tr.csv row 2: invalid character '1' at position 1",
    ),
    # -- empty and non-text sequences
    "parquet-empty-sequence": Case(
        {"tr.parquet": _parquet(pd.DataFrame({"text": ["ACGT", ""], "label": [0, 1]})), "te.csv": GOOD},
        'train = "{dir}/tr.parquet"\ntest = "{dir}/te.csv"',
        "{d}/tr.parquet row 2: empty sequence",
    ),
    "parquet-numeric-sequence": Case(
        {"tr.parquet": _parquet(pd.DataFrame({"text": [12, 7], "label": [0, 1]})), "te.csv": GOOD},
        'train = "{dir}/tr.parquet"\ntest = "{dir}/te.csv"',
        "{d}/tr.parquet row 1: sequence is missing or not text (12)",
    ),
    # -- labels
    "parquet-string-labels": Case(
        {
            "tr.parquet": _parquet(pd.DataFrame({"text": ["AC", "GT"], "label": ["pos", "neg"]})),
            "te.csv": GOOD,
        },
        'train = "{dir}/tr.parquet"\ntest = "{dir}/te.csv"',
        "{d}/tr.parquet row 1: label 'pos' is not an integer",
    ),
    "parquet-float-labels": Case(
        {"tr.parquet": _parquet(pd.DataFrame({"text": ["AC", "GT"], "label": [0.0, 0.5]})), "te.csv": GOOD},
        'train = "{dir}/tr.parquet"\ntest = "{dir}/te.csv"',
        "{d}/tr.parquet row 2: label 0.5 is not an integer",
    ),
    "csv-infinite-label": Case(
        {"tr.csv": "text,label\nACGT,0\nGG,inf\n", "te.csv": GOOD},
        PAIR,
        "{d}/tr.csv row 2: label inf is not an integer",
    ),
    "fasta-float-label-in-header": Case(
        {"tr.fa": ">a label=0\nAC\n>b label=1.5\nGT\n", "te.csv": GOOD},
        'train = "{dir}/tr.fa"\ntest = "{dir}/te.csv"',
        "{d}/tr.fa record 2 (>b label=1.5, line 3): label 1.5 is not an integer",
    ),
    # -- classes
    "fasta-per-class-one-class-only": Case(
        {"a.fa": ">a\nAC\n", "b.fa": ">b\nGT\n", "te.csv": GOOD},
        'train = [{path = "{dir}/a.fa", label = 1}, {path = "{dir}/b.fa", label = 1}]\ntest = "{dir}/te.csv"',
        "{d}/a.fa, {d}/b.fa: only one class (1) in the training split",
    ),
    "single-file-one-class-only": Case(
        {"all.csv": "text,label\nAC,0\nGT,0\nAA,0\nCC,0\n"},
        'file = "{dir}/all.csv"',
        "{d}/all.csv: only one class (0) in the training split",
    ),
    "flat-file-class-only-in-test": Case(
        {"f.csv": "text,label,split\nAC,0,train\nGT,1,train\nAA,2,test\nCC,0,test\n"},
        'file = "{dir}/f.csv"\ncolumns = {split = "split"}',
        "{d}/f.csv (split=test): label(s) [2] appear in test but never in train",
    ),
    "fasta-test-split-one-class": Case(
        {"te.fa": ">a\nAC\n>b\nGT\n", "tr.csv": GOOD},
        'train = "{dir}/tr.csv"\ntest = [{path = "{dir}/te.fa", label = 1}]',
        "{d}/te.fa: the test split has one class only; MCC would be undefined",
    ),
    "flat-file-only-dev-rows": Case(
        {"f.csv": "text,label,split\nAC,0,dev\nGT,1,validation\n"},
        'file = "{dir}/f.csv"\ncolumns = {split = "split"}',
        "{d}/f.csv: no train or test rows (only dev)",
    ),
    # -- unreadable and damaged files
    "gzip-csv-truncated": Case(
        {"tr.csv.gz": _truncated_gz(GOOD), "te.csv": GOOD},
        'train = "{dir}/tr.csv.gz"\ntest = "{dir}/te.csv"',
        "{d}/tr.csv.gz: cannot read: Compressed file ended before the end-of-stream marker was reached",
    ),
    "gzip-fasta-truncated": Case(
        {"tr.fa.gz": _truncated_gz(">a label=0\nACGT\n>b label=1\nGG\n"), "te.csv": GOOD},
        'train = "{dir}/tr.fa.gz"\ntest = "{dir}/te.csv"',
        "{d}/tr.fa.gz: cannot read: Compressed file ended before the end-of-stream marker was reached",
    ),
    "gzip-bad-crc": Case(
        {"tr.csv.gz": _bad_crc_gz(GOOD * 20), "te.csv": GOOD},
        'train = "{dir}/tr.csv.gz"\ntest = "{dir}/te.csv"',
        "{d}/tr.csv.gz: cannot read: CRC check failed",
    ),
    "gz-suffix-but-plain-text": Case(
        {"tr.csv.gz": GOOD, "te.csv": GOOD},
        'train = "{dir}/tr.csv.gz"\ntest = "{dir}/te.csv"',
        "{d}/tr.csv.gz: cannot read: Not a gzipped file",
    ),
    "parquet-truncated": Case(
        {
            "tr.parquet": _parquet(pd.DataFrame({"text": ["AC"] * 50, "label": [0, 1] * 25}))[:300],
            "te.csv": GOOD,
        },
        'train = "{dir}/tr.parquet"\ntest = "{dir}/te.csv"',
        "{d}/tr.parquet: cannot read: Could not open Parquet input source '{d}/tr.parquet': Parquet magic bytes "
        "not found in footer",
    ),
    "parquet-zero-bytes": Case(
        {"tr.parquet": b"", "te.csv": GOOD},
        'train = "{dir}/tr.parquet"\ntest = "{dir}/te.csv"',
        "Parquet file size is 0 bytes",
    ),
    "directory-instead-of-file": Case(
        {"te.csv": GOOD, "sub.csv/keep": ""},
        'train = "{dir}/sub.csv"\ntest = "{dir}/te.csv"',
        "{d}/sub.csv: cannot read: a directory",
    ),
    "missing-test-file": Case({"tr.csv": GOOD}, PAIR, "{d}/te.csv: cannot read: file not found"),
    "declared-fasta-but-csv": Case(
        {"te.csv": GOOD},
        'train = "{dir}/te.csv"\ntest = "{dir}/te.csv"\nformat = "fasta"',
        "{d}/te.csv line 1: sequence text before the first '>' header (not FASTA?)",
    ),
    # -- the suite file itself
    "unknown-category": Case(
        {"te.csv": GOOD},
        'train = "{dir}/te.csv"\ntest = "{dir}/te.csv"\n[[task]]\nid = "x"\ncategory = "Promotors"\n'
        'file = "{dir}/te.csv"',
        "{s}: [[task]] number 2: unknown GENEB category 'Promotors'",
    ),
    "invalid-header-label-regex": Case(
        {"te.csv": GOOD},
        'train = "{dir}/te.csv"\ntest = "{dir}/te.csv"\nheader_label = "label=("',
        "{s}: [[task]] number 1: header_label 'label=(' is not a valid regex: missing ), unterminated subpattern",
    ),
    "max-rows-zero": Case(
        {"te.csv": GOOD},
        'train = "{dir}/te.csv"\ntest = "{dir}/te.csv"\nmax_rows = 0',
        "{s}: [[task]] number 1: max_rows must be at least 1, got 0",
    ),
    "task-ids-equal-once-made-path-safe": Case(
        {"te.csv": GOOD},
        'file = "{dir}/te.csv"\n[[task]]\nid = "t__x"\ncategory = "Promoters"\nfile = "{dir}/te.csv"',
        "{s}: task ids ['t/x', 't__x'] differ only in characters that are not safe in a file name",
    ),
    # -- issue 24: the old silent cases (each was read without a word)
    "csv-label-column-twice": Case(
        {"tr.csv": "text,label,label\nACGT,0,1\nGGCC,1,0\n", "te.csv": GOOD},
        PAIR,
        "{d}/tr.csv: column 'label' appears 2 times in the header (columns 2, 3); which one to use is a guess",
    ),
    "empty-task-id": Case(
        {"te.csv": GOOD},
        'train = "{dir}/te.csv"\ntest = "{dir}/te.csv"',
        "{s}: [[task]] number 1: task id '' is empty: give every task a name",
    ),
    "subsample-seed-not-an-integer": Case(
        {"tr.csv": GOOD, "te.csv": GOOD},
        PAIR + "\nsubsample_seed = 1.7",
        "{s}: [[task]] number 1: subsample_seed is an integer, got 1.7",
    ),
    "fasta-file-label-contradicts-header": Case(
        {"tr.fa": ">a label=1\nACGT\n>b label=0\nGG\n", "te.csv": GOOD},
        'train = [{path = "{dir}/tr.fa", label = 0}]\ntest = "{dir}/te.csv"',
        "{d}/tr.fa record 1 (>a label=1, line 1): the header says label 1, the task file gives this file "
        "label 0",
    ),
}
DATA_TASK_ID = {"task-ids-equal-once-made-path-safe": "t/x", "empty-task-id": ""}


def _load(tmp_path: Path, case: Case, task_id: str = "t") -> None:
    folder = tmp_path / "task"
    for name, content in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    suite = tmp_path / "suite.toml"
    suite.write_text(
        f'[[task]]\nid = "{task_id}"\ncategory = "Promoters"\n' + case.spec.replace("{dir}", "task")
    )
    get_suite(str(suite)).load(task_id)


@pytest.mark.parametrize("name", list(DATA_CASES))
def test_bad_task_file(tmp_path: Path, name: str) -> None:
    case = DATA_CASES[name]
    expected = case.error.format(d=tmp_path / "task", s=tmp_path / "suite.toml")
    with pytest.raises(ValueError, match=re.escape(expected)):  # SequenceError is a ValueError, as are
        _load(tmp_path, case, DATA_TASK_ID.get(name, "t"))  # suite-file errors


def test_unreadable_file(tmp_path: Path) -> None:
    """Not in the table: root reads a mode-000 file, so this case only means something for other users."""
    if os.geteuid() == 0:
        pytest.skip("running as root: permissions do not stop root from reading")
    case = Case(
        {"tr.csv": GOOD, "te.csv": GOOD}, PAIR, "{d}/tr.csv: cannot read: [Errno 13] Permission denied"
    )
    (tmp_path / "task").mkdir()
    (tmp_path / "task" / "tr.csv").write_text(GOOD)
    (tmp_path / "task" / "tr.csv").chmod(0)
    with pytest.raises(ValueError, match=re.escape(case.error.format(d=tmp_path / "task"))):
        _load(tmp_path, Case({"te.csv": GOOD}, PAIR, case.error))


@pytest.mark.parametrize(
    ("files", "spec", "train", "labels"),
    [
        ({"tr.csv": "\ufefftext,label\nACGT,0\nGG,1\n"}, PAIR, ["ACGT", "GG"], ["0", "1"]),
        (
            {"tr.fa": "\ufeff>a label=0\nACGT\n>b label=1\nGG\n"},
            'train = "{dir}/tr.fa"\ntest = "{dir}/te.csv"',
            ["ACGT", "GG"],
            ["0", "1"],
        ),
        ({"tr.csv": "text,label\r\nACGT,0\r\nGG,1\r\n"}, PAIR, ["ACGT", "GG"], ["0", "1"]),
        (
            {"tr.fa.gz": _gz(">a label=0\r\nAC\r\nGT\r\n>b label=1\r\nGG\r\n")},
            'train = "{dir}/tr.fa.gz"\ntest = "{dir}/te.csv"',
            ["ACGT", "GG"],
            ["0", "1"],
        ),
        ({"tr.csv": "text,label\nA,0\nC,1\n"}, PAIR, ["A", "C"], ["0", "1"]),
        (
            {"tr.parquet": _parquet(pd.DataFrame({"text": ["acgu", "GG"], "label": [True, False]}))},
            'train = "{dir}/tr.parquet"\ntest = "{dir}/te.csv"',
            ["ACGT", "GG"],
            ["0", "1"],
        ),
        (
            {"tr.fa": ">same label=0\nAC\n>same label=1\nGT\n"},
            'train = "{dir}/tr.fa"\ntest = "{dir}/te.csv"',
            ["AC", "GT"],
            ["0", "1"],
        ),
    ],
    ids=[
        "csv-utf8-bom",
        "fasta-utf8-bom",
        "csv-crlf",
        "gzip-fasta-crlf",
        "one-base-sequences",
        "parquet-bool-labels-rna",
        "fasta-duplicate-record-ids",
    ],
)
def test_tolerated_inputs_read_exactly(
    tmp_path: Path, files: dict[str, str | bytes], spec: str, train: list[str], labels: list[str]
) -> None:
    """Not errors: what these inputs must read as (no BOM or CR left in a value, nothing dropped)."""
    folder = tmp_path / "task"
    folder.mkdir()
    for name, content in {**files, "te.csv": GOOD}.items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    (tmp_path / "s.toml").write_text(
        '[[task]]\nid = "t"\ncategory = "Promoters"\n' + spec.replace("{dir}", "task")
    )
    data = get_suite(str(tmp_path / "s.toml")).load("t")
    assert list(data.train_sequences) == train
    assert list(data.label_names) == labels


def test_one_megabase_sequence_is_read_whole(tmp_path: Path) -> None:
    """1 Mb in a CSV field and as a 60-column FASTA record: read whole (truncation is the model's business)."""
    big = "".join(np.random.default_rng(0).choice(list("ACGT"), 1_000_000))
    folder = tmp_path / "task"
    folder.mkdir()
    (folder / "tr.csv").write_text(f"text,label\n{big},0\nC,1\n")
    (folder / "te.fa").write_text(
        ">x label=0\n" + "\n".join(big[i : i + 60] for i in range(0, len(big), 60)) + "\n>y label=1\nAC\n"
    )
    (tmp_path / "s.toml").write_text(
        '[[task]]\nid = "t"\ncategory = "Promoters"\ntrain = "task/tr.csv"\ntest = "task/te.fa"\n'
    )
    data = get_suite(str(tmp_path / "s.toml")).load("t")
    assert data.train_sequences[0] == big
    assert data.test_sequences[0] == big


# ---- broken models: one whole item through the session -----------------------------------------------------


def _extractor(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / f"{name}.py"
    path.write_text(
        "import numpy as np\n\n\ndef extract(sequences, batch_size):\n"
        + "".join(f"    {line}\n" for line in body.splitlines())
    )
    return f"python:{path}:extract"


def _checkpoint(tmp_path: Path, name: str, weights: bool = True, tokenizer: object = None) -> Path:
    folder = tmp_path / name
    model = build_random_model({"arch": "bert", "hidden_size": 16, "num_layers": 1, "num_heads": 2})
    if weights:
        model.save_pretrained(folder)
    else:
        model.config.save_pretrained(folder)
    (tokenizer or char_tokenizer(64)).save_pretrained(folder)  # type: ignore[union-attr]
    return folder


def _no_token_tokenizer() -> object:
    """A tokenizer whose normaliser deletes every base and that adds no special tokens: zero tokens."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.WordLevel({"[PAD]": 0, "[UNK]": 1, "A": 2}, unk_token="[UNK]"))
    core.normalizer = normalizers.Replace(Regex("[ACGTN]"), "")
    core.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    return PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="[PAD]", unk_token="[UNK]", model_max_length=64
    )


def _renamed_weights(tmp_path: Path) -> str:
    """Weights saved under other names (another architecture's layout): every layer would be random."""
    from safetensors.numpy import load_file, save_file

    folder = _checkpoint(tmp_path, "renamed")
    tensors = load_file(str(folder / "model.safetensors"))
    save_file(
        {f"other.{k}": v for k, v in tensors.items()}, str(folder / "model.safetensors"), {"format": "pt"}
    )
    return str(folder)


def _bad_json_config(tmp_path: Path) -> str:
    folder = _checkpoint(tmp_path, "badjson")
    (folder / "config.json").write_text('{"model_type": "bert", ')
    return str(folder)


def _without_tokenizer(tmp_path: Path) -> str:
    folder = _checkpoint(tmp_path, "notokenizer")
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
        (folder / name).unlink(missing_ok=True)
    return str(folder)


def _config_a_list(tmp_path: Path) -> str:
    folder = _checkpoint(tmp_path, "configlist")
    (folder / "config.json").write_text("[1, 2]")
    return str(folder)


def _truncated_weights(tmp_path: Path) -> str:
    folder = _checkpoint(tmp_path, "truncated")
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    return str(folder)


class _Payload:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("true",))


def _pickle_only(tmp_path: Path) -> str:
    folder = tmp_path / "pickled"
    model = build_random_model({"arch": "bert", "hidden_size": 16, "num_layers": 1, "num_heads": 2})
    model.save_pretrained(folder, safe_serialization=False)
    char_tokenizer(64).save_pretrained(folder)
    state = dict(model.state_dict())
    state["payload"] = _Payload()
    torch.save(state, folder / "pytorch_model.bin")
    return str(folder)


@dataclass(frozen=True)
class ModelCase:
    make: Callable[[Path], str]  # tmp_path -> the --geneb-model name
    outcome: type[BaseException]  # ValueError: the item fails; ModelUnavailable: it is skipped
    error: str  # ``{t}``: tmp_path


MODEL_CASES: dict[str, ModelCase] = {
    "path-does-not-exist": ModelCase(
        lambda t: "/nonexistent/geneb-model",
        ValueError,
        "unknown model '/nonexistent/geneb-model': not a registry key",
    ),
    "path-override-does-not-exist": ModelCase(
        lambda t: f"GROVER[path={t}/absent]", ValueError, "path {t}/absent is not a directory"
    ),
    "config-without-weights": ModelCase(
        lambda t: str(_checkpoint(t, "noweights", weights=False)),
        ModelUnavailable,
        "cannot load '{t}/noweights' (revision local-",
    ),
    "weights-of-another-architecture": ModelCase(
        _renamed_weights,
        ModelUnavailable,
        "'{t}/renamed': 21 weight tensor(s) of the architecture are not in the checkpoint (embeddings.",
    ),
    "config-not-json": ModelCase(
        _bad_json_config,
        ModelUnavailable,
        "config file at '{t}/badjson/config.json' is not a valid JSON file",
    ),
    # issue 19: the real problem and the fix, instead of protobuf / TypeError / SafetensorError / TensorFlow
    "no-tokenizer-files": ModelCase(
        _without_tokenizer, ModelUnavailable, "'{t}/notokenizer' has no tokenizer files"
    ),
    "config-holds-a-list": ModelCase(
        _config_a_list, ModelUnavailable, "'{t}/configlist/config.json' holds a JSON list, not an object"
    ),
    "truncated-safetensors": ModelCase(
        _truncated_weights, ModelUnavailable, "'{t}/truncated/model.safetensors' is truncated or corrupt"
    ),
    "pickle-only-checkpoint": ModelCase(
        _pickle_only,
        ModelUnavailable,
        "'{t}/pickled/pytorch_model.bin' is a pickle checkpoint that holds more than tensors",
    ),
    "relative-path-typo": ModelCase(
        lambda t: "./typo-geneb-model", ValueError, "no such model folder: './typo-geneb-model'"
    ),
    "tokenizer-produces-no-tokens": ModelCase(
        lambda t: str(_checkpoint(t, "notokens", tokenizer=_no_token_tokenizer())),
        ValueError,
        "the tokenizer produced no tokens for sequence 0 ('ACGT'...)",
    ),
    "embeddings-with-nan": ModelCase(
        lambda t: _extractor(
            t, "nan_model", "out = np.ones((len(sequences), 4))\nout[2, 1] = np.nan\nreturn out"
        ),
        ValueError,
        "model 'python-nan_model-extract' produced NaN/inf embeddings on task 't' (train row 3); nothing was cached",
    ),
    "embeddings-with-inf-in-test": ModelCase(
        lambda t: _extractor(
            t, "inf_model", "out = np.ones((len(sequences), 4))\nout[5, 0] = np.inf\nreturn out"
        ),
        ValueError,
        "produced NaN/inf embeddings on task 't' (test row 2)",
    ),
    "output-missing-a-row": ModelCase(
        lambda t: _extractor(t, "short_model", "return np.ones((len(sequences) - 1, 4))"),
        ValueError,
        "extractor returned shape (5, 4); expected (6, d): one row per sequence",
    ),
    "output-zero-width": ModelCase(
        lambda t: _extractor(t, "empty_model", "return np.ones((len(sequences), 0))"),
        ValueError,
        "extractor returned shape (6, 0); expected (6, d)",
    ),
    "output-one-dimensional": ModelCase(
        lambda t: _extractor(t, "flat_model", "return np.ones(len(sequences))"),
        ValueError,
        "extractor returned shape (6,); expected (6, d)",
    ),
}


@pytest.fixture
def hf_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No network for a local checkpoint (module-level flags too: they are read at import)."""
    import huggingface_hub.constants
    import transformers.utils.hub

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(transformers.utils.hub, "_is_offline_mode", True)


def _run_one_item(tmp_path: Path, model: str) -> None:
    """The sweep's path for one item: resolve the model, load the task, embed, probe, write."""
    settings = Settings(
        suite=str(tmp_path / "s.toml"),
        models=(model,),
        regimes=(get_regime("full"),),
        seeds=(13,),
        data_dir=None,
        cache_dir=tmp_path / "cache",
        results_dir=tmp_path / "out",
        device="cpu",
    )
    session = GenebSession(settings)
    session.run_item(BenchItem(settings.specs[0], session.suite.tasks[0], settings.regimes[0]))


@pytest.mark.parametrize("name", list(MODEL_CASES))
def test_broken_model(tmp_path: Path, name: str, hf_offline: None) -> None:
    """One item of a good task with a broken model: the exact error, no result file, nothing cached."""
    case = MODEL_CASES[name]
    (tmp_path / "tr.csv").write_text(GOOD)
    (tmp_path / "te.csv").write_text("text,label\nAAGT,0\nGGCT,1\n")
    (tmp_path / "s.toml").write_text(
        '[[task]]\nid = "t"\ncategory = "Promoters"\ntrain = "tr.csv"\ntest = "te.csv"\n'
    )
    model = case.make(tmp_path)
    with pytest.raises(case.outcome, match=re.escape(case.error.format(t=tmp_path))):
        _run_one_item(tmp_path, model)
    assert not (tmp_path / "out").exists(), "no result (or partial result) for a broken model"
    assert not list(tmp_path.glob("cache/**/*.npz")), "nothing cached for a broken model"


@pytest.mark.parametrize("shape", ["pooled", "transposed"])
def test_model_output_of_the_wrong_shape_is_refused(shape: str) -> None:
    """A model returning pooled (batch, dim) or (tokens, batch, dim) states: refused before pooling, where
    broadcasting would otherwise mix the sequences of a batch into numbers that look fine."""

    class Odd(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = torch.nn.Embedding(10, 6)

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None
        ) -> tuple[torch.Tensor]:
            states = self.embed(input_ids)
            return (states.mean(1),) if shape == "pooled" else (states.transpose(0, 1),)

    embedder = HFEmbedder(Odd(), char_tokenizer(64), recipe={"states": "tuple0"})
    # 16 rows of 16 tokens: batch == tokens for "pooled", where broadcasting would not fail by itself
    sequences = ["ACGTACGTACGTAC"] * 16 if shape == "pooled" else ["ACGTA"] * 3
    with pytest.raises(
        ValueError,
        match=r"model output has shape \(\d+, \d+(, \d+)?\); expected \(batch, tokens, "
        r"dim\) with \(batch, tokens\) = \((16, 16|3, 16)\)",
    ):
        embedder.embed(sequences)


# ---- the sweep goes on -----------------------------------------------------------------------------------


def test_sweep_with_bad_tasks_and_models_keeps_the_good_items(sweep: Sweep, tmp_path: Path) -> None:
    """One sweep, four bad tasks, two bad models, one good pair: only the good items pass and write, every
    failure names its file/row or model/task, and no partial result or cache file is left."""
    sweep.good_task("good_a")
    bad_char = sweep.task("bad_char", {"tr.csv": GOOD, "te.csv": GOOD + "ACXT,0\n"}, PAIR)
    trunc = sweep.task(
        "trunc_gz",
        {"tr.csv.gz": _truncated_gz(GOOD), "te.csv": GOOD},
        'train = "{dir}/tr.csv.gz"\ntest = "{dir}/te.csv"',
    )
    unseen = sweep.task("unseen_class", {"tr.csv": GOOD, "te.csv": GOOD + "AAAA,2\n"}, PAIR)
    mixed = sweep.task("mixed_delim", {"tr.csv": GOOD + "GGGG\t1\n", "te.csv": GOOD}, PAIR)
    nan_model = _extractor(
        tmp_path, "nan_model", "out = np.ones((len(sequences), 4))\nout[-1] = np.nan\nreturn out"
    )
    short_model = _extractor(tmp_path, "short_model", "return np.ones((len(sequences) - 1, 4))")

    result = sweep.run(models=("kmer-3", nan_model, short_model))
    result.assert_outcomes(passed=2, failed=28)  # 3 models x 5 tasks x 2 regimes
    reports = sweep.reports(result)
    assert sorted(i for i, r in reports.items() if r.passed) == [
        "kmer-3-promoters-good_a-1shot",
        "kmer-3-promoters-good_a-full",
    ]
    expected = {
        "bad_char": f"{bad_char}/te.csv row 5: invalid character 'X' at position 3",
        "trunc_gz": f"{trunc}/tr.csv.gz: cannot read: Compressed file ended",
        "unseen_class": f"{unseen}/te.csv: label(s) [2] appear in test but never in train",
        "mixed_delim": f"{mixed}/tr.csv row 5: the sequence field holds a tab in a CSV file",
    }
    for item, report in reports.items():
        if report.passed:
            continue
        task = next((t for t in expected if f"-{t}-" in item), None)
        if task is not None:
            assert expected[task] in report.longreprtext, item
        elif item.startswith("python-nan_model"):
            assert (
                "produced NaN/inf embeddings on task 'good_a' (test row 30); nothing was cached"
                in report.longreprtext
            )
        else:
            assert "extractor returned shape (89, 4); expected (90, d)" in report.longreprtext, item

    assert sorted(sweep.results()) == ["kmer-3/good_a/1shot", "kmer-3/good_a/full"]
    assert len(sweep.cache_entries()) == 1, "only the good (model, task) pair is cached"
    assert sweep.leftovers() == []
    table = (sweep.root / "out" / SWEEP_SCOPE / "results.csv").read_text()
    assert "good_a" in table
    assert not any(t in table for t in expected)


# -- issue 24: the old silent cases that load, now exactly or with a note -----------------------------------


def test_labels_beyond_two_to_the_53_stay_three_classes(tmp_path: Path) -> None:
    """Was: 0, 2**53 and 2**53 + 1 went through float64 and loaded as 2 classes."""
    big = 2**53
    rows = "".join(f"{'ACGT'[i % 4] * (3 + i)},{(0, big, big + 1)[i % 3]}\n" for i in range(12))
    case = Case(
        {"tr.csv": "text,label\n" + rows, "te.csv": "text,label\n" + rows},
        PAIR + "\nallow_overlap = true",
        "",
    )
    folder = tmp_path / "task"
    folder.mkdir()
    for name, content in case.files.items():
        (folder / name).write_text(str(content))
    (tmp_path / "suite.toml").write_text(
        '[[task]]\nid = "t"\ncategory = "Promoters"\n' + case.spec.replace("{dir}", "task")
    )
    data = get_suite(str(tmp_path / "suite.toml")).load("t")
    assert data.label_names == ("0", str(big), str(big + 1))
    assert data.n_classes == 3
    with pytest.raises(ValueError, match=re.escape("label '9007199254740994.0' is a float beyond 2**53")):
        _load(
            tmp_path / "float",
            Case({"tr.csv": GOOD.replace(",1\n", ",9007199254740994.0\n"), "te.csv": GOOD}, PAIR, ""),
        )


def _overlap_task(tmp_path: Path, shared: int) -> Case:
    """15 test rows, ``shared`` of them also in train."""
    train = [
        f"{'ACGT'[i % 4]}{'GATTACA' * 2}{i:03b}".replace("0", "C").replace("1", "T") + "A" * i
        for i in range(30)
    ]
    test = train[:shared] + [f"TTTT{i}".replace(str(i), "G" * (i + 1)) for i in range(15 - shared)]
    table = "text,label\n"
    return Case(
        {
            "tr.csv": table + "".join(f"{s},{i % 2}\n" for i, s in enumerate(train)),
            "te.csv": table + "".join(f"{s},{i % 2}\n" for i, s in enumerate(test)),
        },
        PAIR,
        "",
    )


def test_overlap_under_the_refusal_threshold_is_noted(tmp_path: Path) -> None:
    """Was: 47% of the test rows in train ran with no word; over 50% is refused (issue 19)."""
    _load(tmp_path / "a", _overlap_task(tmp_path, 7))
    data = get_suite(str(tmp_path / "a" / "suite.toml")).load("t")
    assert data.revision == (
        "7 of the 15 test sequences (46.7%) are also in train: the score partly measures memory (refused "
        "above 50%)"
    )
    with pytest.raises(ValueError, match=r"8 of the 15 test sequences .* more than 50% overlap"):
        _load(tmp_path / "b", _overlap_task(tmp_path, 8))
    _load(tmp_path / "c", _overlap_task(tmp_path, 0))
    assert get_suite(str(tmp_path / "c" / "suite.toml")).load("t").revision is None, "no overlap, no note"


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--geneb-seeds=13,13,13", "geneb: --geneb-seeds: 13 given more than once; list each once"),
        ("--geneb-regimes=full,full", "geneb: --geneb-regimes: full given more than once; list each once"),
    ],
)
def test_repeated_seeds_or_regimes_are_a_usage_error(sweep: Sweep, option: str, message: str) -> None:
    """Was: accepted; a repeated seed weighed twice in every mean."""
    sweep.good_task("good_a")
    result = sweep.run(option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()
    assert not list(sweep.root.rglob("results/**/*.json")), "nothing probed"


def test_a_hand_edited_mean_is_never_resumed(sweep: Sweep) -> None:
    """Was: ``mean.mcc`` edited to 0.999 was resumed and published while per_seed held the real value."""
    import json

    sweep.good_task("good_a")
    sweep.regimes = "full"
    sweep.seeds = "13,17"
    assert sweep.run().ret == pytest.ExitCode.OK
    (path,) = sweep.root.glob("out/results/**/full.json")
    real = json.loads(path.read_text())
    path.write_text(json.dumps({**real, "mean": {**real["mean"], "mcc": 0.999}}))
    again = sweep.run()
    assert again.ret == pytest.ExitCode.OK
    assert json.loads(path.read_text())["mean"] == real["mean"], "recomputed from the model, not resumed"
    assert "0.999" not in (sweep.root / "out" / "reliability+seeds__13__17" / "leaderboard.csv").read_text()
