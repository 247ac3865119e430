"""Wan 2.1 weights in the original (non-diffusers) file layout, as Wan2.1-Fun-Control ships them.

``alibaba-pai/Wan2.1-Fun-1.3B-Control`` (and ``-14B-Control``) hold, at the top level:

- ``config.json``: the original ``WanModel`` config (``in_dim`` 48, ``dim``, ``num_heads``, ...);
- ``diffusion_pytorch_model*.safetensors``: the DiT in the original key layout
  (``blocks.0.self_attn.q.weight``, ``img_emb.proj.1.weight``, ...), sharded for 14B;
- ``Wan2.1_VAE.pth``: the VAE state dict in the original layout;
- ``models_t5_umt5-xxl-enc-bf16.pth``: the UMT5-XXL encoder in Wan's own layout;
- ``google/umt5-xxl/``: its tokenizer (and a CLIP image encoder DKT does not use: its image
  features are zeros).

The DiT and the VAE go through diffusers' own single-file conversions
(``convert_wan_transformer_to_diffusers``, ``convert_wan_vae_to_diffusers``); Wan's T5 has none
there, so ``T5_KEYS`` maps it onto transformers' ``UMT5EncoderModel``. Model sizes are read off the
weights (and ``num_heads`` off ``config.json``), so any size in this layout loads.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from transphy3d.errors import UserError
from transphy3d.reading import read_json

CONFIG_FILE = "config.json"
TRANSFORMER_GLOB = "diffusion_pytorch_model*.safetensors"
VAE_FILE = "Wan2.1_VAE.pth"
T5_FILE = "models_t5_umt5-xxl-enc-bf16.pth"
TOKENIZER_DIR = "google/umt5-xxl"
HEAD_DIM = 128  # every released Wan 2.1 DiT: 1.3B 12 x 128, 14B 40 x 128
T5_MAX_DISTANCE = 128  # Wan's T5RelativeEmbedding default


def _per_layer_t5_keys(i: int) -> dict[str, str]:
    hf = f"encoder.block.{i}.layer"
    return {
        f"blocks.{i}.norm1.weight": f"{hf}.0.layer_norm.weight",
        f"blocks.{i}.attn.q.weight": f"{hf}.0.SelfAttention.q.weight",
        f"blocks.{i}.attn.k.weight": f"{hf}.0.SelfAttention.k.weight",
        f"blocks.{i}.attn.v.weight": f"{hf}.0.SelfAttention.v.weight",
        f"blocks.{i}.attn.o.weight": f"{hf}.0.SelfAttention.o.weight",
        f"blocks.{i}.pos_embedding.embedding.weight": f"{hf}.0.SelfAttention.relative_attention_bias.weight",
        f"blocks.{i}.norm2.weight": f"{hf}.1.layer_norm.weight",
        # Wan: fc2(fc1(x) * gelu_tanh(gate(x))); transformers: wo(gelu_new(wi_0(x)) * wi_1(x))
        f"blocks.{i}.ffn.gate.0.weight": f"{hf}.1.DenseReluDense.wi_0.weight",
        f"blocks.{i}.ffn.fc1.weight": f"{hf}.1.DenseReluDense.wi_1.weight",
        f"blocks.{i}.ffn.fc2.weight": f"{hf}.1.DenseReluDense.wo.weight",
    }


def t5_keys(num_layers: int) -> dict[str, str]:
    """Wan T5 encoder key -> ``UMT5EncoderModel`` key (the token embedding also feeds
    ``encoder.embed_tokens``, tied to ``shared``)."""
    keys = {"token_embedding.weight": "shared.weight", "norm.weight": "encoder.final_layer_norm.weight"}
    for i in range(num_layers):
        keys.update(_per_layer_t5_keys(i))
    return keys


def _num_blocks(state: dict[str, Any], prefix: str = "blocks.") -> int:
    indices = {int(k[len(prefix) :].split(".")[0]) for k in state if k.startswith(prefix)}
    return max(indices) + 1 if indices else 0


def _load_torch_file(path: Path, what: str) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise UserError(f"no {path.name} ({what}) in the base directory", path=str(path.parent), field="--base")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as error:  # a damaged zip/pickle raises many types
        raise UserError(f"cannot read the {what} ({error})", path=str(path), field="--base") from error
    if isinstance(state, dict) and "model_state" in state:
        state = state["model_state"]
    if not isinstance(state, dict):
        raise UserError(f"not a state dict ({what})", path=str(path), field="--base")
    return state


def cast(model: torch.nn.Module, dtype: torch.dtype) -> torch.nn.Module:
    """``model`` in ``dtype`` except the modules diffusers keeps in float32 (as ``from_pretrained``
    with ``torch_dtype`` does: time embedder, modulation tables, norms)."""
    keep = getattr(model, "_keep_in_fp32_modules", None) or []
    for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
        if not tensor.is_floating_point():
            continue
        target = torch.float32 if any(k in name.split(".") for k in keep) else dtype
        tensor.data = tensor.data.to(target)
    return model


def _assign(model: torch.nn.Module, state: dict[str, torch.Tensor], where: Path, what: str) -> None:
    """Load ``state`` into a model built on the meta device; every key must fit exactly."""
    expected = set(model.state_dict())
    missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
    if missing or unexpected:
        raise UserError(
            f"the {what} does not fit the model its weights describe: missing {missing[:3]}, unexpected {unexpected[:3]}",
            path=str(where),
            field="--base",
        )
    try:
        model.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as error:  # shape mismatch
        raise UserError(f"the {what} has inconsistent shapes ({error})", path=str(where), field="--base") from None


# ------------------------------------------------------------------------------ transformer
def transformer_files(base: Path) -> list[Path]:
    return sorted(base.glob(TRANSFORMER_GLOB))


def read_original_config(base: Path) -> dict[str, Any]:
    path = base / CONFIG_FILE
    data = read_json(path, "transformer config")
    if not isinstance(data, dict):
        raise UserError("not a JSON object", path=str(path), field="--base")
    return data


def transformer_config(state: dict[str, torch.Tensor], original: dict[str, Any]) -> dict[str, Any]:
    """``WanTransformer3DModel`` keyword arguments of an original-layout DiT state dict."""
    embed = state["patch_embedding.weight"]
    dim, in_dim, patch = int(embed.shape[0]), int(embed.shape[1]), tuple(int(s) for s in embed.shape[2:])
    heads = int(original.get("num_heads", dim // HEAD_DIM))
    config: dict[str, Any] = {
        "patch_size": patch,
        "num_attention_heads": heads,
        "attention_head_dim": dim // heads,
        "in_channels": in_dim,
        "out_channels": int(state["head.head.weight"].shape[0]) // math.prod(patch),
        "text_dim": int(state["text_embedding.0.weight"].shape[1]),
        "freq_dim": int(state["time_embedding.0.weight"].shape[1]),
        "ffn_dim": int(state["blocks.0.ffn.0.weight"].shape[0]),
        "num_layers": _num_blocks(state),
        "cross_attn_norm": "blocks.0.norm3.weight" in state,
        "qk_norm": "rms_norm_across_heads",
        "eps": float(original.get("eps", 1e-6)),
    }
    if "img_emb.proj.1.weight" in state:
        config["image_dim"] = int(state["img_emb.proj.1.weight"].shape[1])
    if "blocks.0.cross_attn.k_img.weight" in state:
        config["added_kv_proj_dim"] = dim
    if "img_emb.emb_pos" in state:
        config["pos_embed_seq_len"] = int(state["img_emb.emb_pos"].shape[1])
    return config


def load_transformer(base: Path, dtype: torch.dtype = torch.float32):
    """The ``WanTransformer3DModel`` of an original-layout DiT (one or more safetensors shards)."""
    from accelerate import init_empty_weights
    from diffusers import WanTransformer3DModel
    from diffusers.loaders.single_file_utils import convert_wan_transformer_to_diffusers
    from safetensors.torch import load_file

    files = transformer_files(base)
    if not files:
        raise UserError(f"no {TRANSFORMER_GLOB} in the base directory", path=str(base), field="--base")
    state: dict[str, torch.Tensor] = {}
    for path in files:
        try:
            state.update(load_file(str(path)))
        except Exception as error:  # safetensors raises its own error types for damaged files
            raise UserError(f"cannot read the transformer weights ({error})", path=str(path), field="--base") from None
    missing = [k for k in ("patch_embedding.weight", "head.head.weight", "blocks.0.ffn.0.weight") if k not in state]
    if missing:
        raise UserError(
            f"not a Wan DiT in the original key layout (no {missing[0]})", path=str(files[0]), field="--base"
        )
    config = transformer_config(state, read_original_config(base))
    converted = convert_wan_transformer_to_diffusers(state)
    with init_empty_weights():
        model = WanTransformer3DModel(**config)
    _assign(model, converted, files[0], "transformer")
    return cast(model, dtype)


# -------------------------------------------------------------------------------------- VAE
def vae_config(state: dict[str, torch.Tensor]) -> dict[str, Any]:
    """``AutoencoderKLWan`` keyword arguments of an original-layout VAE state dict (Wan 2.1's
    stage layout: dim_mult [1, 2, 4, 4], temporal downsampling in the last two stages)."""
    encoder_blocks = _num_blocks(state, "encoder.downsamples.")  # 4 stages x res blocks + 3 resamples
    return {
        "base_dim": int(state["encoder.conv1.weight"].shape[0]),
        "z_dim": int(state["conv2.weight"].shape[0]),
        "num_res_blocks": (encoder_blocks - 3) // 4,
    }


def load_vae(base: Path, dtype: torch.dtype = torch.float32):
    """The ``AutoencoderKLWan`` of ``Wan2.1_VAE.pth`` (latent mean/std: diffusers' Wan 2.1 defaults,
    the same constants the official VAE normalises with)."""
    from accelerate import init_empty_weights
    from diffusers import AutoencoderKLWan
    from diffusers.loaders.single_file_utils import convert_wan_vae_to_diffusers

    path = base / VAE_FILE
    state = _load_torch_file(path, "VAE")
    if "encoder.conv1.weight" not in state or "conv2.weight" not in state:
        raise UserError("not a Wan 2.1 VAE in the original key layout", path=str(path), field="--base")
    config = vae_config(state)
    if config["num_res_blocks"] != 2:
        raise UserError(
            f"{config['num_res_blocks']} residual blocks per stage; the Wan 2.1 VAE layout has 2",
            path=str(path),
            field="--base",
        )
    with init_empty_weights():
        model = AutoencoderKLWan(**config)
    _assign(model, convert_wan_vae_to_diffusers(state), path, "VAE")
    return cast(model, dtype)


# --------------------------------------------------------------------------------------- T5
def t5_config(state: dict[str, torch.Tensor]):
    """The ``UMT5Config`` of Wan's T5 encoder state dict (UMT5: relative positions per layer)."""
    from transformers import UMT5Config

    vocab, d_model = state["token_embedding.weight"].shape
    buckets, heads = state["blocks.0.pos_embedding.embedding.weight"].shape
    return UMT5Config(
        vocab_size=int(vocab),
        d_model=int(d_model),
        d_kv=int(state["blocks.0.attn.q.weight"].shape[0]) // int(heads),
        d_ff=int(state["blocks.0.ffn.fc1.weight"].shape[0]),
        num_layers=_num_blocks(state),
        num_heads=int(heads),
        relative_attention_num_buckets=int(buckets),
        relative_attention_max_distance=T5_MAX_DISTANCE,
        feed_forward_proj="gated-gelu",
        layer_norm_epsilon=1e-6,
        dropout_rate=0.0,
    )


def load_text_encoder(base: Path, dtype: torch.dtype = torch.float32):
    """The ``UMT5EncoderModel`` of ``models_t5_umt5-xxl-enc-bf16.pth`` (Wan's T5 layout)."""
    from accelerate import init_empty_weights
    from transformers import UMT5EncoderModel

    path = base / T5_FILE
    state = _load_torch_file(path, "T5 text encoder")
    if "token_embedding.weight" not in state or "blocks.0.pos_embedding.embedding.weight" not in state:
        raise UserError(
            "not a Wan T5 encoder (token_embedding, blocks.N.pos_embedding)", path=str(path), field="--base"
        )
    config = t5_config(state)
    names = t5_keys(config.num_layers)
    unknown = sorted(set(state) - set(names))
    if unknown:
        raise UserError(f"unexpected T5 keys {unknown[:3]}", path=str(path), field="--base")
    converted = {names[k]: v for k, v in state.items()}
    converted["encoder.embed_tokens.weight"] = converted["shared.weight"]
    with init_empty_weights():
        model = UMT5EncoderModel(config)
    _assign(model, converted, path, "T5 text encoder")
    model.tie_weights()
    return cast(model, dtype).eval()


def load_tokenizer(base: Path):
    from transformers import AutoTokenizer

    folder = base / TOKENIZER_DIR
    if not folder.is_dir():
        raise UserError(f"no {TOKENIZER_DIR}/ tokenizer folder", path=str(base), field="--base")
    return AutoTokenizer.from_pretrained(str(folder))
