"""Random-weight Wan 2.1 checkpoints in the diffusers layout (tests, benchmarks, install checks).

``build_random_wan(path, preset="tiny")`` writes a whole ``WanPipeline`` directory (tokenizer,
UMT5 text encoder, VAE, transformer, scheduler) that ``--base PATH`` accepts, offline, in seconds.
``random_transformer`` / ``random_vae`` build the models alone at any preset, e.g. the real
Wan 2.1 1.3B sizes for timing on a GPU (no text encoder needed: prompts are cached embeddings).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

# Wan 2.1 T2V 1.3B (Wan-AI/Wan2.1-T2V-1.3B-Diffusers transformer/config.json).
WAN21_1_3B_TRANSFORMER: dict[str, Any] = {
    "patch_size": (1, 2, 2),
    "num_attention_heads": 12,
    "attention_head_dim": 128,
    "in_channels": 16,
    "out_channels": 16,
    "text_dim": 4096,
    "freq_dim": 256,
    "ffn_dim": 8960,
    "num_layers": 30,
    "cross_attn_norm": True,
    "qk_norm": "rms_norm_across_heads",
    "eps": 1e-6,
}
WAN21_VAE: dict[str, Any] = {"base_dim": 96, "z_dim": 16, "dim_mult": [1, 2, 4, 4], "num_res_blocks": 2}

TINY_TEXT_DIM = 32
TINY_TRANSFORMER: dict[str, Any] = {
    **WAN21_1_3B_TRANSFORMER,
    "num_attention_heads": 2,
    "attention_head_dim": 16,
    "text_dim": TINY_TEXT_DIM,
    "freq_dim": 32,
    "ffn_dim": 64,
    "num_layers": 2,
}
TINY_VAE: dict[str, Any] = {"base_dim": 16, "z_dim": 16, "dim_mult": [1, 2, 4, 4], "num_res_blocks": 1}
PRESETS = {"tiny": (TINY_TRANSFORMER, TINY_VAE), "wan2.1-1.3b": (WAN21_1_3B_TRANSFORMER, WAN21_VAE)}
TINY_VOCAB = ["<pad>", "</s>", "<unk>", "depth", "normal", "a", "video", "of", "glass"]


def _preset(preset: str) -> tuple[dict[str, Any], dict[str, Any]]:
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; allowed: {sorted(PRESETS)}")
    return PRESETS[preset]


def random_transformer(preset: str = "tiny", seed: int = 0, **overrides: Any):
    """A ``WanTransformer3DModel`` with random weights (seeded) at a preset's sizes."""
    from diffusers import WanTransformer3DModel

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return WanTransformer3DModel(**{**_preset(preset)[0], **overrides})


def random_vae(preset: str = "tiny", seed: int = 0):
    """An ``AutoencoderKLWan`` with random weights (seeded) at a preset's sizes."""
    from diffusers import AutoencoderKLWan

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return AutoencoderKLWan(**_preset(preset)[1])


def tiny_tokenizer():
    """A word-level fast tokenizer standing in for UMT5's (pad 0, eos 1, unk 2)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {word: i for i, word in enumerate(TINY_VOCAB)}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    core.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")


def tiny_text_encoder(seed: int = 0):
    """A one-layer UMT5 encoder whose width matches the tiny transformer's ``text_dim``."""
    from transformers import UMT5Config, UMT5EncoderModel

    config = UMT5Config(
        vocab_size=len(TINY_VOCAB),
        d_model=TINY_TEXT_DIM,
        d_kv=8,
        d_ff=64,
        num_layers=1,
        num_heads=4,
        relative_attention_num_buckets=8,
        relative_attention_max_distance=16,
        dropout_rate=0.0,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return UMT5EncoderModel(config).eval()


def build_random_wan(path: str | Path, seed: int = 0, **transformer_overrides: Any) -> Path:
    """Write a tiny random Wan 2.1 pipeline directory (diffusers layout) at ``path``; returns it."""
    from diffusers import UniPCMultistepScheduler, WanPipeline

    scheduler = UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0, num_train_timesteps=1000
    )
    pipe = WanPipeline(
        tokenizer=tiny_tokenizer(),
        text_encoder=tiny_text_encoder(seed),
        vae=random_vae("tiny", seed + 1),
        scheduler=scheduler,
        transformer=random_transformer("tiny", seed + 2, **transformer_overrides),
    )
    pipe.save_pretrained(str(path))
    return Path(path)
