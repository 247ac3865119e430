"""DKT on a GPU: training step time and peak memory at the real Wan 2.1 1.3B sizes (random weights),
and inference milliseconds per frame.

    python benchmarks/dkt_gpu_step.py                      # 832x480, F = 21, bf16, LoRA rank 32
    python benchmarks/dkt_gpu_step.py --frames 81 --no-gradient-checkpointing

Training step: VAE-encode an RGB clip and its depth clip (frozen, bf16), flow-matching loss through
the widened, LoRA-adapted transformer (30 layers, 12 heads x 128, ffn 8960), backward, AdamW step
on the LoRA and patch-embedding weights (fp32) under bf16 autocast, as ``train-dkt`` does.
Inference: ``infer.predict_video`` on an 81-frame clip (one 21-latent-frame window) with 5 Euler
steps: encode, sample, decode; milliseconds per frame and peak memory. The paper reports 167 ms per
frame and 11.19 GB peak for DKT-1.3B on an L20.

Needs CUDA and refuses without it. ``--smoke-cpu`` runs the same code on the tiny preset on the
CPU at a small size (bf16 autocast as on the GPU), only to check the script works.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--width", type=int, default=832)
    p.add_argument("--height", type=int, default=480)
    p.add_argument("--frames", type=int, default=21, help="training clip length F (4N+1)")
    p.add_argument("--infer-frames", type=int, default=81, help="frames of the inference clip")
    p.add_argument("--steps", type=int, default=5, help="Euler steps of inference")
    p.add_argument("--lora-rank", type=int, default=32)
    p.add_argument("--repeats", type=int, default=5, help="timed training steps (after 2 warm-up steps)")
    p.add_argument("--no-gradient-checkpointing", action="store_true")
    p.add_argument("--smoke-cpu", action="store_true", help="tiny preset on the CPU at 64x32: checks the script")
    return p.parse_args(argv)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def peak_gb(device: torch.device) -> float:
    return torch.cuda.max_memory_allocated(device) / 1e9 if device.type == "cuda" else float("nan")


def cast_like_from_pretrained(model: torch.nn.Module, dtype: torch.dtype) -> None:
    """Cast to ``dtype`` except the modules diffusers keeps in fp32 (as ``from_pretrained(torch_dtype=)``)."""
    keep = getattr(model, "_keep_in_fp32_modules", None) or []
    for name, param in model.named_parameters():
        if not any(k in name.split(".") for k in keep):
            param.data = param.data.to(dtype)


def build(preset: str, rank: int, device: torch.device, dtype: torch.dtype, checkpointing: bool):
    from diffusers.training_utils import cast_training_params

    from transphy3d.dkt.model import LatentCodec, add_lora, widen_patch_embedding
    from transphy3d.dkt.random_wan import random_transformer, random_vae
    from transphy3d.dkt.settings import LoraSettings

    transformer = random_transformer(preset, seed=0).to(device)
    cast_like_from_pretrained(transformer, dtype)
    widen_patch_embedding(transformer)
    add_lora(transformer, LoraSettings(rank=rank, alpha=float(rank)), seed=0)
    cast_training_params(transformer, torch.float32)
    if checkpointing:
        transformer.enable_gradient_checkpointing()
    vae = random_vae(preset, seed=1).to(device)
    cast_like_from_pretrained(vae, dtype)
    vae.requires_grad_(False).eval()
    return transformer, LatentCodec(vae)


def train_steps(transformer, codec, prompt, args, device, dtype) -> tuple[float, float, float]:
    """(seconds per step, seconds of the two VAE encodes, peak GB) of full training steps."""
    from transphy3d.dkt.model import predict
    from transphy3d.dkt.objective import add_noise, sample_sigmas

    params = [p for p in transformer.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-5)
    g = torch.Generator().manual_seed(0)
    rgb = (torch.rand(1, 3, args.frames, args.height, args.width, generator=g) * 2 - 1).to(device)
    depth = (torch.rand(1, 3, args.frames, args.height, args.width, generator=g) * 2 - 1).to(device)
    times, encode_times = [], []
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    for i in range(args.repeats + 2):
        sync(device)
        start = time.perf_counter()
        rgb_latents, target = codec.encode(rgb), codec.encode(depth)
        sync(device)
        encoded = time.perf_counter()
        sigma = sample_sigmas(1, 5.0, g).to(device)
        noise = torch.randn(target.shape, generator=g).to(device)
        with torch.autocast(device.type, dtype=dtype, enabled=dtype != torch.float32):
            out = predict(transformer, add_noise(target, noise, sigma), rgb_latents, sigma * 1000, prompt)
            loss = (out.float() - (noise - target)).square().mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        sync(device)
        if i >= 2:
            times.append(time.perf_counter() - start)
            encode_times.append(encoded - start)
    return float(np.median(times)), float(np.median(encode_times)), peak_gb(device)


def inference(transformer, codec, prompt, args, device) -> tuple[float, float]:
    """(milliseconds per frame, peak GB) of ``predict_video`` on ``infer_frames`` frames."""
    from transphy3d.dkt.infer import make_model_fn, predict_video
    from transphy3d.dkt.model import DKTConfig
    from transphy3d.dkt.settings import InferenceSettings

    transformer.eval()
    fn = make_model_fn(transformer, prompt)
    settings = InferenceSettings(steps=args.steps, resolution=(args.width, args.height))
    frames = np.random.Generator(np.random.PCG64(0)).integers(
        0, 256, (args.infer_frames, args.height, args.width, 3), dtype=np.uint8
    )
    predict_video(frames[:5], fn, codec, settings, DKTConfig())  # warm-up
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    sync(device)
    start = time.perf_counter()
    predict_video(frames, fn, codec, settings, DKTConfig())
    sync(device)
    return 1000 * (time.perf_counter() - start) / args.infer_frames, peak_gb(device)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.smoke_cpu:
        device, dtype, preset = torch.device("cpu"), torch.bfloat16, "tiny"
        args.width, args.height, args.frames, args.infer_frames, args.repeats = 64, 32, 5, 9, 1
    elif not torch.cuda.is_available():
        print(
            "dkt_gpu_step.py needs a CUDA GPU (torch.cuda.is_available() is False here); "
            "run it on a GPU machine, or pass --smoke-cpu to check the script on the tiny preset.",
            file=sys.stderr,
        )
        return 2
    else:
        device, dtype, preset = torch.device("cuda"), torch.bfloat16, "wan2.1-1.3b"
    from transphy3d.dkt.model import check_video_shape

    check_video_shape(args.frames, args.height, args.width, "--frames/--width/--height")
    transformer, codec = build(preset, args.lora_rank, device, dtype, not args.no_gradient_checkpointing)
    text_dim = transformer.config.text_dim
    prompt = torch.randn(1, 512, text_dim, generator=torch.Generator().manual_seed(0)).to(device, dtype)
    trained = sum(p.numel() for p in transformer.parameters() if p.requires_grad)
    total = sum(p.numel() for p in transformer.parameters())
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"device {name}; preset {preset}; transformer {total / 1e6:.1f} M parameters, {trained / 1e6:.2f} M trained")
    step, encode, peak = train_steps(transformer, codec, prompt, args, device, dtype)
    print(
        f"training step  {args.width}x{args.height}, F = {args.frames}, batch 1, "
        f"{'bf16' if dtype == torch.bfloat16 else 'fp32'}, gradient checkpointing "
        f"{'off' if args.no_gradient_checkpointing else 'on'}: {step:.3f} s/step "
        f"(VAE encodes {encode:.3f} s), peak {peak:.2f} GB"
    )
    ms, peak_inf = inference(transformer, codec, prompt, args, device)
    print(
        f"inference      {args.width}x{args.height}, {args.infer_frames} frames, {args.steps} Euler steps: "
        f"{ms:.1f} ms/frame, peak {peak_inf:.2f} GB  (paper, DKT-1.3B on an L20: 167 ms/frame, 11.19 GB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
