"""Tiny offline stand-ins for every model family in the zoo, saved to disk and loaded like a hub checkpoint.

Each stand-in is a 2-layer, hidden-32, random-initialised model of the same transformers class as the real
model (or, for families without a built-in class, a local remote-code folder with its own modeling file and
``auto_map``), with a tokenizer built here: single nucleotide, non-overlapping k-mer, or BPE trained on
random DNA. Folders are built once per session and loaded through ``from_pretrained``, the same path a hub
id takes.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

CONFIGURATION_FIXTURE = """
from transformers import PretrainedConfig


class FixtureConfig(PretrainedConfig):
    model_type = "geneb_fixture"

    def __init__(self, vocab_size=10, hidden_size=32, num_hidden_layers=2, max_position_embeddings=2048,
                 output="base", one_hot=False, needs_flash_fix=False, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.max_position_embeddings = max_position_embeddings
        self.output = output
        self.one_hot = one_hot
        self.needs_flash_fix = needs_flash_fix
        super().__init__(**kwargs)
"""

MODELING_FIXTURE = '''
"""A remote-code fixture shaped like the DNA families without a built-in class (HyenaDNA, Caduceus, Evo,
DNABERT-2, MutBERT): tuple / base / masked-LM outputs, with or without an attention mask, one-hot inputs.
It has a non-persistent buffer computed in __init__ (``z``, like HyenaDNA's positional table) and a plain
tensor attribute (``alibi``, like DNABERT-2's ALiBi matrix): the two things transformers 5 corrupts."""
import math

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.modeling_outputs import BaseModelOutput, MaskedLMOutput

from .configuration_fixture import FixtureConfig

# DNABERT-2's module imports a Triton kernel under this name; it fails at run time unless set to None.
flash_attn_qkvpacked_func = "triton-kernel"


class _Base(PreTrainedModel):
    config_class = FixtureConfig
    base_model_prefix = "fixture"

    def __init__(self, config):
        super().__init__(config)
        h, n = config.hidden_size, config.max_position_embeddings
        vocab = config.vocab_size
        self.embed = nn.Linear(vocab, h, bias=False) if getattr(config, "one_hot", False) else nn.Embedding(vocab, h)
        self.layers = nn.ModuleList(nn.Linear(h, h) for _ in range(config.num_hidden_layers))
        self.head = nn.Linear(h, vocab)
        pos = torch.arange(n, dtype=torch.float32)[:, None]
        freq = torch.exp(-math.log(10000.0) * torch.arange(h, dtype=torch.float32)[None, :] / h)
        self.register_buffer("z", torch.sin(pos * freq), persistent=False)
        self.alibi = -torch.arange(n, dtype=torch.float32) / n
        self.post_init()

    def _init_weights(self, module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            module.weight.data.normal_(0.0, 0.5)

    def _run(self, input_ids, attention_mask, output_hidden_states):
        if getattr(self.config, "needs_flash_fix", False) and flash_attn_qkvpacked_func is not None:
            raise RuntimeError("triton flash-attention kernel failed (switch it off: fix bundle)")
        if getattr(self.config, "one_hot", False):
            if not input_ids.is_floating_point():
                raise TypeError("this model takes one-hot probabilities as input_ids")
            h = self.embed(input_ids)
        else:
            h = self.embed(input_ids)
        length = h.shape[1]
        h = h + self.z[:length].to(h.dtype)
        m = torch.ones_like(h[..., :1]) if attention_mask is None else attention_mask.to(h.dtype).unsqueeze(-1)
        bias = self.alibi.to(device=h.device, dtype=h.dtype)[:length].unsqueeze(-1)
        states = [h]
        for layer in self.layers:
            ctx = (h * m).sum(1, keepdim=True) / m.sum(1, keepdim=True)
            h = torch.tanh(layer(h) + ctx + 0.5 * bias)
            states.append(h)
        output = getattr(self.config, "output", "base")
        if output == "tuple":
            return (h, h[:, 0])
        hidden = tuple(states) if output_hidden_states else None
        if output == "mlm":
            return MaskedLMOutput(logits=self.head(h), hidden_states=hidden)
        return BaseModelOutput(last_hidden_state=h, hidden_states=hidden)


class FixtureModel(_Base):
    def forward(self, input_ids, attention_mask=None, output_hidden_states=None):
        return self._run(input_ids, attention_mask, output_hidden_states)


class FixtureNoMaskModel(_Base):
    def forward(self, input_ids, output_hidden_states=None):
        return self._run(input_ids, None, output_hidden_states)
'''


def _random_dna(n: int, length: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice("ACGT") for _ in range(length)) for _ in range(n)]


def _fast(core: Any, max_length: int) -> Any:
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        bos_token="[CLS]",
        eos_token="[SEP]",
        model_max_length=max_length,
    )


def _post(core: Any, vocab: dict[str, int]) -> None:
    from tokenizers import processors

    core.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])]
    )


def char_tok(max_length: int = 128) -> Any:
    """Single nucleotide (HyenaDNA, Caduceus, Evo, MutBERT)."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers

    vocab = {t: i for i, t in enumerate([*SPECIALS, "A", "C", "G", "T", "N"])}
    core = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    _post(core, vocab)
    return _fast(core, max_length)


def kmer_tok(k: int, max_length: int = 128) -> Any:
    """Non-overlapping k-mers, single bases for the tail (Nucleotide Transformer, GENERator)."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers

    kmers = ["".join(p) for p in itertools.product("ACGT", repeat=k)]
    vocab = {t: i for i, t in enumerate([*SPECIALS, *kmers, "A", "C", "G", "T", "N"])}
    core = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.Split(Regex(f"[ACGT]{{{k}}}|."), behavior="isolated")
    _post(core, vocab)
    return _fast(core, max_length)


def bpe_tok(max_length: int = 128) -> Any:
    """BPE trained on random DNA (DNABERT-2, GENA-LM, GROVER, GenomeOcean, METAGENE-1, GPT-2 DNA models)."""
    from tokenizers import Tokenizer, models, trainers

    core = Tokenizer(models.BPE(unk_token="[UNK]"))
    trainer = trainers.BpeTrainer(vocab_size=120, special_tokens=SPECIALS, initial_alphabet=list("ACGTN"))
    core.train_from_iterator(_random_dna(200, 60, seed=1), trainer=trainer)
    vocab = core.get_vocab()
    _post(core, vocab)
    return _fast(core, max_length)


def _builtin(name: str, folder: Path) -> None:
    import torch
    import transformers as t

    tok: Any
    kind, _, tok_kind = name.partition("-")
    if kind == "esm":
        position, _, k = tok_kind.partition("-")
        tok = kmer_tok(int(k[0]))
        config: Any = t.EsmConfig(
            vocab_size=len(tok),
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=160,
            position_embedding_type="absolute" if position == "abs" else "rotary",
            pad_token_id=tok.pad_token_id,
            mask_token_id=tok.mask_token_id,
            token_dropout=False,
        )
        cls: Any = t.EsmForMaskedLM
    else:
        tok = {"bpe": bpe_tok, "6mer": lambda: kmer_tok(6), "char": char_tok}[tok_kind.split("-")[-1]]()
        vocab = len(tok)
        if kind == "bert":
            config = t.BertConfig(
                vocab_size=vocab,
                hidden_size=32,
                num_hidden_layers=2,
                num_attention_heads=2,
                intermediate_size=64,
                max_position_embeddings=512,
                pad_token_id=0,
            )
            tok.model_max_length = 512
            cls = t.BertForMaskedLM
        elif kind in ("llama", "mistral", "olmo"):
            config_cls = {"llama": t.LlamaConfig, "mistral": t.MistralConfig, "olmo": t.OlmoConfig}[kind]
            config = config_cls(
                vocab_size=vocab,
                hidden_size=32,
                intermediate_size=64,
                num_hidden_layers=2,
                num_attention_heads=2,
                num_key_value_heads=1,
                max_position_embeddings=1024,
                pad_token_id=0,
                tie_word_embeddings=False,
            )
            cls = {"llama": t.LlamaForCausalLM, "mistral": t.MistralForCausalLM, "olmo": t.OlmoForCausalLM}[
                kind
            ]
        elif kind == "gpt2":
            config = t.GPT2Config(
                vocab_size=vocab, n_embd=32, n_layer=2, n_head=2, n_positions=256, pad_token_id=0
            )
            cls = t.GPT2LMHeadModel
        elif kind == "mamba":
            config = t.MambaConfig(
                vocab_size=vocab, hidden_size=32, num_hidden_layers=2, state_size=4, pad_token_id=0
            )
            cls = t.MambaForCausalLM
        else:
            raise ValueError(f"unknown stand-in {name!r}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = cls(config)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)


FIXTURE_VARIANTS: dict[str, dict[str, Any]] = {
    "fixture-mask": {"cls": "FixtureModel", "output": "base"},
    "fixture-mask-mlm": {"cls": "FixtureModel", "output": "mlm"},
    "fixture-nomask": {"cls": "FixtureNoMaskModel", "output": "base"},
    "fixture-nomask-mlm": {"cls": "FixtureNoMaskModel", "output": "mlm"},
    "fixture-nomask-mlm-rc": {"cls": "FixtureNoMaskModel", "output": "mlm"},
    "fixture-dnabert2": {"cls": "FixtureModel", "output": "tuple", "needs_flash_fix": True, "tok": "bpe"},
    "fixture-onehot": {"cls": "FixtureModel", "output": "base", "one_hot": True},
    "fixture-tuple-nomask": {"cls": "FixtureNoMaskModel", "output": "tuple"},
}


def write_remote_code_fixture(name: str, folder: Path) -> None:
    """A local remote-code checkpoint: its own configuration/modeling files, ``auto_map``, safetensors."""
    import torch
    from transformers import AutoConfig, AutoModel

    variant = FIXTURE_VARIANTS[name]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "configuration_fixture.py").write_text(CONFIGURATION_FIXTURE)
    (folder / "modeling_fixture.py").write_text(MODELING_FIXTURE)
    tok = bpe_tok() if variant.get("tok") == "bpe" else char_tok()
    target = f"modeling_fixture.{variant['cls']}"
    config = {
        "model_type": "geneb_fixture",
        "architectures": [variant["cls"]],
        "auto_map": {
            "AutoConfig": "configuration_fixture.FixtureConfig",
            "AutoModel": target,
            "AutoModelForMaskedLM": target,
            "AutoModelForCausalLM": target,
        },
        "vocab_size": len(tok),
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "max_position_embeddings": 2048,
        "output": variant["output"],
        "one_hot": bool(variant.get("one_hot")),
        "needs_flash_fix": bool(variant.get("needs_flash_fix")),
    }
    (folder / "config.json").write_text(json.dumps(config))
    cfg = AutoConfig.from_pretrained(folder, trust_remote_code=True)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = AutoModel.from_config(cfg, trust_remote_code=True)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)


def build_stand_in(name: str, folder: Path) -> Path:
    if name.startswith("fixture-"):
        write_remote_code_fixture(name, folder)
    else:
        _builtin(name, folder)
    return folder


@pytest.fixture(scope="session")
def stand_in(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``stand_in(name)`` -> folder of the tiny checkpoint, built once per session."""
    built: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in built:
            built[name] = build_stand_in(name, tmp_path_factory.mktemp(name.replace("-", "_")))
        return built[name]

    return get


@pytest.fixture
def hf_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline mode. huggingface_hub/transformers read the variables at import time, so the module-level
    flags are patched as well (they may already be imported by other tests)."""
    import huggingface_hub.constants
    import transformers.utils.hub

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(transformers.utils.hub, "_is_offline_mode", True)


@pytest.fixture(autouse=True)
def _stamps_in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Verified-file stamps (models.verify) go to a temporary cache dir, never the user's."""
    monkeypatch.setenv("GENEB_CACHE_DIR", str(tmp_path_factory.mktemp("geneb-cache")))
