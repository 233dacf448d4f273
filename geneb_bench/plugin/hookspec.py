"""Hooks a ``conftest.py`` (or an installed pytest plugin) implements to extend a GENEB run.

Registered by the geneb plugin through ``pytest_addhooks``. pytest only calls functions named
``pytest_*``, hence the prefix. The ``register`` hooks are called once per process when a GENEB run starts
(before the models are resolved), so they must live in a ``conftest.py`` that pytest reads at start-up: the
rootdir's, or one in a directory named on the command line. docs/extending.md has a worked example.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from geneb_bench.data.suites import Suite
    from geneb_bench.models.base import ModelSpec
    from geneb_bench.results.record import ItemResult


@pytest.hookspec
def pytest_geneb_register_models(config: pytest.Config) -> Iterable[ModelSpec] | None:
    """Return models (``ModelSpec``) to add to the registry, so ``--geneb-model KEY`` names them.

    Their ``family`` must be known: a built-in one (``hf`` for a transformers checkpoint, ``extractor``) or
    one registered with ``@geneb_bench.models.registry.register_family``.
    """


@pytest.hookspec
def pytest_geneb_register_tasks(
    config: pytest.Config,
) -> Suite | str | Path | Iterable[Suite | str | Path] | None:
    """Return suites (``Suite`` objects or paths to TOML/YAML suite files) to make selectable by name with
    ``--geneb-suite NAME``."""


@pytest.hookspec
def pytest_geneb_result_fields(result: ItemResult, item: pytest.Item) -> Mapping[str, Any] | None:
    """Return extra fields for the result of ``item`` (JSON values), stored under ``extra`` in its file.

    Called for every newly computed result, before it is written; a resumed result keeps the fields it was
    written with. On a clash between plugins, the one registered last wins. The fields are not part of the
    result's provenance: they never decide whether two results are comparable.
    """
