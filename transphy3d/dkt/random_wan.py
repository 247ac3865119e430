"""Public testing module: random-weight Wan 2.1 checkpoints in the diffusers layout, for users'
and our own tests, the benchmarks and install checks (docs/architecture.md, "Testing utilities").

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


# ------------------------------------------------- Wan2.1-Fun-Control in its published layout
TINY_FUN_CONTROL: dict[str, Any] = {
    **TINY_TRANSFORMER,
    # head_dim 24: Wan's original RoPE split (head_dim - 2 (head_dim // 3), head_dim // 3, head_dim // 3)
    # and diffusers' agree only when head_dim // 3 is even (as for the real 128)
    "attention_head_dim": 24,
    "in_channels": 48,  # [noisy target | control (RGB) latent | 16 mask channels]
    "image_dim": 1280,  # CLIP ViT-H features, zeros in DKT
    "added_kv_proj_dim": 2 * 24,
}
# The VAE conversion of diffusers knows Wan 2.1's layout of 2 residual blocks per stage only.
TINY_ORIGINAL_VAE: dict[str, Any] = {**TINY_VAE, "num_res_blocks": 2}


def original_transformer_keys(num_layers: int, image: bool) -> list[str]:
    """The parameter names of Wan's original ``WanModel`` (DiT) with ``num_layers`` blocks."""
    linear = ("weight", "bias")
    keys = [f"patch_embedding.{p}" for p in linear]
    keys += [f"{m}.{p}" for m in ("text_embedding.0", "text_embedding.2", "time_embedding.0", "time_embedding.2",
                                  "time_projection.1", "head.head") for p in linear]  # fmt: skip
    keys.append("head.modulation")
    if image:
        keys += [f"img_emb.proj.{i}.{p}" for i in (0, 1, 3, 4) for p in linear]
    for i in range(num_layers):
        b = f"blocks.{i}"
        keys += [f"{b}.{a}.{m}.{p}" for a in ("self_attn", "cross_attn") for m in "qkvo" for p in linear]
        keys += [f"{b}.{a}.{n}.weight" for a in ("self_attn", "cross_attn") for n in ("norm_q", "norm_k")]
        if image:
            keys += [f"{b}.cross_attn.{m}.{p}" for m in ("k_img", "v_img") for p in linear]
            keys.append(f"{b}.cross_attn.norm_k_img.weight")
        keys += [f"{b}.norm3.{p}" for p in linear] + [f"{b}.ffn.{j}.{p}" for j in (0, 2) for p in linear]
        keys.append(f"{b}.modulation")
    return keys


_VAE_RESNET = {"norm1.gamma": "residual.0.gamma", "conv1.": "residual.2.", "norm2.gamma": "residual.3.gamma",
               "conv2.": "residual.6.", "conv_shortcut.": "shortcut."}  # fmt: skip


def _original_vae_key(key: str) -> str:
    """Wan's original name of a diffusers ``AutoencoderKLWan`` parameter (Wan 2.1 layout)."""
    simple = {"quant_conv.": "conv1.", "post_quant_conv.": "conv2.", "encoder.conv_in.": "encoder.conv1.",
              "decoder.conv_in.": "decoder.conv1.", "encoder.norm_out.": "encoder.head.0.",
              "encoder.conv_out.": "encoder.head.2.", "decoder.norm_out.": "decoder.head.0.",
              "decoder.conv_out.": "decoder.head.2."}  # fmt: skip
    for new, old in simple.items():
        if key.startswith(new):
            return old + key[len(new) :]
    parts = key.split(".")
    if parts[1] == "mid_block":
        if parts[2] == "attentions":
            return f"{parts[0]}.middle.1." + ".".join(parts[4:])
        rest = ".".join(parts[4:])
        return f"{parts[0]}.middle.{2 * int(parts[3])}." + _rename(rest)
    if parts[1] == "down_blocks":
        return f"encoder.downsamples.{parts[2]}." + _rename(".".join(parts[3:]))
    block = int(parts[2])
    if parts[3] == "upsamplers":
        return f"decoder.upsamples.{4 * block + 3}." + ".".join(parts[5:])
    return f"decoder.upsamples.{4 * block + int(parts[4])}." + _rename(".".join(parts[5:]))


def _rename(rest: str) -> str:
    for new, old in _VAE_RESNET.items():
        if rest.startswith(new):
            return old + rest[len(new) :]
    return rest


def _invert(converted: dict[str, str], model_keys: list[str], what: str) -> dict[str, str]:
    """Check that a conversion (original key -> diffusers key) hits every model key once."""
    if sorted(converted) != sorted(model_keys):
        missing = sorted(set(model_keys) - set(converted))[:3]
        extra = sorted(set(converted) - set(model_keys))[:3]
        raise AssertionError(f"{what}: original keys do not cover the model: missing {missing}, extra {extra}")
    return converted


def original_transformer_state(transformer) -> dict[str, torch.Tensor]:
    """A diffusers Wan transformer's weights under Wan's original names (checked against diffusers'
    own conversion, which must map them back onto every parameter)."""
    from diffusers.loaders.single_file_utils import convert_wan_transformer_to_diffusers

    state = transformer.state_dict()
    keys = original_transformer_keys(transformer.config.num_layers, transformer.config.image_dim is not None)
    names = _invert(convert_wan_transformer_to_diffusers({k: k for k in keys}), list(state), "transformer")
    return {original: state[new].contiguous() for new, original in names.items()}


def original_vae_state(vae) -> dict[str, torch.Tensor]:
    from diffusers.loaders.single_file_utils import convert_wan_vae_to_diffusers

    state = vae.state_dict()
    keys = [_original_vae_key(k) for k in state]
    names = _invert(convert_wan_vae_to_diffusers({k: k for k in keys}), list(state), "VAE")
    return {original: state[new].contiguous() for new, original in names.items()}


def original_t5_state(encoder) -> dict[str, torch.Tensor]:
    from transphy3d.dkt.wan_original import t5_keys

    state = encoder.state_dict()
    return {original: state[new].contiguous() for original, new in t5_keys(encoder.config.num_layers).items()}


def build_random_fun_control(path: str | Path, seed: int = 0, **transformer_overrides: Any) -> Path:
    """Write a tiny random Wan2.1-Fun-Control base in its published layout (see ``wan_original``)."""
    import json

    from diffusers import AutoencoderKLWan, WanTransformer3DModel
    from safetensors.torch import save_file

    from transphy3d.dkt import wan_original as W

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    config = {**TINY_FUN_CONTROL, **transformer_overrides}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed + 2)
        transformer = WanTransformer3DModel(**config)
        torch.manual_seed(seed + 1)
        vae = AutoencoderKLWan(**TINY_ORIGINAL_VAE)
    save_file(original_transformer_state(transformer), str(path / "diffusion_pytorch_model.safetensors"))
    dim = config["num_attention_heads"] * config["attention_head_dim"]
    original_config = {
        "_class_name": "WanModel", "dim": dim, "eps": 1e-06, "ffn_dim": config["ffn_dim"],
        "freq_dim": config["freq_dim"], "in_dim": config["in_channels"], "model_type": "i2v",
        "num_heads": config["num_attention_heads"], "num_layers": config["num_layers"],
        "out_dim": config["out_channels"], "text_len": 512,
    }  # fmt: skip
    (path / W.CONFIG_FILE).write_text(json.dumps(original_config, indent=2), encoding="utf-8")
    torch.save(original_vae_state(vae), path / W.VAE_FILE)
    torch.save(original_t5_state(tiny_text_encoder(seed)), path / W.T5_FILE)
    tiny_tokenizer().save_pretrained(str(path / W.TOKENIZER_DIR))
    return path
