"""Zoo recipes on their families' REAL remote code (``shared/models/``: hub code bytes, tiny random weights).

Each folder is copied to a temporary directory and loaded through its zoo key with ``[path=<copy>]``, the
way a user with a local checkpoint runs it. Per family: it loads with the recipe's auto class and remote
code; vectors are finite, equal across two fresh loads, batch-invariant (alone vs in a mixed-length batch),
and equal to a forward pass written here from the family's own documented usage (model card / README), not
through the harness. Caduceus and the real-layout Evo-1 end as a skip naming what is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict, cast

import numpy as np
import pytest

from geneb_bench.models.base import ModelUnavailable
from geneb_bench.models.registry import build_embedder, resolve_model
from geneb_bench.models.zoo import geneb_models

SHARED = Path(__file__).resolve().parents[3] / "shared" / "models"
if not SHARED.is_dir():  # the clone sits next to shared/ on the project machines
    SHARED = Path(os.environ.get("GENEB_SHARED_MODELS", "/work/shared/models"))

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason=f"real-code folders not found at {SHARED}")

SEQS = ["ACGTACGTAGCTAGCTAGGATCCA", "TTGACA", "GGGCCCATATATGCGCAATTACGATCGATCGGCTA", "CATG"]


class _Tol(TypedDict):
    rtol: float
    atol: float


TOL: _Tol = {"rtol": 1e-4, "atol": 1e-5}

# The MutBERT hub tokenizer.json was not found publicly; its vocab.txt is 9 characters whose sha256
# (57fb2e0c...) equals the published file's for exactly this order, so the test rebuilds a character
# tokenizer on it (the documented usage: tokenizer ids -> one_hot(num_classes=len(tokenizer))).
MUTBERT_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "A", "T", "C", "G"]


def _copy(name: str, tmp_path: Path) -> Path:
    # a name of its own: transformers caches a local folder's modules under its name, shared by xdist workers
    folder = tmp_path / f"{name}_{uuid.uuid4().hex[:8]}"
    shutil.copytree(SHARED / name, folder)
    return folder


def _add_mutbert_tokenizer(folder: Path) -> None:
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, processors

    vocab = {t: i for i, t in enumerate(MUTBERT_VOCAB)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])]
    )
    tok.save(str(folder / "tokenizer.json"))
    (folder / "vocab.txt").write_text("\n".join(MUTBERT_VOCAB), encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "PreTrainedTokenizerFast",
                "unk_token": "[UNK]",
                "pad_token": "[PAD]",
                "cls_token": "[CLS]",
                "sep_token": "[SEP]",
                "mask_token": "[MASK]",
                "model_max_length": 512,
            }
        ),
        encoding="utf-8",
    )


# ---- each family's documented usage, written out (not through the harness) -----------------------------


def _documented(family: str, folder: Path, seq: str) -> np.ndarray:
    import torch
    import transformers

    from geneb_bench.models.loading import prefetch_local_modules

    prefetch_local_modules(folder)
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder, trust_remote_code=True)
    with torch.no_grad():
        if family in ("dnabert2", "dnabert_s"):
            # README: inputs = tokenizer(dna, return_tensors='pt')["input_ids"]; hidden_states = model(inputs)[0]
            model = transformers.AutoModel.from_pretrained(folder, trust_remote_code=True).eval()
            hidden = model(tokenizer(seq, return_tensors="pt")["input_ids"])[0][0]
            # DNABERT-2 README: torch.mean(hidden_states[0], dim=0); the GENEB DNABERT-S extractor: [CLS]
            vector = hidden.mean(0) if family == "dnabert2" else hidden[0]
        elif family == "gena_lm":
            # model card: AutoModel gives BertForMaskedLM; embeddings from model.bert
            model = transformers.AutoModel.from_pretrained(folder, trust_remote_code=True).eval()
            vector = model.bert(**tokenizer(seq, return_tensors="pt")).last_hidden_state[0].mean(0)
        elif family == "hyenadna":
            # model card: tok_seq = torch.LongTensor(tokenizer(sequence)["input_ids"]).unsqueeze(0); model(tok_seq)
            model = transformers.AutoModel.from_pretrained(folder, trust_remote_code=True).eval()
            ids = torch.LongTensor(tokenizer(seq)["input_ids"]).unsqueeze(0)
            vector = model(ids).last_hidden_state[0].mean(0)
        elif family == "mutbert":
            # README: one_hot(inputs, num_classes=len(tokenizer)).float(); model(mut_inputs).last_hidden_state
            model = transformers.AutoModel.from_pretrained(folder, trust_remote_code=True).eval()
            inputs = tokenizer(seq, return_tensors="pt")["input_ids"]
            one_hot = torch.nn.functional.one_hot(inputs, num_classes=len(tokenizer)).float()
            vector = model(one_hot).last_hidden_state[0].mean(0)
        else:  # pragma: no cover - a family without a documented forward here
            raise AssertionError(family)
    return cast(np.ndarray, vector.float().numpy())


# shared/models folder -> extra preparation of the copy; these families run on CPU
PREPARE: dict[str, Callable[[Path], None] | None] = {
    "dnabert2": None,
    "dnabert_s": None,
    "gena_lm": None,
    "hyenadna": None,
    "mutbert": _add_mutbert_tokenizer,
}
ZOO = {s.key: s for s in geneb_models()}
ON_REAL_CODE = [s.key for s in geneb_models() if s.real_code in PREPARE]  # every zoo entry naming one
FAMILY = {  # one entry per family for the slower checks
    "DNABERT-2": "dnabert2-no-flashattention",
    "DNABERT-S": "DNABERT-S",
    "GENA-LM": "gena-lm-bert-large-t2t",
    "HyenaDNA": "hyenadna-medium-160k-seqlen-hf",
    "MutBERT": "MutBERT",
}
# Code files of a folder that are not the pinned revision's bytes (shared/models/README.md says which)
OLDER_CODE = {("DNABERT-S", "bert_layers.py")}
# ... so their remote code runs only with the explicit opt-in (a local folder's code is checked against the pins)
OPT_IN = {key: ",trust_remote_code=true" for key, _ in OLDER_CODE}


def _embed(key: str, folder: Path, seqs: list[str], extra: str = "") -> np.ndarray:
    spec = resolve_model(f"{key}[path={folder}{extra}{OPT_IN.get(key, '')}]")
    emb = build_embedder(spec, "cpu")
    try:
        return emb.embed(seqs)
    finally:
        emb.close()


@pytest.fixture
def family_folder(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str, Path]:
    key: str = FAMILY.get(request.param, request.param)
    name = ZOO[key].real_code
    folder = _copy(name, tmp_path)
    prepare = PREPARE[name]
    if prepare is not None:
        prepare(folder)
    return key, name, folder


def test_real_code_folders_hold_the_pinned_code() -> None:
    """Each entry naming a folder gets its pinned revision's code: same sha256 per file (known exceptions)."""
    from geneb_bench.models.verify import releases, sha256_file

    differ = set()
    for spec in geneb_models():
        if not spec.real_code:
            continue
        published = {f.name: f.sha256 for f in releases()[spec.key].files if f.name.endswith(".py")}
        for name, digest in published.items():
            local = SHARED / spec.real_code / name
            if local.is_file() and sha256_file(local) != digest:
                differ.add((spec.key, name))
    evo = {
        (k, n) for k, n in differ if k == "evo-1-131k-base"
    }  # not run here (flash_attn); README lists them
    assert differ - evo == OLDER_CODE


@pytest.mark.parametrize("family_folder", ON_REAL_CODE, indirect=True)
def test_entry_on_real_code(family_folder: tuple[str, str, Path], hf_offline: None) -> None:
    key, name, folder = family_folder
    assert ZOO[key].options["trust_remote_code"] is True
    spec = resolve_model(f"{key}[path={folder}{OPT_IN.get(key, '')}]")
    emb = build_embedder(spec, "cpu")
    model = emb.model  # type: ignore[attr-defined]
    assert type(model).__module__.startswith("transformers_modules."), "the folder's own (remote) code ran"
    together = emb.embed(SEQS)
    alone = np.stack([emb.embed([s])[0] for s in SEQS])
    emb.close()
    assert np.isfinite(together).all()
    assert together.shape[0] == len(SEQS)
    assert np.abs(together).max() > 0
    np.testing.assert_allclose(together, alone, **TOL, err_msg="a sequence's vector depends on its batch")
    for seq, vector in zip(SEQS, together, strict=True):
        np.testing.assert_allclose(
            vector,
            _documented(name, folder, seq),
            **TOL,
            err_msg=f"{key}: harness != documented forward on {seq!r}",
        )


@pytest.mark.parametrize("family_folder", list(FAMILY), indirect=True)
def test_two_fresh_loads_agree(family_folder: tuple[str, str, Path], hf_offline: None) -> None:
    key, _, folder = family_folder
    first = _embed(key, folder, SEQS)
    second = _embed(key, folder, SEQS)  # a new model object built from the files again
    np.testing.assert_array_equal(first, second, err_msg="two fresh loads differ")


@pytest.mark.parametrize(
    ("family_folder", "broken"),
    [
        ("DNABERT-S", ",pooling=mean"),
        ("GENA-LM", ",states=hidden_states,layer=0"),
        ("HyenaDNA", ",pooling=last"),
        ("MutBERT", ",input_mode=ids"),
    ],
    indirect=["family_folder"],
)
def test_broken_recipe_field_is_caught(
    family_folder: tuple[str, str, Path], broken: str, hf_offline: None
) -> None:
    """The documented-usage comparison can fail: one wrong recipe field gives other vectors (or no load)."""
    key, name, folder = family_folder
    expected = np.stack([_documented(name, folder, s) for s in SEQS[:2]])
    try:
        got = _embed(key, folder, SEQS[:2], broken)
    except (ModelUnavailable, RuntimeError, ValueError, TypeError, IndexError):
        return  # refused to load or to run: also caught
    assert got.shape != expected.shape or not np.allclose(got, expected, **TOL)


def test_caduceus_is_a_skip_naming_mamba_ssm(tmp_path: Path, hf_offline: None) -> None:
    folder = _copy("caduceus", tmp_path)
    for key in (
        "caduceus-ps_seqlen-131k_d_model-256_n_layer-16",
        "caduceus-ph_seqlen-1k_d_model-256_n_layer-4_lr-8e-3",
    ):
        spec = resolve_model(f"{key}[path={folder}]")
        with pytest.raises(ModelUnavailable, match=r"mamba_ssm|selective_scan_cuda") as info:
            build_embedder(spec, "cpu")  # on a CUDA machine with mamba_ssm: still no weights in this folder
        assert "pip install mamba-ssm" in str(info.value) or "weight" in str(info.value)
    pytest.skip("Caduceus real code needs mamba_ssm with its CUDA extension (no CPU fallback in 2.2.4)")


def test_evo1_real_layout_is_a_skip_naming_flash_attn(tmp_path: Path, hf_offline: None) -> None:
    folder = _copy("evo1", tmp_path)
    spec = resolve_model(f"evo-1-131k-base[path={folder}]")
    with pytest.raises(ModelUnavailable, match="flash_attn") as info:
        build_embedder(spec, "cpu")
    assert "pip install flash-attn" in str(info.value)
    pytest.skip(f"Evo-1 real layout (attention blocks) needs flash_attn: {info.value}")


def test_nested_local_modules_are_fetched(
    tmp_path: Path, hf_offline: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Evo-1's model.py -> layers.py -> utils.py: transformers copies only direct imports of a local folder."""
    import transformers

    from geneb_bench.models.loading import prefetch_local_modules

    folder = _copy("evo1_hyena_only", tmp_path)
    monkeypatch.syspath_prepend(
        str(folder)
    )  # this copy's older engine.py has an absolute `from utils import`
    fresh = _copy("evo1_hyena_only", tmp_path)  # control: without the prefetch transformers misses a module
    with pytest.raises(FileNotFoundError, match=r"transformers_modules/.*\.py"):
        transformers.dynamic_module_utils.get_class_from_dynamic_module(
            "modeling_hyena.StripedHyenaModelForCausalLM", str(fresh)
        )
    prefetch_local_modules(folder)
    config: Any = transformers.AutoConfig.from_pretrained(folder, trust_remote_code=True)
    assert type(config).__name__ == "StripedHyenaConfig"
    cls = transformers.dynamic_module_utils.get_class_from_dynamic_module(
        "modeling_hyena.StripedHyenaModelForCausalLM", str(folder)
    )
    assert cls.__name__ == "StripedHyenaModelForCausalLM"
