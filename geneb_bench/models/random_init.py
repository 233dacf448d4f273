"""Random-initialised transformers: the architecture controls.

An untrained model of the same class as a real one tells how much of a score pretraining earns. Two kinds:
the built-in tiny BERT / GPT-2 on a character tokenizer built in memory (``random-bert-tiny``), and the
untrained twin of any Hugging Face model, ``X[init=random]`` (``untrained_twin``): X's own config, class and
tokenizer, weights re-initialised. Weights come from a private torch generator seeded by the spec, so the
same key always gives the same vectors and the global RNG is never touched.
"""

from __future__ import annotations

from typing import Any

from geneb_bench.models.base import ModelSpec
from geneb_bench.models.hf import HFEmbedder

CHAR_VOCAB = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "A", "C", "G", "T", "N")


def char_tokenizer(max_length: int = 512) -> Any:
    """One token per base plus BERT-style specials, as a ``PreTrainedTokenizerFast``."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate(CHAR_VOCAB)}
    core = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    core.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=max_length,
    )


def build_random_model(options: dict[str, Any]) -> Any:
    import torch
    from transformers import BertConfig, BertModel, GPT2Config, GPT2Model

    arch = options.get("arch", "bert")
    hidden, layers, heads = int(options["hidden_size"]), int(options["num_layers"]), int(options["num_heads"])
    max_len = int(options.get("max_tokens", 512))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(options.get("seed", 0)))
        if arch == "bert":
            bert_config = BertConfig(
                vocab_size=len(CHAR_VOCAB),
                hidden_size=hidden,
                num_hidden_layers=layers,
                num_attention_heads=heads,
                intermediate_size=4 * hidden,
                max_position_embeddings=max_len,
                pad_token_id=0,
            )
            return BertModel(bert_config, add_pooling_layer=False)
        if arch == "gpt2":
            gpt2_config = GPT2Config(
                vocab_size=len(CHAR_VOCAB),
                n_embd=hidden,
                n_layer=layers,
                n_head=heads,
                n_positions=max_len,
                pad_token_id=0,
            )
            return GPT2Model(gpt2_config)
    raise ValueError(f"unknown random-init architecture {arch!r}; known: bert, gpt2")


def load_random_init(spec: ModelSpec, device: str) -> HFEmbedder:
    options = dict(spec.options)
    max_len = int(options.get("max_tokens", 512))
    return HFEmbedder(
        build_random_model(options),
        char_tokenizer(max_len),
        pooling=str(options.get("pooling", "mean")),
        max_tokens=max_len,
        device=device,
    )


def untrained_twin(auto: Any, source: str, common: dict[str, Any], config: Any = None, seed: int = 0) -> Any:
    """``auto``'s model for ``source``'s config with the class's own initialisation, from a private
    generator seeded ``seed``: the same twin on every run, the global RNG untouched. The checkpoint's
    weights are never read; its config (and remote code, when allowed) are."""
    import torch
    from transformers import AutoConfig

    if config is None:
        config = AutoConfig.from_pretrained(source, **common)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return auto.from_config(config, trust_remote_code=common.get("trust_remote_code", False))
