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


def protocol_label(
    seeds: tuple[int, ...] | list[int] = SEEDS,
    probe_implementation: str = "sklearn",
    long_input: str = "truncate",
    probe: str = PROBE,
) -> str:
    """The protocol a run measured under: ``geneb-1.0`` only when seeds, probe and input policy are the
    protocol's; otherwise a named variant (``geneb-1.0+seeds=1,2,3+probe=torch``; another registered probe:
    ``probe=ridge``, or ``probe=ridge.torch`` in another implementation), never the protocol's name."""
    parts = []
    if tuple(int(s) for s in seeds) != SEEDS:
        parts.append("seeds=" + ",".join(str(int(s)) for s in seeds))
    if probe != PROBE:
        parts.append(
            f"probe={probe}" + (f".{probe_implementation}" if probe_implementation != "sklearn" else "")
        )
    elif probe_implementation != "sklearn":
        parts.append(f"probe={probe_implementation}")
    if long_input != "truncate":
        parts.append(f"long_input={long_input}")
    return "+".join([PROTOCOL_VERSION, *parts])


def is_protocol(label: str) -> bool:
    """Whether results labelled ``label`` were measured under the published protocol itself (not a variant)."""
    return label == PROTOCOL_VERSION


def get_regime(name: str) -> Regime:
    try:
        return _BY_NAME[name.strip()]
    except KeyError:
        raise ValueError(f"unknown regime {name!r}; known: {', '.join(_BY_NAME)}") from None
