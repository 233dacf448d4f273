"""File readers (CSV/TSV/parquet/FASTA, gzip), seeded split and row cap: values and located error messages."""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geneb_bench.data.formats import detect_format, read_fasta, read_file, read_table
from geneb_bench.data.sequences import SequenceError
from geneb_bench.data.splits import stratified_split, subsample


def _write(path: Path, text: str) -> Path:
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.csv", "csv"),
        ("a.CSV.gz", "csv"),
        ("a.tsv", "tsv"),
        ("a.tsv.gz", "tsv"),
        ("a.parquet", "parquet"),
        ("a.fa", "fasta"),
        ("a.fasta.gz", "fasta"),
        ("a.fna", "fasta"),
    ],
)
def test_detect_format(name: str, fmt: str) -> None:
    assert detect_format(Path(name)) == fmt


def test_unknown_format_names_the_fix() -> None:
    with pytest.raises(SequenceError, match=r"^a\.xlsx: cannot tell the format .* set format ="):
        detect_format(Path("a.xlsx"))


@pytest.mark.parametrize("name", ["t.tsv", "t.tsv.gz"])
def test_tsv_with_configured_columns(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path / name, "index\tlabel\ttext\n0\t1\tacgu\n1\t0\tGG NN\n")
    rows = read_file(path, text_column="text", label_column="label")
    assert (rows.sequences, rows.labels) == (["ACGT", "GGNN"], [1, 0])


def test_gzip_csv(tmp_path: Path) -> None:
    path = _write(tmp_path / "s.csv.gz", "seq,y\nAC,0\nGT,1\n")
    rows = read_file(path, text_column="seq", label_column="y")
    assert (rows.sequences, rows.labels) == (["AC", "GT"], [0, 1])


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    pd.DataFrame({"sequence": ["acg", "TTN"], "y": [3, 5]}).to_parquet(path)
    rows = read_file(path, text_column="sequence", label_column="y")
    assert (rows.sequences, rows.labels) == (["ACG", "TTN"], [3, 5])


def test_parquet_missing_sequence_names_row(tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    pd.DataFrame({"text": ["ACG", None], "label": [0, 1]}).to_parquet(path)
    with pytest.raises(SequenceError, match=rf"^{re.escape(str(path))} row 2: sequence is missing"):
        read_file(path)


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        ("text\tlabel\nACGT\t0\nACXT\t1\n", r"row 2: invalid character 'X' at position 3"),
        ("text\tlabel\nACGT\t0\nACGT\t\n", r"row 2: label is missing"),
        ("text\tlabel\nACGT\t0\nACGT\tweak\n", r"row 2: label 'weak' is not an integer"),
        ("text\tlabel\nACGT\t0\n \t1\n", r"row 2: (empty sequence|sequence is missing)"),
        ("seq\tlabel\nACGT\t0\n", r"missing column\(s\) \['text'\]"),
    ],
    ids=["tsv-bad-char", "tsv-missing-label", "tsv-text-label", "tsv-empty-sequence", "tsv-missing-column"],
)
def test_tsv_errors_name_file_and_row(tmp_path: Path, body: str, pattern: str) -> None:
    path = _write(tmp_path / "bad.tsv.gz", body)
    with pytest.raises(SequenceError) as info:
        read_file(path)
    assert str(info.value).startswith(str(path)), "gzip or not, the error names the file"
    assert re.search(pattern, str(info.value)), str(info.value)


def test_split_column_drops_dev_and_checks_values(tmp_path: Path) -> None:
    path = _write(tmp_path / "flat.csv", "text,label,split\nA,0,train\nC,1,dev\nG,1,TEST\nT,0,validation\n")
    rows = read_table(path, split_column="split")
    assert (rows.sequences, rows.splits) == (["A", "G"], ["train", "test"])
    bad = _write(tmp_path / "bad.csv", "text,label,split\nA,0,train\nC,1,holdout\n")
    with pytest.raises(SequenceError, match=r"bad\.csv row 2: split 'holdout' is not train, test or dev"):
        read_table(bad, split_column="split")


# ---- FASTA ---------------------------------------------------------------------------------------------


def test_fasta_per_class_multiline_and_gzip(tmp_path: Path) -> None:
    path = _write(tmp_path / "pos.fa.gz", ">r1 some text\nacg\nTTN\n; comment\n\n>r2\nGGGG\n")
    rows = read_fasta(path, label=1)
    assert (rows.sequences, rows.labels) == (["ACGTTN", "GGGG"], [1, 1])


def test_fasta_labels_in_headers(tmp_path: Path) -> None:
    path = _write(tmp_path / "all.fasta", ">a label=0\nAC\n>b label=2 x\nGT\n")
    assert read_fasta(path).labels == [0, 2]
    custom = _write(tmp_path / "c.fa", ">seq1|1\nAC\n>seq2|0\nGT\n")
    assert read_fasta(custom, header_label=r"\|(\d+)$").labels == [1, 0]


@pytest.mark.parametrize(
    ("body", "label", "pattern"),
    [
        (">a\nACGT\n>b\nACZT\n", 1, r"record 2 \(>b, line 3\): invalid character 'Z' at position 3"),
        (">a\nACGT\n>empty\n>c\nAC\n", 1, r"record 2 \(>empty, line 3\): empty sequence"),
        (">a label=1\nACGT\n>b\nAC\n", None, r"record 2 \(>b, line 3\): label is missing \(no match for"),
        (
            ">a label=1\nACGT\n>b label=strong\nAC\n",
            None,
            r"record 2 \(>b label=strong, line 3\): label 'strong' is not an integer",
        ),
        ("ACGT\n>a\nAC\n", 1, r"line 1: sequence text before the first '>' header"),
        ("\n\n", 1, r"no FASTA records"),
    ],
    ids=["bad-char", "empty-record", "missing-header-label", "text-header-label", "not-fasta", "no-records"],
)
def test_fasta_errors_name_file_record_and_line(
    tmp_path: Path, body: str, label: int | None, pattern: str
) -> None:
    path = _write(tmp_path / "x.fa", body)
    with pytest.raises(SequenceError) as info:
        read_fasta(path, label=label)
    assert str(info.value).startswith(str(path))
    assert re.search(pattern, str(info.value)), str(info.value)


def test_missing_file_and_label_on_table(tmp_path: Path) -> None:
    with pytest.raises(SequenceError, match=r"absent\.fa: cannot read: file not found"):
        read_file(tmp_path / "absent.fa", label=0)
    table = _write(tmp_path / "t.csv", "text,label\nA,0\n")
    with pytest.raises(SequenceError, match="a constant label is for FASTA files"):
        read_file(table, label=1)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(alphabet="ACGTNacgtu", min_size=1, max_size=30), st.integers(-5, 5)),
        min_size=1,
        max_size=20,
    ),
    st.integers(1, 25),
)
def test_fasta_roundtrip_property(records: list[tuple[str, int]], width: int) -> None:
    """Any wrapping of any records reads back as the normalised sequences with their header labels."""
    text = "".join(
        f">id{i} label={y}\n" + "\n".join(s[j : j + width] for j in range(0, len(s), width)) + "\n"
        for i, (s, y) in enumerate(records)
    )
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        rows = read_fasta(_write(Path(tmp) / "r.fa", text))
    assert rows.sequences == [s.upper().replace("U", "T") for s, _ in records]
    assert rows.labels == [y for _, y in records]


# ---- split and cap -------------------------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.integers(0, 3), min_size=2, max_size=200), st.floats(0.05, 0.95), st.integers(0, 2**31 - 1)
)
def test_stratified_split_property(labels: list[int], fraction: float, seed: int) -> None:
    counts = np.bincount(labels)
    if (counts[counts > 0] < 2).any():
        with pytest.raises(SequenceError, match="a stratified split needs at least 2"):
            stratified_split(labels, fraction, seed, "f.csv")
        return
    train, test = stratified_split(labels, fraction, seed, "f.csv")
    assert sorted([*train, *test]) == list(range(len(labels))), "a partition of the rows"
    y = np.asarray(labels)
    assert set(y[train]) == set(y[test]) == set(y), "every class in both splits"
    for cls in set(labels):
        n = int((y == cls).sum())
        assert int((y[test] == cls).sum()) == min(max(1, int(n * fraction + 0.5)), n - 1)
    again = stratified_split(labels, fraction, seed, "f.csv")
    assert (again[0] == train).all(), "deterministic in the seed"
    assert (again[1] == test).all()


def test_stratified_split_bad_fraction() -> None:
    with pytest.raises(SequenceError, match=r"f\.csv: test_fraction must be between 0 and 1"):
        stratified_split([0, 1, 0, 1], 1.0, 0, "f.csv")


def test_subsample() -> None:
    assert subsample(10, 10, 0) is None
    keep = subsample(1000, 100, 7)
    assert keep is not None
    assert len(keep) == len(set(keep.tolist())) == 100
    assert (np.diff(keep) > 0).all(), "original order kept"
    assert (cast(np.ndarray, subsample(1000, 100, 7)) == keep).all()
    assert not (cast(np.ndarray, subsample(1000, 100, 8)) == keep).all(), "the seed matters"
