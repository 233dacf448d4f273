"""Repository-level pytest configuration.

The geneb plugin itself is registered through the ``pytest11`` entry point when the package is installed
(``python3 dev.py`` does that); this file only holds what is specific to working in the repository.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]  # the plugin, reliability and runner tests build benchmark projects

SHARED_DATA = Path(__file__).resolve().parent.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real labelled DNA in ../shared/data (never copied into the project); skip when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}")
    return SHARED_DATA
