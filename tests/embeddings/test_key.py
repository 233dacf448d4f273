"""The embedding cache key: every part that changes a vector changes the key."""

from __future__ import annotations

from typing import Any

import pytest

from geneb_bench.embeddings import key as key_module
from geneb_bench.embeddings.cache import cache_key
from geneb_bench.embeddings.key import embedding_key

PARTS: dict[str, Any] = {
    "model_identity": {"key": "m", "revision": "r1"},
    "task_id": "t",
    "task_fingerprint": "fp",
    "dtype": "float32",
    "long_input": "truncate",
}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("model_identity", {"key": "m", "revision": "r2"}),
        ("task_fingerprint", "fp2"),
        ("dtype", "bfloat16"),
        ("long_input", "window"),
    ],
)
def test_each_part_changes_the_key(field: str, value: Any) -> None:
    assert cache_key(embedding_key(**{**PARTS, field: value})) != cache_key(embedding_key(**PARTS))


def test_engine_and_library_versions_change_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    assert set(key_module.library_versions()) == {"torch", "transformers"}
    before = cache_key(embedding_key(**PARTS))
    monkeypatch.setattr(key_module, "ENGINE_VERSION", "999")
    assert cache_key(embedding_key(**PARTS)) != before
    monkeypatch.undo()
    monkeypatch.setattr(key_module, "library_versions", lambda: {"torch": "9.9", "transformers": "4.0"})
    assert cache_key(embedding_key(**PARTS)) != before
