"""The embedding cache key: everything that changes a vector, built in one place.

The on-disk cache (``embeddings.cache``) addresses entries by the sha256 of this mapping, so a field added
here invalidates exactly the entries it should: a new model revision or recipe, another task content, a
dtype, a long-input policy, the engine's arithmetic (``ENGINE_VERSION``) and padding grid (``PADDING_POLICY``)
and the libraries that compute the forward pass (torch, transformers), whose upgrades can move vectors.
"""

from __future__ import annotations

from functools import cache
from importlib import metadata
from typing import Any

from geneb_bench import __version__
from geneb_bench.embeddings.engine import ENGINE_VERSION, PADDING_POLICY


@cache
def library_versions() -> dict[str, str]:
    """The versions of the libraries that compute vectors (read from package metadata: no import)."""
    versions = {}
    for name in ("torch", "transformers"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def embedding_key(
    *, model_identity: dict[str, Any], task_id: str, task_fingerprint: str, dtype: str, long_input: str
) -> dict[str, Any]:
    """The cache key parts of one (model, task) embedding."""
    return {
        "harness": __version__,
        "engine": ENGINE_VERSION,
        "padding": PADDING_POLICY,
        "libraries": library_versions(),
        "model": model_identity,
        "task_id": task_id,
        "task_fingerprint": task_fingerprint,
        "dtype": dtype,
        "long_input": long_input,
    }
