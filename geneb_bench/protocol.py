"""The GENEB protocol constants (``geneb-1.0``), exactly as docs/geneb-protocol.md states them."""

from __future__ import annotations

from dataclasses import dataclass

PROTOCOL_VERSION = "geneb-1.0"
SEEDS: tuple[int, ...] = (13, 17, 42, 123, 997)
PROBE_MAX_ITER = 1000
PROBE = "logistic-regression"  # the protocol's probe; implementations of it: sklearn (default), torch


@dataclass(frozen=True)
class Regime:
    name: str
    shots: int | None  # examples per class; None = all training rows


REGIMES: tuple[Regime, ...] = (Regime("full", None), Regime("10shot", 10), Regime("1shot", 1))
_BY_NAME = {r.name: r for r in REGIMES}


def get_regime(name: str) -> Regime:
    try:
        return _BY_NAME[name.strip()]
    except KeyError:
        raise ValueError(f"unknown regime {name!r}; known: {', '.join(_BY_NAME)}") from None
