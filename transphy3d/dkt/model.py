"""The DKT model: a Wan 2.1 transformer conditioned on the RGB latent, adapted with LoRA.

- ``load_base`` reads the transformer and VAE of a local base (``bases``: ``fun-control`` as
  published, or a ``t2v`` diffusers directory).
- The conditioning (``predict``) depends on the base: a Fun-Control DiT takes 48 channels,
  [noisy target latent | RGB latent (the control latent) | 16 zeros], and zero CLIP image features
  (1 x 257 x 1280), as the official ``WanVideoUnit_FunControl_Mask``; a T2V DiT gets the RGB latent
  through ``widen_patch_embedding``: the patch embedding takes 2 x 16 channels, the old weights
  act on the target half, the RGB half starts at zero (same output at init) and trains.
- ``add_lora`` injects peft LoRA layers (diffusers' ``add_adapter``) into attention and FFN.
- ``LatentCodec`` wraps the frozen VAE, including the ``latents_mean`` / ``latents_std``
  normalisation diffusers leaves to the caller.
- ``save_dkt_weights`` / ``load_dkt_transformer``: a checkpoint is the LoRA file in diffusers'
  format (keys prefixed ``transformer.``: ``pipe.load_lora_weights(dir)`` and
  ``transformer.load_lora_adapter(dir)`` both work with their defaults), the widened patch
  embedding (T2V only) and ``dkt.json``. Released DKT LoRAs (DiffSynth names) load through
  ``released``.
"""

from __future__ import annotations

import gc
import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from pydantic import TypeAdapter, ValidationError

from transphy3d.dkt.bases import Base, BaseKind, detect_base
from transphy3d.dkt.settings import (
    DEFAULT_LORA_TARGETS,
    LoraSettings,
    Objective,
    Task,
    check_frame_count,
    check_frame_size,
)
from transphy3d.errors import UserError
from transphy3d.files import atomic_path
from transphy3d.reading import read_json

LORA_WEIGHTS_FILE = "pytorch_lora_weights.safetensors"
PATCH_EMBEDDING_FILE = "patch_embedding.safetensors"
DKT_CONFIG_FILE = "dkt.json"
PROMPT_FILE = "prompt_embeds.safetensors"
PROMPTS = {"depth": "depth", "normal": "normal"}
MAX_SEQUENCE_LENGTH = 512
CLIP_TOKENS = 257  # CLIP ViT-H/14 image tokens of the Fun models; zeros in DKT


@dataclass
class DKTConfig:
    """What a checkpoint needs to be rebuilt: written to ``dkt.json``."""

    task: Task = "depth"
    prompt: str = "depth"
    objective: Objective = "flow"  # "flow" (velocity, multi-step) or "single_step" (DVD)
    single_step_timestep: float = 1000.0
    shift: float = 5.0
    lora: dict[str, Any] = field(default_factory=lambda: LoraSettings().model_dump(mode="json"))
    in_channels: int = 32
    base_kind: BaseKind = "t2v"  # checkpoints written before base kinds existed are T2V ones
    base: str = ""
    step: int = 0

    def save(self, directory: Path) -> None:
        from transphy3d.files import write_json

        write_json(Path(directory) / DKT_CONFIG_FILE, asdict(self))

    @classmethod
    def load(cls, directory: Path) -> DKTConfig:
        path = Path(directory) / DKT_CONFIG_FILE
        if not path.is_file():
            raise UserError(
                f"not a DKT checkpoint (no {DKT_CONFIG_FILE}); pass a directory written by train-dkt",
                path=str(directory),
            )
        data = read_json(path, "checkpoint config")
        if not isinstance(data, dict):
            raise UserError("not a checkpoint config (a JSON object)", path=str(path))
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        try:
            return TypeAdapter(cls).validate_python(known)
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            key = ".".join(str(p) for p in first["loc"])
            raise UserError(f"{first['msg']} (got {first.get('input')!r})", path=str(path), field=key) from None


def check_base_dir(base: str | Path) -> Base:
    """The base directory and its kind, or a UserError naming what is missing."""
    return detect_base(base)


def load_base(base: str | Path, dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu"):
    """(transformer, vae) of a local base directory; the VAE frozen in eval mode."""
    from transphy3d.dkt import bases

    found = detect_base(base)
    try:
        transformer = bases.load_transformer(found, dtype)
        vae = bases.load_vae(found, dtype)
    except (OSError, ValueError, RuntimeError) as error:  # missing or damaged weight files
        raise UserError(f"cannot load the Wan 2.1 transformer/VAE ({error})", path=str(base), field="--base") from error
    vae.requires_grad_(False).eval()
    return transformer.to(device), vae.to(device)


def base_kind_of(transformer) -> BaseKind:
    """``fun-control`` for a DiT with image (CLIP) conditioning and 3 x 16 input channels, else ``t2v``."""
    config = transformer.config
    fun = config.image_dim is not None and config.in_channels == 3 * config.out_channels
    return "fun-control" if fun else "t2v"


def widen_patch_embedding(transformer, extra_channels: int | None = None) -> None:
    """Give the patch embedding ``extra_channels`` more input channels (default: as many again),
    placed after the old ones, with zero weights; the output is unchanged until they train."""
    old = transformer.patch_embedding
    extra = old.in_channels if extra_channels is None else extra_channels
    new = torch.nn.Conv3d(
        old.in_channels + extra,
        old.out_channels,
        old.kernel_size,
        old.stride,
        device=old.weight.device,
        dtype=old.weight.dtype,
    )
    with torch.no_grad():
        new.weight.zero_()
        new.weight[:, : old.in_channels] = old.weight
        new.bias.copy_(old.bias)
    transformer.patch_embedding = new
    transformer.register_to_config(in_channels=new.in_channels)


def add_lora(transformer, settings: LoraSettings, seed: int = 0) -> None:
    """Freeze the transformer, add a LoRA adapter on ``settings.targets``; the patch embedding
    trains too when it was widened (T2V).

    peft draws the initial ``lora_A`` from torch's global generator; it is forked and seeded with
    ``seed`` here, so the same seed gives the same adapter and the caller's RNG is untouched.
    """
    from peft import LoraConfig

    names = [name for name, _ in transformer.named_modules()]
    for target in settings.targets:
        if not any(name == target or name.endswith("." + target) for name in names):
            raise UserError(
                f"no module of the transformer matches {target!r}; e.g. {', '.join(DEFAULT_LORA_TARGETS)}",
                field="--lora-targets",
            )
    if settings.rank < 1:
        raise UserError(f"must be >= 1, got {settings.rank}", field="--lora-rank")
    transformer.requires_grad_(False)
    config = LoraConfig(
        r=settings.rank,
        lora_alpha=settings.alpha,
        target_modules=list(settings.targets),
        init_lora_weights=True,
    )
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        transformer.add_adapter(config)
    transformer.patch_embedding.requires_grad_(base_kind_of(transformer) == "t2v")


def build_dkt_transformer(
    base: str | Path,
    lora: LoraSettings,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
    seed: int = 0,
):
    """(transformer + fresh LoRA, frozen vae) ready to train; T2V bases get the widened patch
    embedding. ``released.build_from_lora`` starts from an existing LoRA instead."""
    transformer, vae = load_base(base, dtype, device)
    if base_kind_of(transformer) == "t2v":
        widen_patch_embedding(transformer)
    add_lora(transformer, lora, seed)
    return transformer, vae


def save_dkt_weights(transformer, directory: str | Path, config: DKTConfig) -> Path:
    """Write the LoRA (diffusers format), the patch embedding and ``dkt.json`` into ``directory``."""
    from diffusers import WanPipeline
    from peft.utils import get_peft_model_state_dict
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    lora_layers = {k: v.detach().float().cpu().contiguous() for k, v in get_peft_model_state_dict(transformer).items()}
    peft_config = transformer.peft_config["default"]
    metadata = peft_config.to_dict()
    targets = peft_config.target_modules
    config.lora = {
        "rank": int(peft_config.r),
        "alpha": float(peft_config.lora_alpha),
        "targets": sorted(targets) if isinstance(targets, set | list | tuple) else [str(targets)],
    }
    WanPipeline.save_lora_weights(
        str(directory),
        transformer_lora_layers=lora_layers,
        transformer_lora_adapter_metadata=metadata,
        weight_name=LORA_WEIGHTS_FILE,
    )
    embed = transformer.patch_embedding
    config.base_kind = base_kind_of(transformer)
    if config.base_kind == "t2v":  # the widened embedding trained; a Fun-Control one stays as shipped
        save_file(
            {
                "weight": embed.weight.detach().float().cpu().contiguous(),
                "bias": embed.bias.detach().float().cpu().contiguous(),
            },
            str(directory / PATCH_EMBEDDING_FILE),
        )
    config.in_channels = int(embed.in_channels)
    config.save(directory)
    return directory


def load_patch_embedding(transformer, directory: str | Path) -> None:
    """Widen ``transformer``'s patch embedding to the saved width and load the saved weights."""
    from transphy3d.dkt.weights_files import load_safetensors, tensor_named

    path = Path(directory) / PATCH_EMBEDDING_FILE
    if not path.is_file():
        raise UserError(f"missing {PATCH_EMBEDDING_FILE}: not a DKT checkpoint", path=str(directory))
    state = load_safetensors(path)
    width = tensor_named(state, "weight", path).shape[1]
    tensor_named(state, "bias", path)
    if transformer.patch_embedding.in_channels != width:
        widen_patch_embedding(transformer, width - transformer.patch_embedding.in_channels)
    ref = transformer.patch_embedding.weight
    transformer.patch_embedding.load_state_dict({k: v.to(ref.device, ref.dtype) for k, v in state.items()})


def load_dkt_transformer(
    base: str | Path,
    checkpoint: str | Path,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
):
    """(transformer with the checkpoint's patch embedding and LoRA, vae, config) for inference.

    The LoRA goes through diffusers' own ``load_lora_adapter`` (keys prefixed ``transformer.``).
    """
    from transphy3d.dkt.weights_files import check_safetensors

    checkpoint = Path(checkpoint)
    config = DKTConfig.load(checkpoint)
    if not (checkpoint / LORA_WEIGHTS_FILE).is_file():
        raise UserError(f"missing {LORA_WEIGHTS_FILE}: not a DKT checkpoint", path=str(checkpoint))
    check_base_kind(detect_base(base), config.base_kind, checkpoint)
    transformer, vae = load_base(base, dtype, device)
    if config.base_kind == "t2v":
        load_patch_embedding(transformer, checkpoint)
    check_safetensors(checkpoint / LORA_WEIGHTS_FILE)
    transformer.load_lora_adapter(str(checkpoint), weight_name=LORA_WEIGHTS_FILE, prefix="transformer")
    if not getattr(transformer, "peft_config", None):
        raise UserError(f"{LORA_WEIGHTS_FILE} holds no transformer LoRA keys", path=str(checkpoint))
    transformer.requires_grad_(False).eval()
    return transformer.to(device), vae, config


def check_base_kind(base: Base, kind: str, checkpoint: Path) -> None:
    if base.kind != kind:
        raise UserError(
            f"the checkpoint was trained on a {kind} base; --base {base.path} is {base.kind}",
            path=str(checkpoint),
            field="--base",
        )


def predict(
    transformer,
    target_latent: torch.Tensor,
    rgb_latent: torch.Tensor,
    timestep: torch.Tensor,
    prompt_embeds: torch.Tensor,
) -> torch.Tensor:
    """The transformer's output for the noisy target latent conditioned on the RGB latent: channels
    [target, RGB] (T2V), or [target, RGB, zeros] with zero CLIP image features (Fun-Control)."""
    batch = target_latent.shape[0]
    rgb = rgb_latent.to(target_latent.dtype)
    extra: dict[str, torch.Tensor] = {}
    if base_kind_of(transformer) == "fun-control":
        hidden = torch.cat([target_latent, rgb, torch.zeros_like(target_latent)], dim=1)
        if prompt_embeds.shape[1] != MAX_SEQUENCE_LENGTH:  # diffusers splits image from text tokens as len - 512
            raise ValueError(f"Fun-Control needs {MAX_SEQUENCE_LENGTH} text tokens, got {prompt_embeds.shape[1]}")
        extra["encoder_hidden_states_image"] = torch.zeros(
            batch, CLIP_TOKENS, transformer.config.image_dim, device=hidden.device, dtype=prompt_embeds.dtype
        )
    else:
        hidden = torch.cat([target_latent, rgb], dim=1)
    if prompt_embeds.shape[0] != batch:
        prompt_embeds = prompt_embeds.expand(batch, -1, -1)
    timestep = timestep.expand(batch) if timestep.ndim == 1 and timestep.shape[0] == 1 else timestep
    return transformer(
        hidden_states=hidden, timestep=timestep, encoder_hidden_states=prompt_embeds, return_dict=False, **extra
    )[0]


def check_video_shape(num_frames: int, height: int, width: int, where: str = "video") -> None:
    """The Wan VAE silently drops frames unless F = 4N+1, and needs H, W multiples of 16."""
    check_frame_count(num_frames, where)
    check_frame_size(width, height, where)


class LatentCodec:
    """The frozen Wan VAE with latent normalisation: videos in [-1, 1], (B, 3, F, H, W)."""

    def __init__(self, vae):
        self.vae = vae
        z = vae.config.z_dim
        self.mean = torch.tensor(vae.config.latents_mean, dtype=torch.float32).view(1, z, 1, 1, 1)
        self.std = torch.tensor(vae.config.latents_std, dtype=torch.float32).view(1, z, 1, 1, 1)

    @property
    def device(self) -> torch.device:
        return next(self.vae.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.vae.parameters()).dtype

    @torch.no_grad()
    def encode(self, video: torch.Tensor) -> torch.Tensor:
        """Normalised latents (B, z, 1 + (F-1)/4, H/8, W/8), float32, of a video in [-1, 1]."""
        check_video_shape(video.shape[2], video.shape[3], video.shape[4])
        video = video.to(dtype=self.dtype).to(self.device)  # cast first: no float32 copy on the device
        latents = self.vae.encode(video).latent_dist.mode().float()
        return (latents - self.mean.to(latents.device)) / self.std.to(latents.device)

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """The video (B, 3, F, H, W), float32 clamped to [-1, 1], of normalised latents."""
        latents = latents.float() * self.std.to(latents.device) + self.mean.to(latents.device)
        video = self.vae.decode(latents.to(self.device, self.dtype), return_dict=False)[0]
        return video.float().clamp(-1.0, 1.0)


def _text_encoder_fingerprint(base: Base) -> str:
    from transphy3d.dkt.bases import text_encoder_files

    parts = [base.kind]
    for path in text_encoder_files(base):
        parts.append(f"{path.relative_to(base.path)}:{path.stat().st_size}")
        if path.suffix == ".json":
            parts.append(path.read_text(encoding="utf-8"))
    return "\n".join(parts)


def encode_prompt_cached(
    base: str | Path, prompt: str, cache_dir: str | Path, max_sequence_length: int = MAX_SEQUENCE_LENGTH
) -> torch.Tensor:
    """The UMT5 embedding (1, L, text_dim) of ``prompt``, float32 on CPU, cached in ``cache_dir``.

    Encoded as diffusers' ``WanPipeline.encode_prompt`` does (cleaned text, padded with zeros to
    ``max_sequence_length`` tokens, as the official Wan prompter). On a cache miss the text encoder
    is loaded, used once and released, so nothing that trains or infers afterwards holds it.
    """
    from safetensors.torch import load_file, save_file

    from transphy3d.dkt.bases import load_text_encoder

    found = detect_base(base)
    key = hashlib.sha256(f"{prompt}\n{max_sequence_length}\n{_text_encoder_fingerprint(found)}".encode()).hexdigest()
    cache_dir = Path(cache_dir)
    path = cache_dir / f"prompt_{key[:20]}.safetensors"
    if path.is_file():
        return load_file(str(path))["prompt_embeds"]
    from diffusers import WanPipeline

    tokenizer, encoder = load_text_encoder(found)
    pipe = WanPipeline(tokenizer=tokenizer, text_encoder=encoder, vae=None, scheduler=None, transformer=None)
    with torch.no_grad():
        embeds, _ = pipe.encode_prompt(
            prompt,
            do_classifier_free_guidance=False,
            max_sequence_length=max_sequence_length,
            device=torch.device("cpu"),
        )
    embeds = embeds.float().contiguous()
    del pipe, encoder, tokenizer
    gc.collect()
    cache_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        save_file({"prompt_embeds": embeds}, str(tmp), metadata={"prompt": prompt})
    return embeds


def save_prompt_embeds(embeds: torch.Tensor, directory: str | Path) -> None:
    from safetensors.torch import save_file

    save_file({"prompt_embeds": embeds.float().cpu().contiguous()}, str(Path(directory) / PROMPT_FILE))


def load_prompt_embeds(directory: str | Path) -> torch.Tensor | None:
    from transphy3d.dkt.weights_files import load_safetensors, tensor_named

    path = Path(directory) / PROMPT_FILE
    return tensor_named(load_safetensors(path), "prompt_embeds", path) if path.is_file() else None
