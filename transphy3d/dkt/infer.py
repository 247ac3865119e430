"""Inference on videos of any length.

As the official DKT inference (``frames``): a portrait video is rotated to landscape and back, the
frames are stretched (no crop) to the working resolution (multiples of 16, bicubic), padded to
4N+1 frames by repeating the last one, and depth is the mean of the three decoded channels. Two ways to cover it with windows of ``window`` latent frames
(21 = 81 video frames) overlapping by ``overlap`` latent frames (3):

- ``latent`` (DKT): the whole video is encoded once; at every Euler step every window predicts
  the velocity of its latent frames and the predictions are blended as the official code's
  temporal tiler does (``tiler_spans``, ``tiler_weights``: a window every ``window - overlap``
  frames, the last one cut short at the end, ramps (j + 0.5) / k over the k shared frames), then
  one Euler step moves the whole latent sequence. One decode.
- ``aligned`` (DVD): windows of 4 (window - 1) + 1 video frames overlapping by 4 overlap + 1
  frames are run independently; each window's disparity is fitted to the previous window by one
  least-squares scale and shift on the frames they share, then blended with linear ramps
  (``window_spans``, ``blend_weights``: the last window ends at the last frame, pulled back to full
  length where that does not make three windows share a frame).

Sampling: ``steps`` Euler steps (default 5) on the official DKT sigmas with ``shift`` (default 5;
``objective.euler_schedule``; diffusers' schedule as an option); a single-step checkpoint does one
forward pass per window instead. Depth comes out
as affine-invariant disparity in [0, 1] (1 = near), normals as unit camera-frame vectors; both are
resized back to the input size.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from transphy3d.dkt.model import DKTConfig, LatentCodec, predict
from transphy3d.dkt.objective import euler_schedule, single_step_x0
from transphy3d.dkt.settings import InferenceSettings
from transphy3d.errors import UserError

ModelFn = Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]
OFFICIAL_DTYPE = torch.bfloat16  # the official DKT pipeline's latents, timesteps and merged weights


def window_spans(length: int, window: int, overlap: int, multiple: int = 1) -> list[tuple[int, int]]:
    """(start, stop) of each window: every ``window - overlap`` frames from 0; the last one is
    pulled back to end at ``length`` (full length, more overlap) but never into the window two
    before it, so at most two windows share a frame. Starts stay multiples of ``multiple``."""
    if length <= window:
        return [(0, length)]
    stride = window - overlap
    starts = list(range(0, length - window, stride))
    start = length - window
    if len(starts) >= 2:
        boundary = starts[-2] + window
        start = max(start, boundary + (-boundary) % multiple)
    return [(s, s + window) for s in starts] + [(start, length)]


def blend_weights(length: int, window: int, overlap: int, multiple: int = 1) -> torch.Tensor:
    """(windows, length) blending weights: 1 inside a window, 0 outside, and across the k frames
    two neighbours share, linear ramps j / (k + 1) up and 1 - j / (k + 1) down (j = 1..k), so every
    frame's weights sum to 1 and no weight jumps by more than 1 / (k + 1) between frames."""
    spans = window_spans(length, window, overlap, multiple)
    weights = torch.zeros(len(spans), length, dtype=torch.float64)
    for i, (start, stop) in enumerate(spans):
        weights[i, start:stop] = 1.0
        if i > 0:
            shared = spans[i - 1][1] - start
            ramp = torch.arange(1, shared + 1, dtype=torch.float64) / (shared + 1)
            weights[i, start : start + shared] = ramp
            weights[i - 1, start : start + shared] = 1.0 - ramp
    return weights


def tiler_spans(length: int, window: int, overlap: int) -> list[tuple[int, int]]:
    """(start, stop) of each window as the official DKT inference runs them (DiffSynth's
    ``TemporalTiler_BCTHW``): one every ``window - overlap`` frames from 0, each cut short at
    ``length``, none started once the previous one reaches the end."""
    stride = window - overlap
    spans = []
    for start in range(0, length, stride):
        if start >= stride and start - stride + window >= length:
            break
        spans.append((start, min(start + window, length)))
    return spans


def tiler_weights(length: int, window: int, overlap: int) -> torch.Tensor:
    """(windows, length) weights of ``tiler_spans``' windows as the official tiler blends them: 1
    inside, ramps (j + 0.5) / k up and down over the k = ``overlap`` frames at an edge that is not
    the video's, then divided by their sum per frame."""
    spans = tiler_spans(length, window, overlap)
    weights = torch.zeros(len(spans), length, dtype=torch.float64)
    ramp = (torch.arange(overlap, dtype=torch.float64) + 0.5) / max(overlap, 1)
    for i, (start, stop) in enumerate(spans):
        weights[i, start:stop] = 1.0
        if overlap and start > 0:
            weights[i, start : start + overlap] = ramp
        if overlap and stop < length:
            weights[i, stop - overlap : stop] = ramp.flip(0)
    return weights / weights.sum(0, keepdim=True)


def make_model_fn(transformer, prompt_embeds: torch.Tensor) -> ModelFn:
    """fn(target latent, RGB latent, timestep) -> float32 output. Runs under autocast in the dtype
    of the transformer's blocks when that is a half type (trained weights may be fp32)."""
    device = transformer.patch_embedding.weight.device
    compute = transformer.proj_out.weight.dtype
    prompt = prompt_embeds.to(device, compute)

    @torch.no_grad()
    def fn(x: torch.Tensor, rgb: torch.Tensor, timestep: float) -> torch.Tensor:
        t = torch.full((x.shape[0],), float(timestep), device=device)
        dtype = transformer.patch_embedding.weight.dtype
        with torch.autocast(device.type, dtype=compute, enabled=compute != torch.float32):
            out = predict(transformer, x.to(device, dtype), rgb.to(device, dtype), t, prompt)
        return out.float()

    return fn


def sample_latents(
    model_fn: ModelFn,
    rgb_latents: torch.Tensor,
    settings: InferenceSettings,
    config: DKTConfig,
    generator: torch.Generator,
) -> torch.Tensor:
    """Clean target latents for ``rgb_latents`` (B, C, L, h, w), windows blended at every step."""
    length = rgb_latents.shape[2]
    spans = tiler_spans(length, settings.window, settings.overlap)
    weights = tiler_weights(length, settings.window, settings.overlap).float().to(rgb_latents.device)

    def blended(x: torch.Tensor, timestep: float) -> torch.Tensor:
        total = torch.zeros_like(x)
        for i, (start, stop) in enumerate(spans):
            part = model_fn(x[:, :, start:stop], rgb_latents[:, :, start:stop], timestep)
            total[:, :, start:stop] += part * weights[i, start:stop].view(1, 1, -1, 1, 1)
        return total

    if config.objective == "single_step":
        zeros = torch.zeros_like(rgb_latents, dtype=torch.float32)
        return single_step_x0(blended(zeros, config.single_step_timestep), config.single_step_timestep)
    sigmas, timesteps = euler_schedule(settings.steps, settings.shift, settings.schedule)
    noise = torch.randn(rgb_latents.shape, generator=generator, dtype=torch.float32)
    x = noise.to(rgb_latents.device)
    if settings.numerics == "official":  # the official pipeline's bf16 latents and timesteps
        x = x.to(OFFICIAL_DTYPE)
        timesteps = timesteps.to(OFFICIAL_DTYPE).float()
    for i, timestep in enumerate(timesteps.tolist()):
        step = float(sigmas[i + 1] - sigmas[i])
        x = x + blended(x, timestep).to(x.dtype) * step
    return x.float()


def lstsq_scale_shift(source: torch.Tensor, reference: torch.Tensor) -> tuple[float, float]:
    """(s, t) minimising || s * source + t - reference ||^2 over all elements."""
    x = source.double().flatten()
    y = reference.double().flatten()
    a = torch.stack([x, torch.ones_like(x)], dim=1)
    solution = torch.linalg.lstsq(a, y[:, None]).solution[:, 0]
    return float(solution[0]), float(solution[1])


def to_video_tensor(frames: np.ndarray, width: int, height: int) -> torch.Tensor:
    """(1, 3, T, H, W) in [-1, 1] of uint8 frames (T, h, w, 3), stretched to width x height."""
    from transphy3d.dkt.frames import resize_rgb

    video = resize_rgb(torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2), height, width)
    return (video.float() / 127.5 - 1.0).permute(1, 0, 2, 3)[None]


def pad_frames(num_frames: int) -> int:
    """The smallest 4N+1 >= ``num_frames``."""
    return num_frames + (-(num_frames - 1)) % 4


def unit_vectors(vectors: torch.Tensor) -> torch.Tensor:
    """``vectors`` (..., 3) scaled to unit length (near-zero ones stay near zero)."""
    return vectors / vectors.norm(dim=-1, keepdim=True).clamp_min(1e-6)


def to_prediction(decoded: torch.Tensor, task: str) -> torch.Tensor:
    """(T, H, W) disparity in [0, 1] or (T, H, W, 3) unit normals of a decoded (1, 3, T, H, W) video."""
    if task == "depth":  # each channel clamped to [0, 1], then averaged (official)
        return ((decoded[0] + 1.0) / 2.0).clamp(0.0, 1.0).mean(dim=0)
    normal = decoded[0].permute(1, 2, 3, 0)
    return unit_vectors(normal)


def to_eight_bit(decoded: torch.Tensor) -> torch.Tensor:
    """(T, 3, H, W) uint8 frames of a decoded (1, 3, T, H, W) video as the official pipeline writes
    them (``vae_output_to_image``): (x + 1) * 127.5 clipped to [0, 255], truncated."""
    return ((decoded[0] + 1.0) * 127.5).clamp(0.0, 255.0).to(torch.uint8).permute(1, 0, 2, 3)


def from_eight_bit(frames: torch.Tensor, task: str) -> torch.Tensor:
    """(T, H, W) disparity (channel mean / 255, as the official depth map) or (T, H, W, 3) unit
    normals of uint8 frames (T, 3, H, W)."""
    values = frames.float() / 255.0
    if task == "depth":
        return values.mean(dim=1)
    normal = values.permute(0, 2, 3, 1) * 2.0 - 1.0
    return unit_vectors(normal)


def run_window(
    model_fn: ModelFn,
    codec: LatentCodec,
    video: torch.Tensor,
    settings: InferenceSettings,
    config: DKTConfig,
    generator: torch.Generator,
) -> torch.Tensor:
    """Prediction (T, ...) of a (1, 3, T, H, W) video of 4N+1 frames, latent windows blended; with
    ``settings.eight_bit`` the decoded video's uint8 frames (T, 3, H, W) instead."""
    rgb_latents = codec.encode(video)
    decoded = codec.decode(sample_latents(model_fn, rgb_latents, settings, config, generator))
    return to_eight_bit(decoded) if settings.eight_bit else to_prediction(decoded, config.task)


def stitch_aligned(
    length: int,
    window_fn: Callable[[int, int], torch.Tensor],
    window: int,
    overlap: int,
    align: bool = True,
    multiple: int = 1,
) -> torch.Tensor:
    """Blend independent windows ``window_fn(start, stop)`` (frames first) over ``length`` frames.

    With ``align``, each window is first mapped by one least-squares scale and shift onto the
    previous window (already aligned) over the frames they share.
    """
    spans = window_spans(length, window, overlap, multiple)
    weights = blend_weights(length, window, overlap, multiple).float()
    result: torch.Tensor | None = None
    previous: torch.Tensor | None = None
    for i, (start, stop) in enumerate(spans):
        part = window_fn(start, stop).float().cpu()
        if result is None:
            result = torch.zeros((length, *part.shape[1:]))
        if previous is not None and align:
            shared = spans[i - 1][1] - start
            s, t = lstsq_scale_shift(part[:shared], previous[previous.shape[0] - shared :])
            part = s * part + t
        result[start:stop] += weights[i, start:stop].view(-1, *[1] * (part.ndim - 1)) * part
        previous = part
    assert result is not None
    return result


def run_aligned(
    model_fn: ModelFn,
    codec: LatentCodec,
    video: torch.Tensor,
    settings: InferenceSettings,
    config: DKTConfig,
    generator: torch.Generator,
) -> torch.Tensor:
    """Independent windows of 4 (window - 1) + 1 video frames, aligned on their overlaps (depth) and blended."""

    def window_fn(start: int, stop: int) -> torch.Tensor:
        return run_window(model_fn, codec, video[:, :, start:stop], settings, config, generator)

    # windows of 4 (w - 1) + 1 frames sharing 4 o + 1 frames start at multiples of 4: every window,
    # the shortened last one included, has 4N+1 frames as the VAE needs
    return stitch_aligned(
        video.shape[2],
        window_fn,
        4 * (settings.window - 1) + 1,
        4 * settings.overlap + 1,
        align=config.task == "depth",
        multiple=4,
    )


def predict_video(
    frames: np.ndarray, model_fn: ModelFn, codec: LatentCodec, settings: InferenceSettings, config: DKTConfig
) -> np.ndarray:
    """Prediction for uint8 frames (T, H, W, 3) at their own size and orientation: disparity
    (T, H, W) in [0, 1] or normals (T, H, W, 3)."""
    from transphy3d.dkt.frames import (
        from_landscape,
        is_portrait,
        normals_from_landscape,
        resize_rgb,
        resize_values,
        to_landscape,
    )

    num_frames, height, width = frames.shape[:3]
    rotated = is_portrait(height, width)
    if rotated:
        frames = to_landscape(frames)
    video = to_video_tensor(frames, settings.width, settings.height)
    padded = pad_frames(num_frames)
    if padded > num_frames:
        video = torch.cat([video, video[:, :, -1:].expand(-1, -1, padded - num_frames, -1, -1)], dim=2)
    generator = torch.Generator().manual_seed(settings.seed)
    run = run_aligned if settings.stitch == "aligned" else run_window
    prediction = run(model_fn, codec, video, settings, config, generator)[:num_frames].cpu()
    size = frames.shape[1:3]
    if settings.eight_bit:  # the official order: 8-bit frames resized in 8 bits, then read
        out = from_eight_bit(resize_rgb(prediction, *size), config.task)
    elif prediction.ndim == 4:  # normals: resize the vectors' components, then renormalise
        grid = resize_values(prediction.permute(0, 3, 1, 2), *size, clamp=None).permute(0, 2, 3, 1)
        out = unit_vectors(grid)
    else:  # disparity: clamped to [0, 1] unless aligned windows may leave it
        clamp = None if settings.stitch == "aligned" else (0.0, 1.0)
        out = resize_values(prediction[:, None], *size, clamp=clamp)[:, 0]
    result = out.numpy().astype(np.float32)
    if rotated:
        result = from_landscape(result)
        if result.ndim == 4:
            result = normals_from_landscape(result)
    return np.ascontiguousarray(result, dtype=np.float32)


def predict_frames(
    frames: np.ndarray,
    model_fn: ModelFn,
    codec: LatentCodec,
    settings: InferenceSettings,
    config: DKTConfig,
    independent: bool = False,
) -> np.ndarray:
    """``predict_video`` of a video, or of each frame on its own (F = 1) when the frames are
    ``independent`` images (DREDS, HISS, ClearGrasp groups)."""
    if not independent:
        return predict_video(frames, model_fn, codec, settings, config)
    return np.concatenate(
        [predict_video(frames[i : i + 1], model_fn, codec, settings, config) for i in range(len(frames))]
    )


def write_outputs(
    out_dir: str | Path,
    prediction: np.ndarray,
    names: list[str],
    fps: float,
    task: str,
    formats: tuple[str, ...] = ("exr", "npy", "mp4"),
) -> list[Path]:
    """Write ``disparity.npy`` / ``normal.npy``, per-frame EXRs and a colour-mapped MP4."""
    from transphy3d.dkt.videoio import colorize, write_mp4
    from transphy3d.output.exr import write_exr
    from transphy3d.output.frame_files import write_normal

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = "disparity" if task == "depth" else "normal"
    written = []
    if "npy" in formats:
        np.save(out / f"{stem}.npy", prediction.astype(np.float32))
        written.append(out / f"{stem}.npy")
    if "exr" in formats:
        (out / stem).mkdir(exist_ok=True)
        for name, frame in zip(names, prediction, strict=True):
            path = out / stem / f"{name}.exr"
            if task == "depth":
                write_exr(path, {"disparity": frame.astype(np.float32)})
            else:
                write_normal(path, frame)
        written.append(out / stem)
    if "mp4" in formats:
        colours = (
            colorize(prediction, 0.0, 1.0)
            if task == "depth"
            else np.round((prediction + 1.0) / 2.0 * 255.0).astype(np.uint8)
        )
        write_mp4(out / f"{stem}.mp4", colours, fps)
        written.append(out / f"{stem}.mp4")
    return written


def pick_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"{device}: no CUDA device is available here", field="--device")
    return torch.device(device)


def pick_dtype(dtype: str, device: torch.device) -> torch.dtype:
    if dtype == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    choices = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}
    if dtype not in choices:
        raise UserError(f"{dtype!r}; allowed: auto, {', '.join(choices)}", field="--dtype")
    return choices[dtype]


def merge_lora_official(transformer) -> int:
    """Merge every LoRA pair into its linear layer as the official loader does, in the weights'
    own dtype (bf16 there): ``W = W + B @ A`` computed in that dtype, adapters then removed.
    Returns how many layers were merged."""
    from peft.tuners.lora import LoraLayer

    merged = {}
    for name, module in transformer.named_modules():
        if isinstance(module, LoraLayer) and module.lora_A:
            weight = module.get_base_layer().weight.data
            for adapter in module.lora_A:
                a = module.lora_A[adapter].weight.to(weight.dtype)
                b = module.lora_B[adapter].weight.to(weight.dtype)
                scale = module.scaling[adapter]
                weight = weight + (b @ a if scale == 1 else (b @ a) * scale)
            merged[name] = weight.detach().clone()
    transformer.unload_lora()
    modules = dict(transformer.named_modules())
    for name, weight in merged.items():
        modules[name].weight.data.copy_(weight)
    return len(merged)


def load_for_inference(
    base: str | Path,
    checkpoint: str | Path,
    device: torch.device,
    dtype: torch.dtype,
    prompt_cache: str | Path | None = None,
    task: str | None = None,
    numerics: str = "exact",
) -> tuple[ModelFn, LatentCodec, DKTConfig]:
    """(model function, VAE codec, checkpoint config) of a DKT checkpoint (or a released DKT LoRA
    on its Fun-Control base) on a local base. ``numerics`` ``official``: the model in bf16 with the
    LoRA merged into its bf16 weights (``merge_lora_official``), whatever ``dtype`` says.

    The prompt embedding comes from the checkpoint when it holds one, else it is encoded once
    (text encoder loaded and released) and cached in ``prompt_cache``.
    """
    if numerics == "official":
        dtype = OFFICIAL_DTYPE
    from transphy3d.dkt import released
    from transphy3d.dkt.model import (
        check_base_kind,
        detect_base,
        encode_prompt_cached,
        load_base,
        load_dkt_transformer,
        load_prompt_embeds,
    )

    config = released.checkpoint_config(checkpoint, task)
    if released.is_released(checkpoint):
        check_base_kind(detect_base(base), config.base_kind, Path(checkpoint))
        transformer, vae = load_base(base, dtype, device)
        released.load_released(transformer, checkpoint)
        transformer.eval()
        prompt = None
    else:
        transformer, vae, config = load_dkt_transformer(base, checkpoint, dtype, device)
        prompt = load_prompt_embeds(checkpoint)
    if prompt is None:
        cache = Path(prompt_cache) if prompt_cache else Path.home() / ".cache" / "transphy3d" / "prompts"
        prompt = encode_prompt_cached(base, config.prompt, cache)
    if numerics == "official":
        transformer = transformer.to(OFFICIAL_DTYPE)  # trained parts kept in fp32 go to bf16 too
        merge_lora_official(transformer)
    return make_model_fn(transformer, prompt), LatentCodec(vae), config
