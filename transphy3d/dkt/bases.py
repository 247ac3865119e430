"""Which Wan 2.1 base a directory holds, and its transformer, VAE and text encoder.

Two kinds, told apart by their files:

- ``fun-control``: Wan2.1-Fun-1.3B-Control / Fun-14B-Control as published (the official DKT
  base; ``wan_original``): ``config.json`` with ``in_dim`` 48 and ``diffusion_pytorch_model*.safetensors``
  at the top level, ``Wan2.1_VAE.pth``, ``models_t5_umt5-xxl-enc-bf16.pth``, ``google/umt5-xxl/``.
  The DiT takes 48 channels: [noisy target | RGB latent as control | 16 zeros], and zero CLIP
  image features (``conditioning``).
- ``t2v``: a Wan 2.1 T2V directory in the diffusers layout (``transformer/``, ``vae/``,
  ``text_encoder/``, ``tokenizer/``); the patch embedding is widened to [noisy target | RGB].
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import torch

from transphy3d.dkt import wan_original
from transphy3d.errors import UserError
from transphy3d.reading import read_json_object

BaseKind = Literal["fun-control", "t2v"]
BASE_KINDS: tuple[str, ...] = get_args(BaseKind)
DIFFUSERS_PARTS = ("transformer", "vae")
HINT = (
    "expected Wan2.1-Fun-1.3B-Control as published (`huggingface-cli download alibaba-pai/Wan2.1-Fun-1.3B-Control "
    "--local-dir PATH`) or a Wan 2.1 T2V diffusers directory (Wan-AI/Wan2.1-T2V-1.3B-Diffusers)"
)


@dataclass(frozen=True)
class Base:
    """A local base directory and its kind."""

    path: Path
    kind: BaseKind


def detect_base(base: str | Path) -> Base:
    """The kind of ``base`` from its files, or a one-line error naming what is missing."""
    path = Path(base)
    if not path.is_dir():
        raise UserError(f"base weights directory not found; {HINT}", path=str(path), field="--base")
    if (path / wan_original.CONFIG_FILE).is_file() and wan_original.transformer_files(path):
        config = wan_original.read_original_config(path)
        if config.get("in_dim") != 48:
            raise UserError(
                f"in_dim {config.get('in_dim')!r} in config.json; a Fun-Control DiT takes 48 channels; {HINT}",
                path=str(path),
                field="--base",
            )
        if not (path / wan_original.VAE_FILE).is_file():
            raise UserError(f"no {wan_original.VAE_FILE}; {HINT}", path=str(path), field="--base")
        return Base(path, "fun-control")
    for part in DIFFUSERS_PARTS:
        if not (path / part / "config.json").is_file():
            raise UserError(f"no {part}/config.json; {HINT}", path=str(path), field="--base")
        read_json_object(path / part / "config.json")
    config = read_json_object(path / "transformer" / "config.json")
    if config.get("image_dim") is not None:
        raise UserError(
            "a diffusers image-conditioned Wan transformer; use Wan2.1-Fun-Control as published or a T2V base",
            path=str(path),
            field="--base",
        )
    return Base(path, "t2v")


def load_transformer(base: Base, dtype: torch.dtype = torch.float32):
    if base.kind == "fun-control":
        return wan_original.load_transformer(base.path, dtype)
    from diffusers import WanTransformer3DModel

    return WanTransformer3DModel.from_pretrained(base.path, subfolder="transformer", torch_dtype=dtype)


def load_vae(base: Base, dtype: torch.dtype = torch.float32):
    if base.kind == "fun-control":
        return wan_original.load_vae(base.path, dtype)
    from diffusers import AutoencoderKLWan

    return AutoencoderKLWan.from_pretrained(base.path, subfolder="vae", torch_dtype=dtype)


def text_encoder_files(base: Base) -> list[Path]:
    """The files the prompt embedding depends on (for the prompt cache key)."""
    if base.kind == "fun-control":
        folder = base.path / wan_original.TOKENIZER_DIR
        return [base.path / wan_original.T5_FILE, *sorted(p for p in folder.glob("*") if p.is_file())]
    return sorted(p for sub in ("text_encoder", "tokenizer") for p in (base.path / sub).glob("*") if p.is_file())


def load_text_encoder(base: Base):
    """(tokenizer, UMT5 encoder in float32) of the base."""
    if base.kind == "fun-control":
        return wan_original.load_tokenizer(base.path), wan_original.load_text_encoder(base.path)
    from transformers import AutoTokenizer, UMT5EncoderModel

    for part in ("text_encoder", "tokenizer"):
        if not (base.path / part).is_dir():
            raise UserError(
                f"no {part}/ directory (needed once, to encode the prompt)", path=str(base.path), field="--base"
            )
    tokenizer = AutoTokenizer.from_pretrained(base.path, subfolder="tokenizer")
    encoder = UMT5EncoderModel.from_pretrained(base.path, subfolder="text_encoder", torch_dtype=torch.float32)
    return tokenizer, encoder.eval()
