"""The GENEB benchmark: ``pytest suites/`` runs every model x task x regime (see README for options)."""

from __future__ import annotations

from geneb_bench.benchmark import test_geneb

__all__ = ["test_geneb"]
