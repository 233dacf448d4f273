"""resolve_model, safe_key and the registry's invariants."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geneb_bench.io import safe_key
from geneb_bench.models.base import Embeddings, ModelSpec
from geneb_bench.models.kmer import KmerEmbedder
from geneb_bench.models.registry import (
    BUILTIN_MODELS,
    DEFAULT_MODELS,
    build_embedder,
    list_models,
    resolve_model,
    resolve_models,
)
from tests.conftest import Sweep


def test_registry_keys() -> None:
    keys = [m.key for m in list_models()]
    assert len(keys) == len(set(keys))
    assert {m.key for m in BUILTIN_MODELS} == set(keys)
    assert set(DEFAULT_MODELS) <= set(keys)
    for key in keys:
        assert safe_key(key) == key


def test_resolve_registry_key() -> None:
    spec = resolve_model("kmer-3")
    assert spec.family == "kmer"
    assert spec.options == {"k": 3}
    emb = build_embedder(spec, "cpu")
    assert isinstance(emb, KmerEmbedder)
    assert emb.k == 3
    assert resolve_model("random-bert-tiny").family == "random-transformer"


def test_resolve_local_dir(tmp_path: Path) -> None:
    folder = tmp_path / "weird name (v2)"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    spec = resolve_model(str(folder))
    assert spec.family == "hf"
    assert spec.source == str(folder.resolve())
    assert re.fullmatch(rf"{tmp_path.name}__weird__name__v2__-[0-9a-f]{{8}}", spec.key), spec.key
    assert spec.revision is not None
    assert spec.revision.startswith("local-")
    (folder / "config.json").write_text('{"changed": true}')
    assert resolve_model(str(folder)).revision != spec.revision, "a changed file changes the local revision"


@pytest.mark.parametrize(
    ("name", "source", "revision", "key"),
    [
        ("org/name", "org/name", "main", "org__name"),
        ("org/name@main", "org/name", "main", "org__name"),
        ("org/name@rev", "org/name", "rev", "org__name+rev-rev"),
        ("someorg/DNA-model-117M", "someorg/DNA-model-117M", "main", "someorg__DNA-model-117M"),
        (
            "InstaDeepAI/nt.v2-50m@a1b2c3d",
            "InstaDeepAI/nt.v2-50m",
            "a1b2c3d",
            "InstaDeepAI__nt.v2-50m+rev-a1b2c3d",
        ),
        ("org/name@refs/pr/1", "org/name", "refs/pr/1", "org__name+rev-refs__pr__1"),
    ],
)
def test_resolve_hub_id(name: str, source: str, revision: str, key: str) -> None:
    spec = resolve_model(name)
    assert (spec.family, spec.source, spec.revision, spec.key) == ("hf", source, revision, key)
    assert spec.display_name == source


@pytest.mark.parametrize("name", ["no-such-model", "a/b/c", "org/na me", ""])
def test_unknown_name(name: str) -> None:
    with pytest.raises(ValueError, match="unknown model") as info:
        resolve_model(name)
    message = str(info.value)
    assert "kmer-3" in message, "the error lists the registry keys"
    assert "org/name[@revision]" in message


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [("kmer3", "'kmer-3'"), ("dnabert-s", "'DNABERT-S'"), ("random_bert_tiny", "'random-bert-tiny'")],
)
def test_an_unknown_name_close_to_a_key_gets_did_you_mean(typed: str, suggested: str) -> None:
    with pytest.raises(ValueError, match="did you mean") as info:
        resolve_model(typed)
    assert suggested in str(info.value).split("?")[0]


def test_a_name_far_from_every_key_gets_no_suggestion() -> None:
    with pytest.raises(ValueError, match="unknown model") as info:
        resolve_model("no-such-model-anywhere")
    assert "did you mean" not in str(info.value)


def test_resolve_models_rejects_duplicates() -> None:
    assert [s.key for s in resolve_models(["kmer-3", "kmer-4"])] == ["kmer-3", "kmer-4"]
    with pytest.raises(ValueError, match="given twice"):
        resolve_models(["kmer-3", "kmer-3"])


def test_unknown_family() -> None:
    with pytest.raises(
        ValueError, match="model 'x': unknown model family 'nope'; known: kmer, random-transformer"
    ):
        build_embedder(ModelSpec(key="x", family="nope"), "cpu")


def test_a_family_and_a_model_registered_in_a_few_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """A user's own embedder class is a family builder as it is; a taken key or family name is refused."""
    import numpy as np

    from geneb_bench.models import registry

    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))  # gone after the test
    monkeypatch.setattr(registry.FAMILIES, "_entries", dict(registry.FAMILIES._entries))

    @registry.register_family("length-test")
    class Length:
        def __init__(self, spec: ModelSpec, device: str) -> None:
            self.scale = float(spec.options["scale"])

        def embed(self, sequences: Sequence[str]) -> Embeddings:
            return np.array([[len(s) * self.scale] for s in sequences], dtype=np.float32)

        def close(self) -> None:
            pass

    spec = registry.register_model(ModelSpec(key="length-x2", family="length-test", options={"scale": 2}))
    assert registry.register_model(spec) is spec  # the same spec again: a no-op
    assert resolve_model("length-x2") == spec
    assert build_embedder(spec, "cpu").embed(["ACG", "A"]).tolist() == [[6.0], [2.0]]
    with pytest.raises(ValueError, match="model key 'kmer-3' is already registered"):
        registry.register_model(ModelSpec(key="kmer-3", family="length-test", options={"scale": 1}))
    with pytest.raises(ValueError, match="model family 'kmer' is already registered"):
        registry.register_family("kmer")(Length)
    with pytest.raises(ValueError, match="letters, digits"):
        registry.register_model(ModelSpec(key="a/b", family="length-test"))


def test_identity_covers_options() -> None:
    a = ModelSpec(key="m", family="hf", options={"pooling": "mean", "max_tokens": 5})
    b = ModelSpec(key="m", family="hf", options={"max_tokens": 5, "pooling": "mean"})
    c = ModelSpec(key="m", family="hf", options={"pooling": "cls", "max_tokens": 5})
    assert a.identity() == b.identity()
    assert a.identity() != c.identity()
    assert (
        ModelSpec(key="m", family="hf", revision="r1").identity()
        != ModelSpec(key="m", family="hf").identity()
    )


@settings(max_examples=300, deadline=None)
@given(st.text() | st.text(alphabet="./\\_-a", max_size=12))
def test_safe_key_is_a_safe_file_name(text: str) -> None:
    key = safe_key(text)
    assert key
    assert "/" not in key
    assert "\\" not in key
    assert os.sep not in key
    assert ".." not in key
    assert not key.startswith(".")
    assert key not in {".", ".."}
    assert Path(key).name == key
    root = Path("/base")
    assert (root / key).parent == root
    assert safe_key(key) == key, "idempotent"


@pytest.mark.parametrize(
    ("text", "expected"), [("..", "model"), ("../..", "model"), ("a/../b", "a__.__b"), ("", "model")]
)
def test_safe_key_examples(text: str, expected: str) -> None:
    assert safe_key(text) == expected


# ---- a zoo model by its hub id, and at another revision ----------------------------------------------------

HUB_ENTRIES = [s for s in BUILTIN_MODELS if s.weights == "hub" and s.source]


def test_a_zoo_models_hub_id_is_its_zoo_entry() -> None:
    """Its key, recipe, pinned revision and published row; not a new model with the default recipe."""
    from geneb_bench.models.loading import is_commit
    from geneb_bench.reports.published import model_metadata

    grover = resolve_model("GROVER")
    assert resolve_model("PoetschLab/GROVER") == grover
    assert grover.options["auto_class"] == "AutoModelForMaskedLM", "the zoo recipe, not the default"
    assert is_commit(grover.revision), "its pin"
    assert model_metadata(resolve_model("PoetschLab/GROVER").key)["display"] == "GROVER"
    assert resolve_model("zhihan1996/DNABERT-2-117M").key == "dnabert2-no-flashattention"
    tuned = resolve_model("PoetschLab/GROVER[pooling=cls]")
    assert tuned == resolve_model("GROVER[pooling=cls]"), "overrides apply to the zoo entry"


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(HUB_ENTRIES), st.integers(min_value=0, max_value=2**64 - 1))
def test_hub_ids_match_case_insensitively(entry: ModelSpec, upper: int) -> None:
    assert entry.source is not None
    typed = "".join(c.upper() if upper >> (i % 64) & 1 else c.lower() for i, c in enumerate(entry.source))
    assert resolve_model(typed) == entry
    assert resolve_model(f"{typed}@{entry.revision}") == entry, "at its own pin: the entry itself"


def test_key_at_revision_is_the_zoo_entry_at_that_revision() -> None:
    from geneb_bench.embeddings.key import embedding_key
    from geneb_bench.results.record import result_path

    pinned = resolve_model("GROVER")
    commit = "0123456789abcdef" * 2 + "01234567"
    for typed in (f"GROVER@{commit}", f"PoetschLab/GROVER@{commit}", f"poetschlab/grover@{commit}"):
        other = resolve_model(typed)
        assert other.revision == commit
        assert other.key == "GROVER+rev-0123456789ab"
        assert (other.options, other.source, other.group) == (pinned.options, pinned.source, "geneb")
        assert "not the published" in other.notes
    branch = resolve_model("GROVER@main")
    assert (branch.key, branch.revision) == ("GROVER+rev-main", "main")
    assert resolve_model("GROVER@main[pooling=cls]") == resolve_model("GROVER[pooling=cls,revision=main]")
    assert resolve_model("GROVER@main[pooling=cls]").key == "GROVER+pooling-cls+rev-main"
    assert resolve_model("org/name@v1[pooling=cls]") == resolve_model("org/name[revision=v1,pooling=cls]")
    with pytest.raises(ValueError, match="two revisions"):
        resolve_model("GROVER@main[revision=v2]")

    def cache_key(spec: ModelSpec) -> dict[str, object]:
        return embedding_key(
            model_identity=spec.identity(), task_id="t", task_fingerprint="f", dtype="float32", long_input="x"
        )

    specs = [pinned, resolve_model(f"GROVER@{commit}"), branch]
    assert len({str(cache_key(s)) for s in specs}) == 3, "two revisions never share a cache entry"
    paths = {result_path(Path("out"), s.key, "t", "full", "lite") for s in specs}
    assert len(paths) == 3, "nor a result file (so nor a table row)"


@pytest.mark.parametrize(
    "typed", ["GROVER@", "@main", "GROVER@main@v2", "PoetschLab/GROVER@", "org/name@a@b", "GROVER@ma in"]
)
def test_bad_revision_forms_are_usage_errors_naming_what_was_typed(typed: str) -> None:
    with pytest.raises(ValueError, match="a revision is written NAME@REVISION") as info:
        resolve_model(typed)
    assert repr(typed) in str(info.value)


def test_only_hub_models_take_a_revision() -> None:
    with pytest.raises(ValueError, match=r"'kmer-3' is not a hub model"):
        resolve_model("kmer-3@main")
    local = next(s.key for s in BUILTIN_MODELS if s.weights == "local")
    with pytest.raises(ValueError, match="only hub models take a revision"):
        resolve_model(f"{local}@main")
    with pytest.raises(ValueError, match="did you mean 'GROVER'"):
        resolve_model("GROVR@main")


def test_a_bad_revision_on_the_command_line_is_a_usage_error(sweep: Sweep) -> None:
    sweep.good_task("good_a")
    result = sweep.run(models=("kmer-3", "GROVER@"))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "geneb: model 'GROVER@': a revision is written NAME@REVISION" in result.stderr.str()
