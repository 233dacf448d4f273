"""CSV tasks: read_split, load_split_pair and the published layout, on synthetic and real data."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from geneb_bench.data.csv_tasks import TaskUnavailable, load_published_layout, load_split_pair, read_split
from geneb_bench.data.sequences import SequenceError
from geneb_bench.data.task import TaskSpec

SPEC = TaskSpec(task_id="toy_task", category="Promoters")
REAL_TASK = "leannmlindsey_GUE_prom_300_tata"


def _csv(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _pair(tmp_path: Path, train: str, test: str) -> tuple[Path, Path]:
    return _csv(tmp_path / "train.csv", train), _csv(tmp_path / "test.csv", test)


# ---- read_split --------------------------------------------------------------------------------------


def test_read_split_normalises(tmp_path: Path) -> None:
    path = _csv(tmp_path / "s.csv", "text,label\nacgt,0\nACGU,1\n  AC GT ,1\nNNAN,0\nNA,1\n")
    seqs, labels = read_split(path)
    assert seqs == ["ACGT", "ACGT", "ACGT", "NNAN", "NA"], "'NA' is a sequence, not a missing value"
    assert labels == [0, 1, 1, 0, 1]


def test_read_split_integer_like_labels(tmp_path: Path) -> None:
    path = _csv(tmp_path / "s.csv", "text,label\nA,1.0\nC,-2\nG,3\n")
    assert read_split(path)[1] == [1, -2, 3]


def test_read_split_other_columns(tmp_path: Path) -> None:
    path = _csv(tmp_path / "s.csv", "id,seq,y\n1,ACGT,0\n2,GG,1\n")
    assert read_split(path, text_column="seq", label_column="y") == (["ACGT", "GG"], [0, 1])


def test_invalid_character_names_file_row_and_char(tmp_path: Path) -> None:
    path = _csv(tmp_path / "train.csv", "text,label\nACGT,0\nACGX,1\nACGT,1\n")
    with pytest.raises(SequenceError) as info:
        read_split(path)
    message = str(info.value)
    assert message.startswith(f"{path} row 2: ")
    assert "invalid character 'X' at position 4" in message


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        ("text,label\nACGT,0\n,1\n", r"row 2: sequence is missing or not text"),
        ("text,label\nACGT,0\n   ,1\n", r"row 2: empty sequence"),
        ("text,label\nACGT,0\nACGT,\n", r"row 2: label is missing"),
        ("text,label\nACGT,0\nACGT,1.5\n", r"row 2: label 1\.5 is not an integer"),
        ("text,label\nACGT,0\nACGT,abc\n", r"row 2: label 'abc' is not an integer"),
        ("text,label\nACGT,0\nACGT,NA\n", r"row 2: label 'NA' is not an integer"),
        ("text,y\nACGT,0\n", r"missing column\(s\) \['label'\]; found \['text', 'y'\]"),
        ("sequence,label\nACGT,0\n", r"missing column\(s\) \['text'\]; found \['sequence', 'label'\]"),
        ("text,label\n", r"no rows"),
        ("", r"cannot read"),
    ],
    ids=[
        "empty-sequence",
        "blank-sequence",
        "missing-label",
        "float-label",
        "text-label",
        "NA-label",
        "missing-label-column",
        "missing-text-column",
        "no-rows",
        "empty-file",
    ],
)
def test_read_split_errors(tmp_path: Path, body: str, pattern: str) -> None:
    path = _csv(tmp_path / "bad.csv", body)
    with pytest.raises(SequenceError) as info:
        read_split(path)
    message = str(info.value)
    assert message.startswith(str(path)), "every error names the file"
    assert re.search(pattern, message), message


def test_missing_label_message_is_clear(tmp_path: Path) -> None:
    path = _csv(tmp_path / "bad.csv", "text,label\nACGT,0\nACGT,1\nACGT,\n")
    with pytest.raises(SequenceError, match=r"row 3: label is missing"):
        read_split(path)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(SequenceError, match="cannot read"):
        read_split(tmp_path / "absent.csv")


# ---- load_split_pair ---------------------------------------------------------------------------------


def test_labels_map_to_sorted_train_classes(tmp_path: Path) -> None:
    train, test = _pair(
        tmp_path,
        "text,label\nA,10\nC,2\nG,-1\nT,10\nAA,2\n",
        "text,label\nA,2\nC,10\nG,2\n",
    )
    task = load_split_pair(SPEC, train, test, revision="r1")
    assert task.label_names == ("-1", "2", "10"), "numeric sort, not lexicographic"
    assert task.n_classes == 3
    np.testing.assert_array_equal(task.train_labels, [2, 1, 0, 2, 1])
    np.testing.assert_array_equal(task.test_labels, [1, 2, 1])
    assert task.train_labels.dtype == np.int64
    assert list(task.train_sequences) == ["A", "C", "G", "T", "AA"]
    assert task.revision == "r1"
    assert task.spec is SPEC


def test_test_may_lack_a_train_class(tmp_path: Path) -> None:
    train, test = _pair(tmp_path, "text,label\nA,0\nC,1\nG,2\n", "text,label\nA,0\nC,2\n")
    task = load_split_pair(SPEC, train, test, None)
    assert task.n_classes == 3
    np.testing.assert_array_equal(task.test_labels, [0, 2])


@pytest.mark.parametrize(
    ("train_body", "test_body", "bad", "pattern"),
    [
        (
            "text,label\nA,0\nC,1\n",
            "text,label\nA,0\nC,2\nG,1\n",
            "test",
            r"label\(s\) \[2\] appear in test but never in train",
        ),
        (
            "text,label\nA,1\nC,1\n",
            "text,label\nA,0\nC,1\n",
            "train",
            r"only one class \(1\) in the training split",
        ),
        (
            "text,label\nA,0\nC,1\n",
            "text,label\nA,1\nC,1\n",
            "test",
            r"the test split has one class only; MCC would be undefined",
        ),
    ],
    ids=["class-only-in-test", "one-class-train", "one-class-test"],
)
def test_split_pair_errors(tmp_path: Path, train_body: str, test_body: str, bad: str, pattern: str) -> None:
    train, test = _pair(tmp_path, train_body, test_body)
    with pytest.raises(SequenceError) as info:
        load_split_pair(SPEC, train, test, None)
    message = str(info.value)
    assert message.startswith(str(train if bad == "train" else test))
    assert re.search(pattern, message), message


def test_error_in_test_split_names_test_file(tmp_path: Path) -> None:
    train, test = _pair(tmp_path, "text,label\nA,0\nC,1\n", "text,label\nA,0\nC,1\nGZ,0\n")
    with pytest.raises(SequenceError, match=rf"^{re.escape(str(test))} row 3: invalid character 'Z'"):
        load_split_pair(SPEC, train, test, None)


# ---- published layout --------------------------------------------------------------------------------


def test_published_layout_synthetic(tmp_path: Path) -> None:
    folder = tmp_path / "tasks" / SPEC.task_id
    folder.mkdir(parents=True)
    _pair(folder, "text,label\nACGT,0\nGGCC,1\n", "text,label\nAC,1\nGT,0\n")
    task = load_published_layout(SPEC, tmp_path, "v1")
    assert task.n_classes == 2
    assert list(task.test_sequences) == ["AC", "GT"]


def test_missing_task_folder(tmp_path: Path) -> None:
    with pytest.raises(TaskUnavailable) as info:
        load_published_layout(SPEC, tmp_path, None)
    message = str(info.value)
    assert str(tmp_path / "tasks" / SPEC.task_id / "train.csv") in message
    assert message.startswith(SPEC.task_id)


def test_only_train_present(tmp_path: Path) -> None:
    folder = tmp_path / "tasks" / SPEC.task_id
    folder.mkdir(parents=True)
    _csv(folder / "train.csv", "text,label\nA,0\nC,1\n")
    with pytest.raises(TaskUnavailable, match=r"test\.csv"):
        load_published_layout(SPEC, tmp_path, None)


def test_no_data_dir() -> None:
    with pytest.raises(TaskUnavailable, match="GENEB_DATA_DIR"):
        load_published_layout(SPEC, None, None)


def test_real_task(shared_data: Path, tmp_path: Path) -> None:
    root = shared_data / "geneb-tasks-subset"
    spec = TaskSpec(task_id=REAL_TASK, category="Promoters")
    task = load_published_layout(spec, root, None)
    assert len(task.train_sequences) == 4904
    assert len(task.test_sequences) == 613
    assert task.n_classes == 2
    assert task.label_names == ("0", "1")
    assert set(np.unique(task.train_labels)) == {0, 1}
    assert set(np.unique(task.test_labels)) == {0, 1}
    assert all(set(s) <= set("ACGTN") for s in task.train_sequences)
    fingerprint = task.fingerprint()
    assert len(fingerprint) == 64
    assert load_published_layout(spec, root, None).fingerprint() == fingerprint, "deterministic"

    # One base changed in a copy of the task (in tmp_path, never in the project) changes the fingerprint.
    src = root / "tasks" / REAL_TASK
    copy = tmp_path / "tasks" / REAL_TASK
    copy.mkdir(parents=True)
    (copy / "train.csv").write_bytes((src / "train.csv").read_bytes())
    lines = (src / "test.csv").read_text().splitlines(keepends=True)
    seq, rest = lines[7].split(",", 1)
    swapped = {"A": "C", "C": "G", "G": "T", "T": "A", "N": "A"}[seq[50]]
    lines[7] = seq[:50] + swapped + seq[51:] + "," + rest
    (copy / "test.csv").write_text("".join(lines))
    changed = load_published_layout(spec, tmp_path, None)
    assert changed.test_sequences[6] != task.test_sequences[6]
    assert sum(a != b for a, b in zip(changed.test_sequences, task.test_sequences, strict=True)) == 1
    assert changed.fingerprint() != fingerprint
