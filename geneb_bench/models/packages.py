"""Zoo models served by their own package (SPACE, BioFM, Enformer), loaded at their pinned commit only.

Their packages' loaders take a hub id and fetch whatever its ``main`` is today, so the authors' extractor
(run with ``--geneb-model python:module:function``) would embed with unpinned weights. ``load_pinned(key)``
is what such an extractor calls instead: the entry's files at the commit of ``model_revisions.csv`` are
fetched as a snapshot (only the files a load reads), checked against ``model_files.csv`` (a missing or
altered file refuses the model), and the package's own class loads that folder, so what was checked is what
runs. Where no verified snapshot can be had, the pinned revision is passed to the package loader.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from geneb_bench.models.base import ModelUnavailable

# zoo key -> (module, class) of the package's loader, as the authors' READMEs load them
PACKAGE_LOADERS: dict[str, tuple[str, str]] = {
    "space": ("model.modeling_space", "Space"),  # github.com/ZhuJiwei111/SPACE: Space.from_pretrained
    "BioFM-265M": ("biofm_eval", "AnnotatedModel"),  # github.com/m42-health/biofm-eval
    "enformer-official-rough": ("enformer_pytorch", "Enformer"),  # pip install enformer-pytorch
}


def load_pinned(key: str, **kwargs: Any) -> Any:
    """The package model of zoo entry ``key`` at its pinned commit, files verified (``kwargs`` go to the
    package's ``from_pretrained``, e.g. ``torch_dtype``). A missing package or an unverifiable snapshot is
    ``ModelUnavailable`` naming the fix."""
    from geneb_bench.models.loading import import_problem, install_hint, is_commit, verified_source
    from geneb_bench.models.registry import registry_entry

    spec = registry_entry(key)
    if spec is None or key not in PACKAGE_LOADERS:
        raise ValueError(
            f"{key!r} is not a zoo model served by its own package ({', '.join(PACKAGE_LOADERS)})"
        )
    if spec.source is None or not is_commit(spec.revision):
        raise ModelUnavailable(f"{key}: no pinned commit for {spec.source or spec.weights_note}")
    module, name = PACKAGE_LOADERS[key]
    problem = import_problem(module)
    if problem is not None:
        raise ModelUnavailable(
            f"{key}: {problem}. Fix: {install_hint(spec.requires[0] if spec.requires else module)}"
        )
    loader = getattr(importlib.import_module(module), name)
    source = verified_source(spec)  # the pinned snapshot, checked against model_files.csv
    if Path(source).is_dir():
        return loader.from_pretrained(source, **kwargs)
    return loader.from_pretrained(source, revision=spec.revision, **kwargs)
