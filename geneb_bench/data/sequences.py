"""Sequence normalisation: upper case, U->T, whitespace stripped, ``N`` kept, anything else an error.

IUPAC ambiguity codes other than N (R, Y, K, ...) are rejected rather than silently mapped: GENEB's
published tasks contain none, and each model family tokenises them differently.
"""

from __future__ import annotations

import re

ALPHABET = frozenset("ACGTN")
_WHITESPACE = re.compile(r"\s+")


class SequenceError(ValueError):
    """A bad sequence, with the place it came from."""


def normalise(raw: object, where: str) -> str:
    """Return the normalised sequence; ``where`` (e.g. ``"train.csv row 12"``) goes into the error."""
    if not isinstance(raw, str):
        raise SequenceError(f"{where}: sequence is missing or not text ({raw!r})")
    seq = _WHITESPACE.sub("", raw).upper().replace("U", "T")
    if not seq:
        raise SequenceError(f"{where}: empty sequence")
    bad = set(seq) - ALPHABET
    if bad:
        char = min(bad, key=seq.index)
        raise SequenceError(
            f"{where}: invalid character {char!r} at position {seq.index(char) + 1} "
            "(allowed: A, C, G, T, N; U is read as T)"
        )
    return seq
