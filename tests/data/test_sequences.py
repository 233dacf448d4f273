"""normalise: upper case, U->T, whitespace stripped, N kept, everything else a located error."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geneb_bench.data.sequences import ALPHABET, SequenceError, normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("acgt", "ACGT"),
        ("AcGtN", "ACGTN"),
        ("ACGU", "ACGT"),
        ("acgu", "ACGT"),
        ("  AC GT\tN\nNA \r\n", "ACGTNNA"),
        ("NNNN", "NNNN"),
        ("nA", "NA"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw, "x") == expected


@pytest.mark.parametrize("raw", ["", "   ", "\t\n"])
def test_empty(raw: str) -> None:
    with pytest.raises(SequenceError, match=r"^train\.csv row 4: empty sequence$"):
        normalise(raw, "train.csv row 4")


@pytest.mark.parametrize("raw", [None, 12, 1.5, b"ACGT"])
def test_not_text(raw: object) -> None:
    with pytest.raises(SequenceError, match=r"^f\.csv row 2: sequence is missing or not text"):
        normalise(raw, "f.csv row 2")


@pytest.mark.parametrize(
    ("raw", "char", "position"),
    [
        ("ACGX", "X", 4),
        ("acgr", "R", 4),
        ("AC-GT", "-", 3),
        ("A C*G", "*", 3),
        ("ACYGRT", "Y", 3),
        ("ÄCGT", "Ä", 1),
    ],
)
def test_invalid_character(raw: str, char: str, position: int) -> None:
    with pytest.raises(SequenceError) as info:
        normalise(raw, "data/test.csv row 9")
    message = str(info.value)
    assert message.startswith("data/test.csv row 9: ")
    assert f"invalid character {char!r} at position {position}" in message
    assert "allowed: A, C, G, T, N" in message


def test_sequence_error_is_value_error() -> None:
    assert issubclass(SequenceError, ValueError)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ACGTUNacgtun \t", max_size=60))
def test_normalise_property(raw: str) -> None:
    expected = "".join(raw.split()).upper().replace("U", "T")
    if not expected:
        with pytest.raises(SequenceError, match="empty sequence"):
            normalise(raw, "w")
        return
    out = normalise(raw, "w")
    assert set(out) <= ALPHABET
    assert out == expected
    assert out.count("N") == raw.upper().count("N")
    assert normalise(out, "w") == out, "idempotent"
