"""Readers for task files: CSV, TSV, parquet and FASTA, each optionally gzip-compressed.

Every reader returns normalised sequences and integer labels, and every problem names the file and the
1-based data row (tables) or record and line (FASTA), so a bad row in a 100,000-row file is found at once.
"""

from __future__ import annotations

import gzip
import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geneb_bench.data.sequences import SequenceError, normalise

TABLE_FORMATS = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
FASTA_SUFFIXES = frozenset({".fa", ".fasta", ".fna", ".fas"})
FORMATS = ("csv", "tsv", "parquet", "fasta")
TRAIN_SPLITS = frozenset({"train", "training"})
TEST_SPLITS = frozenset({"test", "testing"})
DROPPED_SPLITS = frozenset({"dev", "val", "valid", "validation"})  # GENEB drops dev splits, never merges them
DEFAULT_HEADER_LABEL = r"label=(\S+)"
FLOAT_EXACT = 2**53  # every integer up to this is exact as a float; beyond, floats skip integers
_INTEGER = re.compile(r"[+-]?\d+")
_BOOLEANS = {"true": 1, "false": 0}


@dataclass
class Rows:
    """Parsed rows of one or more files; ``split`` holds "train"/"test" when the file said so."""

    sequences: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    splits: list[str] = field(default_factory=list)
    dropped: int = 0  # dev/validation rows left out (GENEB drops them): recorded in the task revision

    def extend(self, other: Rows) -> None:
        self.sequences += other.sequences
        self.labels += other.labels
        self.splits += other.splits
        self.dropped += other.dropped

    def dropped_note(self, column: str | None) -> str | None:
        """The provenance line for dropped dev rows, or None when none were dropped."""
        return (
            f"{self.dropped} dev/validation rows dropped (split column {column!r})" if self.dropped else None
        )


def detect_format(path: Path) -> str:
    """csv / tsv / parquet / fasta from the suffix (``.gz`` looked through)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    suffix = suffixes[-1] if suffixes else ""
    if suffix in TABLE_FORMATS:
        return "tsv" if TABLE_FORMATS[suffix] == "\t" else "csv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in FASTA_SUFFIXES:
        return "fasta"
    raise SequenceError(f"{path}: cannot tell the format from the name; set format = one of {list(FORMATS)}")


def _missing(raw: Any) -> bool:
    return raw is None or (not isinstance(raw, str) and bool(pd.isna(raw)))


def parse_label(raw: object, where: str) -> int:
    """Integers only (``1.0`` is fine): string class names would need an order we cannot guess.

    Read exactly: ``9007199254740993`` (2**53 + 1) stays itself, where a trip through float would merge it
    with 2**53 and silently join two classes; a float label beyond 2**53 cannot be told from its
    neighbours, so it is refused.
    """
    if _missing(raw) or (isinstance(raw, str) and not raw.strip()):
        raise SequenceError(f"{where}: label is missing")
    if isinstance(raw, bool | np.bool_):
        return int(raw)
    if isinstance(raw, int | np.integer):
        return int(raw)
    if isinstance(raw, str) and _INTEGER.fullmatch(raw.strip()):
        return int(raw.strip())
    if isinstance(raw, str) and raw.strip().lower() in _BOOLEANS:  # as pandas reads a True/False column
        return _BOOLEANS[raw.strip().lower()]
    try:
        value = float(raw)  # type: ignore[arg-type]  # anything float() rejects is reported below
    except (TypeError, ValueError, OverflowError):
        raise SequenceError(f"{where}: label {raw!r} is not an integer") from None
    if not value.is_integer():
        raise SequenceError(f"{where}: label {value!r} is not an integer")
    if abs(value) > FLOAT_EXACT:
        raise SequenceError(
            f"{where}: label {raw!r} is a float beyond 2**53, where floats skip integers: it cannot be "
            "read exactly. Fix: write labels as plain integers (no decimal point or exponent)"
        )
    return int(value)


def read_table(
    path: Path,
    text_column: str = "text",
    label_column: str = "label",
    split_column: str | None = None,
    fmt: str | None = None,
) -> Rows:
    """One CSV/TSV/parquet file; rows of a dev split (when ``split_column`` is set) are dropped."""
    fmt = fmt or detect_format(path)
    wanted = [text_column, label_column] + ([split_column] if split_column else [])
    if fmt == "parquet" and importlib.util.find_spec("pyarrow") is None:  # an extra: only parquet needs it
        raise SequenceError(
            f"{path}: reading parquet needs pyarrow: pip install 'geneb-bench[parquet]' "
            "(or pip install 'pyarrow>=14.0.1')"
        )
    try:
        if fmt == "parquet":
            frame = pd.read_parquet(path)
        else:
            # labels as text too: a numeric column read by pandas goes through float64 as soon as one cell
            # is not an integer, and 2**53 + 1 would become 2**53
            strings = {c: "string" for c in (text_column, label_column, split_column) if c}
            frame = pd.read_csv(
                path,
                sep="\t" if fmt == "tsv" else ",",
                dtype=strings,
                keep_default_na=False,
                na_values=[""],
                compression="infer",
            )
    except (
        OSError,
        ValueError,
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        UnicodeDecodeError,
        EOFError,
        ImportError,
    ) as exc:
        raise SequenceError(f"{path}: cannot read: {str(exc).strip()}") from exc
    _check_unique_columns(path, fmt, list(frame.columns), wanted)
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise SequenceError(f"{path}: missing column(s) {missing}; found {list(frame.columns)}")
    if frame.empty:
        raise SequenceError(f"{path}: no rows")
    rows = Rows()
    splits = frame[split_column] if split_column else [None] * len(frame)
    for row, (raw_seq, raw_label, raw_split) in enumerate(
        zip(frame[text_column], frame[label_column], splits, strict=True), start=1
    ):
        where = f"{path} row {row}"
        if _missing(raw_label):
            _check_delimiter(raw_seq, fmt, where)
        if split_column is not None:
            split = "" if _missing(raw_split) else str(raw_split).strip().lower()
            if split in DROPPED_SPLITS:
                rows.dropped += 1
                continue
            if split not in TRAIN_SPLITS | TEST_SPLITS:
                raise SequenceError(f"{where}: split {raw_split!r} is not train, test or dev")
            rows.splits.append("train" if split in TRAIN_SPLITS else "test")
        rows.sequences.append(normalise(None if _missing(raw_seq) else raw_seq, where))
        rows.labels.append(parse_label(raw_label, where))
    if not rows.sequences:
        raise SequenceError(f"{path}: no train or test rows (only dev)")
    return rows


def _header(path: Path, fmt: str) -> list[str]:
    """The header row as written: pandas renames a repeated column (``label``, ``label.1``)."""
    import csv
    import io

    opener = gzip.open if path.suffix.lower() == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
            first = handle.readline()
    except (OSError, UnicodeDecodeError, EOFError):
        return []
    return next(csv.reader(io.StringIO(first), delimiter="\t" if fmt == "tsv" else ","), [])


def _check_unique_columns(path: Path, fmt: str, columns: list[Any], wanted: list[str]) -> None:
    """A column used by the task that appears twice: which one holds the labels is a guess, so refuse."""
    names = [str(c) for c in columns] if fmt == "parquet" else [c.strip() for c in _header(path, fmt)]
    for name in wanted:
        where = [i for i, c in enumerate(names, start=1) if c == name]
        if len(where) > 1:
            raise SequenceError(
                f"{path}: column {name!r} appears {len(where)} times in the header (columns "
                f"{', '.join(map(str, where))}); which one to use is a guess. Fix: rename or drop the others"
            )


def _check_delimiter(raw: object, fmt: str, where: str) -> None:
    """A row written with the other delimiter lands whole in the first column (its label missing): say
    so, rather than report its label or a digit as a bad base."""
    other = {"csv": ("\t", "a tab"), "tsv": (",", "a comma")}.get(fmt)
    if other is not None and isinstance(raw, str) and other[0] in raw:
        raise SequenceError(
            f"{where}: the sequence field holds {other[1]} in a {fmt.upper()} file (mixed delimiters?)"
        )


def _fasta_lines(path: Path) -> list[str]:
    # utf-8-sig: a byte-order mark (Windows editors) would otherwise hide the first '>' header
    try:
        if path.suffix.lower() == ".gz":
            with gzip.open(path, "rt", encoding="utf-8-sig") as handle:
                return handle.read().splitlines()
        return path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise SequenceError(f"{path}: cannot read: {exc}") from exc


def read_fasta(path: Path, label: int | None = None, header_label: str | None = None) -> Rows:
    """FASTA: every record gets ``label`` (one file per class) or the label found in its header.

    ``header_label`` is a regex whose first group is the label (default ``label=(\\S+)``, e.g.
    ``>seq12 label=1``). Errors name the record number, its header and the line it starts on. A file given
    with a label whose headers carry another one is refused: which of the two is right is a guess.
    """
    pattern = re.compile(header_label or DEFAULT_HEADER_LABEL)
    records: list[tuple[int, str, list[str]]] = []  # (line number, header, sequence lines)
    for number, line in enumerate(_fasta_lines(path), start=1):
        stripped = line.strip()
        if stripped.startswith(">"):
            records.append((number, stripped[1:].strip(), []))
        elif stripped.startswith(";") or not stripped:
            continue
        elif not records:
            raise SequenceError(
                f"{path} line {number}: sequence text before the first '>' header (not FASTA?)"
            )
        else:
            records[-1][2].append(stripped)
    if not records:
        raise SequenceError(f"{path}: no FASTA records")
    rows = Rows()
    for index, (start, header, chunks) in enumerate(records, start=1):
        where = f"{path} record {index} (>{header[:60]}, line {start})"
        rows.sequences.append(normalise("".join(chunks), where))
        found = pattern.search(header)
        if label is None:
            if found is None:
                raise SequenceError(
                    f"{where}: label is missing (no match for {pattern.pattern!r} in the header)"
                )
            rows.labels.append(parse_label(found.group(1) if pattern.groups else found.group(0), where))
            continue
        if found is not None:
            raw = found.group(1) if pattern.groups else found.group(0)
            try:
                in_header: int | None = parse_label(raw, where)
            except SequenceError:
                in_header = None  # not a label (e.g. "label=promoter" text): the file's label holds
            if in_header is not None and in_header != label:
                raise SequenceError(
                    f"{where}: the header says label {in_header}, the task file gives this file label "
                    f"{label}. Fix: drop one of the two (or make them agree)"
                )
        rows.labels.append(label)
    return rows


def read_file(
    path: Path,
    fmt: str | None = None,
    text_column: str = "text",
    label_column: str = "label",
    split_column: str | None = None,
    label: int | None = None,
    header_label: str | None = None,
) -> Rows:
    """Dispatch on the format; ``label`` (a constant class for every row) is for FASTA files per class."""
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise SequenceError(f"{path}: unknown format {fmt!r}; use one of {list(FORMATS)}")
    if not path.is_file():
        raise SequenceError(f"{path}: cannot read: {'a directory' if path.is_dir() else 'file not found'}")
    if fmt == "fasta":
        return read_fasta(path, label, header_label)
    if label is not None:
        raise SequenceError(f"{path}: a constant label is for FASTA files; tables take a label column")
    return read_table(path, text_column, label_column, split_column, fmt)
