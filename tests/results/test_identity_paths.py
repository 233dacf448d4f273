"""Result paths are one-to-one over (suite, variant, model slot and identity, task, regime); one slot holding
two model identities is shown as two rows, never merged (docs/identity.md)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from geneb_bench.protocol import PROTOCOL_VERSION, protocol_label
from geneb_bench.results.record import (
    ItemResult,
    identity_hash,
    path_part,
    read_result,
    result_path,
    scope_name,
    write_result,
)
from geneb_bench.results.resultset import ResultSet
from tests.results.test_record import _result

# Names a user types: suites, tasks, model names; spaces, separators, dots, non-Latin scripts, tildes.
names = st.text(
    alphabet=st.sampled_from([*list("ab_-.+ ~/=,"), "é", "Δ", "基", "因", "Я"]), min_size=0, max_size=6
)
variants = st.sampled_from(
    [
        PROTOCOL_VERSION,
        protocol_label(seeds=(13,)),
        protocol_label(seeds=(1, 2)),
        protocol_label(probe_implementation="torch"),
        protocol_label(long_input="chunk"),
        PROTOCOL_VERSION + "+probe=a b",
        PROTOCOL_VERSION + "+probe=a__b",
    ]
)
identities = st.sampled_from([None, {"key": "k", "revision": "local-1"}, {"key": "k", "revision": "local-2"}])
items = st.tuples(names, variants, names, identities, names, st.sampled_from(["full", "10shot", "1shot"]))


def _path(item: tuple[Any, ...]) -> Path:
    suite, protocol, model, identity, task, regime = item
    scope = scope_name(suite or "s", protocol)
    return result_path(Path("/r"), model, task, regime, scope, identity)


@settings(max_examples=400, deadline=None)
@given(items, items)
def test_result_paths_are_one_to_one(a: tuple[Any, ...], b: tuple[Any, ...]) -> None:
    def norm(item: tuple[Any, ...]) -> tuple[Any, ...]:  # what the path is meant to tell apart
        suite, protocol, model, identity, task, regime = item
        own = identity is None or identity.get("key") == model  # a model's own key: no identity in the path
        return (suite or "s", protocol, model, None if own else identity, task, regime)

    if norm(a) != norm(b):
        assert _path(a) != _path(b), (a, b)


def test_the_reported_collisions_are_apart_and_safe_names_keep_their_folders() -> None:
    assert scope_name("a b") != scope_name("a__b")
    assert scope_name("基因") != scope_name("遺伝")  # safe_key made both "model"-like "__"
    assert scope_name("a+seeds=13") != scope_name("a", protocol_label(seeds=(13,)))
    # names that already fit a file keep their folder (older results resume)
    assert scope_name("lite") == "lite"
    assert scope_name("reliability", protocol_label(seeds=(13, 17))) == "reliability+seeds__13__17"
    assert path_part("kmer-3") == "kmer-3"
    assert path_part("a b").startswith("a__b~")
    assert len(path_part("a b")) == len("a__b~") + 8


def _one(model: str, revision: str, mcc: float, task: str = "good_a") -> ItemResult:
    base = _result()
    identity = {"key": "parent__ckpt-" + revision, "revision": revision}
    return dataclasses.replace(
        base,
        model=model,
        task_id=task,
        model_identity=identity,
        model_hash=identity_hash(identity),
        mean={**base.mean, "mcc": mcc},
        std={**base.std, "mcc": 0.0},
        per_seed=[{**seed, "mcc": mcc} for seed in base.per_seed],  # a mean is what its seeds give
    )


def test_two_identities_under_one_name_are_written_and_shown_apart(tmp_path: Path) -> None:
    old, new = _one("my-dna-bert", "local-aaaa", 0.5), _one("my-dna-bert", "local-bbbb", 0.4)
    paths = {write_result(tmp_path, old), write_result(tmp_path, new)}
    assert len(paths) == 2  # the retrained checkpoint does not overwrite the first one's result
    loaded = ResultSet.load(tmp_path)
    shown = sorted(loaded.frame["model"])
    assert shown == sorted([f"my-dna-bert@{old.model_hash[:8]}", f"my-dna-bert@{new.model_hash[:8]}"])
    # one identity under the name: the plain name, no suffix
    alone = tmp_path / "alone"
    write_result(alone, old)
    assert list(ResultSet.load(alone).frame["model"]) == ["my-dna-bert"]


def test_the_identity_hash_is_a_field_and_older_files_get_it_on_reading(tmp_path: Path) -> None:
    result = _result()
    assert result.model_hash == identity_hash({"key": "kmer-3"})
    path = write_result(tmp_path, result)
    text = path.read_text().replace(f'"model_hash": "{result.model_hash}",', "")
    path.write_text(text)
    assert "model_hash" not in text
    assert read_result(path).model_hash == result.model_hash


def test_merging_keeps_two_identities_under_one_name(tmp_path: Path) -> None:
    from geneb_bench.results.merge import merge_dirs

    old, new = _one("my-dna-bert", "local-aaaa", 0.5), _one("my-dna-bert", "local-bbbb", 0.4)
    write_result(tmp_path / "a", old)
    write_result(tmp_path / "b", new)
    report = merge_dirs([tmp_path / "a", tmp_path / "b"], tmp_path / "merged")
    assert len(report.written) == 2
    assert len(ResultSet.load(tmp_path / "merged")) == 2
