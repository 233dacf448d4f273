"""What every model is to the harness: a spec (metadata + recipe) and an embedder built from it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Embeddings = npt.NDArray[np.float32]


class Embedder(Protocol):
    """The authors' extractor interface, made explicit: sequences in, one float32 row per sequence out."""

    def embed(self, sequences: Sequence[str]) -> Embeddings: ...

    def close(self) -> None:
        """Release weights and device memory; the embedder is not used afterwards."""


class ModelUnavailable(RuntimeError):
    """A model cannot run on this machine (missing package, no weights offline): its items are skipped."""


@dataclass(frozen=True)
class ModelSpec:
    """A model as the registry knows it. ``identity()`` is everything that changes its vectors."""

    key: str  # GENEB leaderboard key or built-in key (with the hash of a local folder): part of the identity
    family: str  # which builder makes the embedder: "kmer", "random-transformer", "hf"
    display_name: str = ""
    params: int | None = None
    source: str | None = None  # hub id or local path
    revision: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)  # the family's recipe
    description: str = ""
    architecture: str = ""
    tokenization: str = ""
    pretraining_data: str = ""
    # Metadata that does not change vectors (so not in identity): where the model comes from and what it needs.
    group: str = ""  # "geneb" (the 40 published models), "baseline", "extra", "" (resolved at run time)
    rank: int | None = None  # rank in the published table
    weights: str = ""  # "hub", "local" (user passes a path), "package", "local-dir", "extractor"
    weights_note: str = ""  # where weights that are not on the hub live
    licence: str = ""
    requires: tuple[str, ...] = ()  # importable modules the model needs (mamba_ssm, flash_attn, ...)
    stand_in: str = ""  # the tiny offline family that tests this recipe
    real_code: str = ""  # the shared/models/ folder with the family's real remote code ("" = none public)
    authors_extraction: str = ""  # the GENEB authors' extractor, as they describe it
    notes: str = ""  # deviations from the authors' extractor, and why
    # How the user allowed remote code that is not the pinned bytes ("[trust_remote_code=true]",
    # "--geneb-trust-remote-code"; "" = not allowed): a local folder's Python runs only then or when it matches.
    remote_code_opt_in: str = ""
    # The user's name for the model (``[name=...]``; a local folder's name by default): its slot in tables, the
    # release gate, figures and submissions. Not in the identity: renaming a model never recomputes it.
    name: str = ""

    @property
    def slot(self) -> str:
        """What results, item ids and tables call the model: its name, else its key."""
        return self.name or self.key

    def identity(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "family": self.family,
            "source": self.source,
            "revision": self.revision,
            "options": dict(sorted(self.options.items())),
        }

    def metadata(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.slot,
            "display_name": self.display_name or self.key,
            "family": self.family,
            "params": self.params,
            "source": self.source,
            "revision": self.revision,
            "architecture": self.architecture,
            "tokenization": self.tokenization,
            "pretraining_data": self.pretraining_data,
            "description": self.description,
            "options": dict(self.options),
            "group": self.group,
            "rank": self.rank,
            "weights": self.weights,
            "weights_note": self.weights_note,
            "licence": self.licence,
            "requires": list(self.requires),
            "stand_in": self.stand_in,
            "real_code": self.real_code,
            "authors_extraction": self.authors_extraction,
            "notes": self.notes,
        }
