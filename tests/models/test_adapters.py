"""Post-load guard, recipe pre-processing and defaults, overrides, the extractor interface, Evo 2, DNABERT-2."""

from __future__ import annotations

import importlib.util
import re
import sys
import textwrap
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import transformers

from geneb_bench.embeddings.engine import rc_average
from geneb_bench.models.adapters import ExtractorEmbedder
from geneb_bench.models.base import ModelUnavailable
from geneb_bench.models.guard import LoadCheckError, check_and_repair
from geneb_bench.models.hf import HFEmbedder
from geneb_bench.models.recipe import (
    DEFAULT_RECIPE,
    default_recipe,
    preprocess,
    split_overrides,
    validate_recipe,
)
from geneb_bench.models.registry import build_embedder, resolve_model

SEQS = ["ACGTACGTAA", "GGGCCCAAATTT" * 3, "ACG"]


# ---- the transformers-5 guard -------------------------------------------------------------------------


def _load_fixture(folder: Path) -> Any:
    return transformers.AutoModel.from_pretrained(folder, trust_remote_code=True).eval()


def _corrupt(model: Any) -> None:
    """What transformers 5 does: the non-persistent buffer holds garbage, the tensor attribute stays on meta."""
    model.z.normal_(0.0, 1e3)
    model.alibi = torch.empty_like(model.alibi, device="meta")


def test_guard_repairs_buffer_and_tensor_attribute(stand_in: Callable[[str], Path], hf_offline: None) -> None:
    folder = stand_in("fixture-mask")
    clean = _load_fixture(folder)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_and_repair(clean) == [], "a correctly loaded model is left alone, silently"
    z, alibi = clean.z.clone(), clean.alibi.clone()
    model = _load_fixture(folder)
    _corrupt(model)
    with pytest.raises(NotImplementedError, match="meta"):  # what the corruption does unguarded
        model(torch.tensor([[5, 6, 7]]))
    with pytest.warns(RuntimeWarning, match="repaired"):
        assert sorted(check_and_repair(model)) == ["alibi", "z"]
    assert torch.equal(model.z, z)
    assert torch.equal(model.alibi, alibi)


def test_guard_runs_inside_load_pretrained(
    stand_in: Callable[[str], Path], hf_offline: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Simulate transformers 5 inside from_pretrained: the embedder still gives the clean vectors."""
    folder = stand_in("fixture-mask")
    spec = resolve_model(f"{folder}[trust_remote_code=true]")
    expected = build_embedder(spec, "cpu").embed(SEQS)
    original = transformers.AutoModel.from_pretrained

    def corrupting(*args: Any, **kwargs: Any) -> Any:
        loaded = original(*args, **kwargs)
        _corrupt(loaded[0] if isinstance(loaded, tuple) else loaded)  # (model, loading info) when asked
        return loaded

    monkeypatch.setattr(transformers.AutoModel, "from_pretrained", corrupting)
    with pytest.warns(RuntimeWarning, match="z, alibi|alibi, z"):
        emb = build_embedder(spec, "cpu")
    np.testing.assert_array_equal(emb.embed(SEQS), expected)


def test_guard_repairs_builtin_rotary_tables(stand_in: Callable[[str], Path], hf_offline: None) -> None:
    model = transformers.AutoModel.from_pretrained(stand_in("llama-bpe")).eval()
    ids = torch.tensor([[2, 10, 11, 12, 3]])
    with torch.no_grad():
        expected = model(ids).last_hidden_state
    model.rotary_emb.inv_freq.fill_(7.0)
    with pytest.warns(RuntimeWarning, match=r"rotary_emb\.inv_freq"):
        check_and_repair(model)
    with torch.no_grad():
        torch.testing.assert_close(model(ids).last_hidden_state, expected)


def test_guard_refuses_parameters_on_meta(stand_in: Callable[[str], Path], hf_offline: None) -> None:
    model = _load_fixture(stand_in("fixture-mask"))
    model.head.weight = torch.nn.Parameter(torch.empty_like(model.head.weight, device="meta"))
    with pytest.raises(LoadCheckError, match="meta"):
        check_and_repair(model)


# ---- DNABERT-2 fix bundle -----------------------------------------------------------------------------


def test_dnabert2_fix_bundle(stand_in: Callable[[str], Path], hf_offline: None) -> None:
    folder = stand_in("fixture-dnabert2")
    spec = resolve_model(f"dnabert2-no-flashattention[path={folder},trust_remote_code=true]")
    emb = build_embedder(spec, "cpu")
    assert isinstance(emb, HFEmbedder)
    assert type(emb.model).__name__ == "FixtureModel", "the remote class, not transformers' BertModel"
    assert isinstance(emb.model.config, transformers.BertConfig)
    assert sys.modules[type(emb.model).__module__].flash_attn_qkvpacked_func is None
    assert emb.embed(SEQS).shape == (3, 32)
    # without the fix the (simulated) Triton kernel fails
    remote: Any = sys.modules[type(emb.model).__module__]  # the model's own (remote-code) module
    remote.flash_attn_qkvpacked_func = "triton-kernel"
    unfixed = resolve_model(f"dnabert2-no-flashattention[path={folder},fix=,trust_remote_code=true]")
    with pytest.raises(RuntimeError, match="triton"):
        build_embedder(unfixed, "cpu").embed(SEQS)


# ---- recipes ------------------------------------------------------------------------------------------


def test_preprocess() -> None:
    r = DEFAULT_RECIPE
    assert preprocess("acgtn", r) == "ACGTN"
    assert preprocess("ACGT", {**r, "case": "lower", "prefix": "<+>"}) == "<+>acgt"
    assert preprocess("acgtac", {**r, "kmer": 3}) == "ACG CGT GTA TAC"
    assert preprocess("ACGTACG", {**r, "multiple_of": 6, "multiple_mode": "trim"}) == "ACGTAC"
    assert preprocess("ACG", {**r, "multiple_of": 6, "multiple_mode": "trim"}) == "ACGNNN", (
        "never trim to empty"
    )
    assert preprocess("A" * 130, {**r, "multiple_of": 128}) == "A" * 130 + "N" * 126
    assert preprocess("A" * 128, {**r, "multiple_of": 128}) == "A" * 128


def test_validate_recipe_rejects_typos() -> None:
    with pytest.raises(ValueError, match="unknown recipe field"):
        validate_recipe({"poolng": "cls"})
    with pytest.raises(ValueError, match="pooling = 'max'"):
        validate_recipe({"pooling": "max"})
    with pytest.raises(ValueError, match="accepts_mask"):
        validate_recipe({"accepts_mask": "yes"})
    with pytest.raises(ValueError, match="max_tokens"):
        validate_recipe({"max_tokens": -1})
    assert validate_recipe({}) == DEFAULT_RECIPE


def test_rc_average() -> None:
    pooled = torch.tensor([[1.0, 2.0, 3.0, 30.0, 20.0, 10.0]])
    torch.testing.assert_close(rc_average(pooled), torch.tensor([[5.5, 11.0, 16.5]]))
    with pytest.raises(ValueError, match="even"):
        rc_average(torch.zeros(1, 3))


def test_overlapping_kmer_bert(tmp_path: Path, hf_offline: None) -> None:
    """DNABERT-1 style: space-joined overlapping 3-mers through a BertTokenizer that must not lower-case."""
    import itertools

    kmers = ["".join(p) for p in itertools.product("ACGT", repeat=3)]
    (tmp_path / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *kmers]))
    tok = transformers.BertTokenizer(str(tmp_path / "vocab.txt"), do_lower_case=False)
    config = transformers.BertConfig(
        vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64
    )
    model = transformers.BertModel(config)
    emb = HFEmbedder(model, tok, recipe={"kmer": 3})
    ids = emb.encode(["acgta"])[0]
    assert tok.unk_token_id not in ids
    assert tok.convert_ids_to_tokens(ids) == ["[CLS]", "ACG", "CGT", "GTA", "[SEP]"]
    assert emb.embed(["ACGTAC", "acgtac"]).shape == (2, 32)


def test_default_recipe_from_config() -> None:
    bert, why = default_recipe({"model_type": "bert", "architectures": ["BertForMaskedLM"]})
    assert bert["accepts_mask"] is True
    assert why.startswith("encoder")
    mamba, why = default_recipe({"model_type": "mamba", "architectures": ["MambaForCausalLM"]})
    assert mamba["accepts_mask"] is True, "transformers' Mamba takes a mask (causal: right padding is exact)"
    assert why.startswith("decoder")
    nt, why = default_recipe({"model_type": "esm-remote", "auto_map": {"AutoModelForMaskedLM": "m.C"}})
    assert nt["trust_remote_code"] is False
    assert (nt["auto_class"], nt["states"]) == ("AutoModelForMaskedLM", "hidden_states")
    assert "trust_remote_code=true" in why
    decoder, why = default_recipe({"model_type": "custom", "is_decoder": True})
    assert why.startswith("decoder")
    assert decoder["pooling"] == "mean"


def test_local_mamba_checkpoint_default_recipe(stand_in: Callable[[str], Path], hf_offline: None) -> None:
    folder = stand_in("mamba-char")
    spec = resolve_model(str(folder))
    assert spec.options == validate_recipe(spec.options), "the full recipe is recorded in the spec"
    assert spec.description.startswith("local checkpoint, default recipe from its config: decoder")
    emb = build_embedder(spec, "cpu")
    assert isinstance(emb, HFEmbedder)
    emb.token_budget = 10**9
    batched = emb.embed(SEQS)
    singles = np.stack([emb.embed([s])[0] for s in SEQS])
    np.testing.assert_allclose(batched, singles, atol=1e-5)


def test_remote_code_without_mask_batches_equal_lengths(
    stand_in: Callable[[str], Path], hf_offline: None
) -> None:
    """No attention_mask in forward: decided from the signature at load, no padding ever reaches it."""
    spec = resolve_model(f"{stand_in('fixture-nomask')}[trust_remote_code=true]")
    assert spec.options["accepts_mask"] == "auto"
    emb = build_embedder(spec, "cpu")
    assert isinstance(emb, HFEmbedder)
    assert emb.accepts_mask is False
    emb.token_budget = 10**9
    np.testing.assert_allclose(emb.embed(SEQS), np.stack([emb.embed([s])[0] for s in SEQS]), atol=1e-6)
    padded = HFEmbedder(emb.model, emb.tokenizer, accepts_mask=True)  # what a wrong recipe would do
    with pytest.raises(TypeError):
        padded.embed(SEQS)


def test_overrides() -> None:
    assert split_overrides("kmer-3") == ("kmer-3", {})
    assert split_overrides("a/b@c[x=1, y=true,z=cls]") == ("a/b@c", {"x": 1, "y": True, "z": "cls"})
    with pytest.raises(ValueError, match="field=value"):
        split_overrides("key[oops]")
    base = resolve_model("GROVER")
    changed = resolve_model("GROVER[pooling=cls,max_tokens=256]")
    assert changed.key == "GROVER+max_tokens-256+pooling-cls", "another recipe never passes for the authors'"
    assert changed.options["pooling"] == "cls"
    assert changed.identity() != base.identity()
    pinned = resolve_model("GROVER[revision=" + "a" * 40 + "]")
    assert pinned.key == "GROVER+rev-" + "a" * 12, "another commit never passes for the published one"
    assert pinned.revision == "a" * 40
    assert pinned == resolve_model("GROVER@" + "a" * 40), "[revision=...] and @ are one thing"
    with pytest.raises(ValueError, match="unknown recipe field"):
        resolve_model("GROVER[poolin=cls]")
    with pytest.raises(ValueError, match="take no override"):
        resolve_model("kmer-3[pooling=cls]")
    assert resolve_model("kmer-3[k=4]").options == {"k": 4}


# ---- the authors' extractor interface -----------------------------------------------------------------

EXTRACTOR = textwrap.dedent(
    """
    import numpy as np

    CALLS = []

    def extract(sequences, batch_size):
        CALLS.append((len(sequences), batch_size))
        return np.array([[len(s), s.count("G") + s.count("C")] for s in sequences], dtype=np.float64)

    def broken(sequences, batch_size):
        return np.zeros((len(sequences) + 1, 2))
    """
)


def test_extractor_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "geneb_tiny_extractor.py").write_text(EXTRACTOR)
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = resolve_model("python:geneb_tiny_extractor:extract")
    assert spec.family == "extractor"
    assert spec.key == "python-geneb_tiny_extractor-extract"
    assert spec.revision is not None
    assert spec.revision.startswith("sha256-")
    emb = build_embedder(spec, "cpu")
    out = emb.embed(["ACGG", "AT"])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[4, 3], [2, 0]])
    assert sys.modules["geneb_tiny_extractor"].CALLS == [(2, 32)]
    small = resolve_model("python:geneb_tiny_extractor:extract[batch_size=8]")
    build_embedder(small, "cpu").embed(["A"])
    assert sys.modules["geneb_tiny_extractor"].CALLS[-1] == (1, 8)
    with pytest.raises(ValueError, match="one row per sequence"):
        build_embedder(resolve_model("python:geneb_tiny_extractor:broken"), "cpu").embed(["A"])


def test_extractor_file_and_fingerprint(tmp_path: Path) -> None:
    path = tmp_path / "my_extractor.py"
    path.write_text(EXTRACTOR)
    spec = resolve_model(f"python:{path}:extract")
    assert isinstance(build_embedder(spec, "cpu"), ExtractorEmbedder)
    assert build_embedder(spec, "cpu").embed(["GC"]).tolist() == [[2.0, 2.0]]
    path.write_text(EXTRACTOR + "\n# changed\n")
    assert resolve_model(f"python:{path}:extract").revision != spec.revision, "edited extractor, new identity"
    with pytest.raises(ValueError, match="no module 'geneb_no_such_module_xyz' on the Python path"):
        resolve_model("python:geneb_no_such_module_xyz:extract")
    with pytest.raises(
        ValueError,
        match=rf"{re.escape(str(path))} defines no 'missing' at top level \(it defines: CALLS, broken, extract, np\)",
    ):
        resolve_model(f"python:{path}:missing")
    with pytest.raises(ModelUnavailable, match="no callable"):  # bound, but not to a function: found at load
        build_embedder(resolve_model(f"python:{path}:CALLS"), "cpu")


def test_extractor_module_in_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's ``python:my_extractor:extract``, run from the folder that holds ``my_extractor.py``, which
    is not on sys.path under ``pytest`` or ``geneb run``: found, and made an absolute path for the workers."""
    (tmp_path / "geneb_cwd_extractor.py").write_text(EXTRACTOR)
    monkeypatch.chdir(tmp_path)
    assert importlib.util.find_spec("geneb_cwd_extractor") is None, "the folder is not on sys.path"
    spec = resolve_model("python:geneb_cwd_extractor:extract")
    assert spec.key == "python-geneb_cwd_extractor-extract"
    assert spec.source == f"{tmp_path.resolve() / 'geneb_cwd_extractor.py'}:extract"
    assert spec.revision is not None
    assert spec.revision.startswith("sha256-")
    monkeypatch.chdir(tmp_path.parent)  # a worker elsewhere still loads the same file
    assert build_embedder(spec, "cpu").embed(["ACGG"]).tolist() == [[4.0, 3.0]]


TRIMER_EXTRACTOR = textwrap.dedent(
    """
    import itertools

    import numpy as np

    TRIMERS = ["".join(p) for p in itertools.product("ACGT", repeat=3)]


    def extract(sequences, batch_size):
        return np.array([[s.count(t) for t in TRIMERS] for s in sequences], dtype=np.float32)
    """
)


@pytest.mark.slow
def test_geneb_run_finds_the_extractor_in_the_working_directory(tmp_path: Path) -> None:
    """``geneb run --geneb-model python:my_extractor:extract`` from the extractor's folder, as the README says;
    ``-P`` keeps the folder off sys.path, as the ``geneb`` console script does."""
    import subprocess

    (tmp_path / "my_extractor.py").write_text(TRIMER_EXTRACTOR)
    command = [
        sys.executable,
        "-P",
        "-c",
        "import sys; from geneb_bench.cli import main; sys.exit(main(sys.argv[1:]))",
        "run",
        "--results-dir=out",
        "-q",
        "-k",
        "lite_promoter_tata",
        "--geneb-model=python:my_extractor:extract",
        "--geneb-no-controls",  # the extractor alone: the kmer-3 control is tested in tests/plugin
        "--geneb-seeds=13",
        "--geneb-regimes=1shot",
        f"--geneb-cache-dir={tmp_path / 'cache'}",
    ]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "1 passed" in run.stdout
    found = list(
        (tmp_path / "out" / "results").rglob("python-my_extractor-extract/lite_promoter_tata/1shot.json")
    )
    assert len(found) == 1


def test_extractor_errors_name_the_file_and_what_is_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        ValueError, match=rf"no module .absent_mod. on the Python path and no {re.escape(str(tmp_path))}"
    ):
        resolve_model("python:absent_mod:extract")
    with pytest.raises(ValueError, match=rf"no module 'pkg.absent' .* no {re.escape(str(tmp_path / 'pkg'))}"):
        resolve_model("python:pkg.absent:extract")
    with pytest.raises(ValueError, match=rf"file {re.escape(str(tmp_path / 'absent.py'))} does not exist"):
        resolve_model("python:absent.py:extract")
    (tmp_path / "dynamic.py").write_text("from numpy import *\n")
    assert resolve_model("python:dynamic:zeros").family == "extractor", "names bound by * are not refused"
    (tmp_path / "nested.py").write_text(
        "try:\n    import numpy as np\nexcept ImportError:\n    np = None\nif np:\n"
        "    def extract(s, b):\n        return np.ones((len(s), 1))\nelse:\n    extract = None\n"
        "def helper():\n    inner = 1\n"
    )
    assert resolve_model("python:nested:extract").family == "extractor", "bound inside a top-level if"
    with pytest.raises(
        ValueError,
        match=r"^extractor 'nested:inner': .* defines no 'inner' at top level \(it defines: extract, helper, np\)",
    ):
        resolve_model("python:nested:inner")
    (tmp_path / "broken.py").write_text("def extract(s, b)\n    return s\n")
    with pytest.raises(
        ValueError, match=rf"extractor file {re.escape(str(tmp_path / 'broken.py'))}, line 1: syntax error"
    ):
        resolve_model("python:broken:extract")


# ---- Evo 2 (own package) ------------------------------------------------------------------------------

FAKE_EVO2 = textwrap.dedent(
    """
    import torch

    class _Tok:
        def tokenize(self, seq):
            return [ord(c) for c in seq]

    class Evo2:
        def __init__(self, name):
            self.name = name
            self.tokenizer = _Tok()

        def __call__(self, ids, return_embeddings=False, layer_names=()):
            states = torch.stack([ids.float(), 2 * ids.float()], dim=-1)
            return None, {name: states for name in layer_names}
    """
)


def test_evo2_missing_package_is_a_skip_with_hint() -> None:
    if importlib.util.find_spec("evo2") is not None:  # pragma: no cover - a GPU box with evo2
        pytest.skip("evo2 is installed")
    with pytest.raises(ModelUnavailable, match="pip install evo2"):
        build_embedder(resolve_model("evo2-7b"), "cpu")


def test_evo2_adapter_with_a_fake_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "evo2.py").write_text(FAKE_EVO2)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "evo2", raising=False)
    emb = build_embedder(resolve_model("evo2-7b"), "cpu")
    out = emb.embed(["ac", "G"])
    np.testing.assert_allclose(out, [[66.0, 132.0], [71.0, 142.0]])  # mean of ord("A"), ord("C"); upper-cased
    monkeypatch.delitem(sys.modules, "evo2", raising=False)
