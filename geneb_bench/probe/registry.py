"""Probes: *which* probe (``logistic-regression``, the protocol's) apart from *which implementation* runs it
(``sklearn``, ``torch``). Both are recorded in every result and are part of its provenance.

A probe implementation is one function, registered by decorator::

    from sklearn.linear_model import RidgeClassifier
    from geneb_bench.probe.registry import Fit, register_probe

    @register_probe("ridge", "sklearn")
    def ridge(jobs, x_train, y_train, x_test, device):
        return [Fit(RidgeClassifier().fit(*job.select(x_train, y_train)).predict(x_test)) for job in jobs]

or by an installed package's entry point in group ``geneb_bench.probes`` named ``<probe>.<implementation>``
(``ridge.sklearn = "my_pkg.ridge:ridge"``). It receives every distinct training draw of one task at once
(so it may batch them) and returns one ``Fit`` per draw: the k-shot draws, the reuse of identical fits,
one-class draws (a constant prediction, never passed to an implementation), scoring and records are the
harness's (``evaluate``). An unknown probe or implementation is an error listing the known ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from geneb_bench.extension import Registry
from geneb_bench.protocol import PROBE

ENTRY_POINT_GROUP = "geneb_bench.probes"


@dataclass(frozen=True)
class FitJob:
    """One distinct fit: its training rows (None = all, in order) and the first seed that asked for it."""

    rows: npt.NDArray[np.int64] | None
    seed: int

    def select(self, x_train: Any, y_train: Any) -> tuple[Any, Any]:
        """This fit's training rows of ``x_train`` and ``y_train``."""
        if self.rows is None:
            return x_train, y_train
        return x_train[self.rows], y_train[self.rows]


@dataclass(frozen=True)
class Fit:
    """What one fit gives back: test-split predictions, and how the solver did."""

    predictions: npt.NDArray[Any]
    n_iter: int = 0  # solver iterations (0 when the probe has none)
    converged: bool = True
    warnings: int = 0  # convergence warnings raised (counted, never printed)
    note: str | None = None  # anything a reader of the result must know, e.g. why it did not converge


class FitPredict(Protocol):
    def __call__(
        self, jobs: Sequence[FitJob], x_train: Any, y_train: npt.NDArray[np.integer], x_test: Any, device: str
    ) -> list[Fit]: ...


@dataclass(frozen=True)
class ProbeImplementation:
    """One registered implementation of one probe.

    ``on_device``: the implementation runs where the models run (``--geneb-device``) and receives torch
    tensors already there (kept for the task's other regimes); otherwise numpy arrays, on the CPU.
    """

    probe: str
    implementation: str
    fit_predict: FitPredict
    on_device: bool = False

    @property
    def origin_of(self) -> object:
        return self.fit_predict


def _adapt(name: str, loaded: Any) -> ProbeImplementation:
    """An entry point ``<probe>.<implementation>`` naming a plain (undecorated) function."""
    probe, _, implementation = name.rpartition(".")
    if not probe or not callable(loaded):
        raise ValueError(
            f"probe entry point {name!r}: name it <probe>.<implementation> and point it at a function"
        )
    return ProbeImplementation(probe, implementation, loaded)


PROBES: Registry[ProbeImplementation] = Registry(
    "probe", ENTRY_POINT_GROUP, builtins=("geneb_bench.probe.logistic",), adapt=_adapt
)
_DEFAULTS: dict[str, str] = {}  # probe -> its default implementation (the first registered, or default=True)


def register_probe(
    probe: str, implementation: str, *, on_device: bool = False, default: bool = False
) -> Callable[[FitPredict], FitPredict]:
    """Decorator: register ``fit_predict`` as ``implementation`` of ``probe`` (see the module doc)."""

    if not implementation or "." in implementation:
        raise ValueError(f"probe implementation name {implementation!r}: empty or with a '.'")

    def decorate(fit_predict: FitPredict) -> FitPredict:
        PROBES.register(
            f"{probe}.{implementation}", ProbeImplementation(probe, implementation, fit_predict, on_device)
        )
        if default or probe not in _DEFAULTS:
            _DEFAULTS[probe] = implementation
        return fit_predict

    return decorate


def get_probe(probe: str = PROBE, implementation: str | None = None) -> ProbeImplementation:
    """The registered ``implementation`` of ``probe`` (None: the probe's default); unknown is a ValueError."""
    if implementation is not None and f"{probe}.{implementation}" in PROBES:  # no entry-point scan needed
        return PROBES.get(f"{probe}.{implementation}")
    ways = known_probes()
    if probe not in ways:
        raise ValueError(f"unknown probe {probe!r}; known: {', '.join(sorted(ways))}")
    if implementation is None:
        implementation = ways[probe][0]
    if implementation not in ways[probe]:
        raise ValueError(
            f"unknown implementation {implementation!r} of probe {probe!r}; known: {', '.join(ways[probe])}"
        )
    return PROBES.get(f"{probe}.{implementation}")


def known_probes() -> dict[str, list[str]]:
    """probe -> its implementations, default first (for ``--help`` texts and error messages)."""
    out: dict[str, list[str]] = {}
    for name in PROBES.names():
        probe, _, implementation = name.rpartition(".")
        out.setdefault(probe, []).append(implementation)
    for probe, ways in out.items():
        if (first := _DEFAULTS.get(probe)) in ways:
            ways.sort(key=lambda w: w != first)
    return out
