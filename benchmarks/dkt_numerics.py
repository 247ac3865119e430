"""``--numerics official`` against ``exact``, measured side by side on the tiny random Wan 2.1 on CPU.

    python benchmarks/dkt_numerics.py [--frames 5] [--size 32]

Builds the tiny random base, a DKT checkpoint on it whose LoRA factors are random (so the merge
matters: lora_B is not zero), and predicts one synthetic clip with the same noise three ways:
``exact`` in fp32 (the reference), ``exact`` with the model in bf16 (``--dtype bf16``), and
``official`` (bf16 latents, bf16-rounded timesteps, LoRA merged into bf16 weights). Prints the
clean-latent and disparity differences from the fp32 reference.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from _common import machine

from transphy3d.dkt.infer import load_for_inference, predict_video, sample_latents, to_video_tensor
from transphy3d.dkt.model import (
    DKTConfig,
    build_dkt_transformer,
    encode_prompt_cached,
    save_dkt_weights,
    save_prompt_embeds,
)
from transphy3d.dkt.random_wan import build_random_wan
from transphy3d.dkt.settings import InferenceSettings, LoraSettings


def checkpoint(base: Path, out: Path) -> Path:
    transformer, _ = build_dkt_transformer(base, LoraSettings(rank=4, alpha=4.0), seed=0)
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for name, parameter in transformer.named_parameters():
            if "lora_B" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.05)
    save_dkt_weights(transformer, out, DKTConfig())
    save_prompt_embeds(encode_prompt_cached(base, "depth", out / "prompts"), out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--size", type=int, default=32)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(f"machine: {machine()}; tiny random Wan 2.1, {args.frames} frames of {args.size}x{args.size}, 5 steps")
    rng = np.random.Generator(np.random.PCG64(0))
    frames = rng.integers(0, 256, size=(args.frames, args.size, args.size, 3), dtype=np.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        base = build_random_wan(Path(tmp) / "wan", seed=0)
        ckpt = checkpoint(base, Path(tmp) / "ckpt")
        runs = {}
        for label, dtype, numerics in (
            ("exact fp32", torch.float32, "exact"),
            ("exact, model in bf16", torch.bfloat16, "exact"),
            ("official", torch.float32, "official"),
        ):
            fn, codec, config = load_for_inference(base, ckpt, torch.device("cpu"), dtype, numerics=numerics)
            settings = InferenceSettings(resolution=(args.size, args.size), numerics=numerics)
            video = to_video_tensor(frames, args.size, args.size)
            latents = sample_latents(fn, codec.encode(video), settings, config, torch.Generator().manual_seed(1))
            runs[label] = (latents, predict_video(frames, fn, codec, settings, config))
        reference_latents, reference = runs["exact fp32"]
        for label, (latents, disparity) in runs.items():
            if label == "exact fp32":
                continue
            dl = (latents - reference_latents).abs()
            dd = np.abs(disparity - reference)
            print(f"{label} vs exact fp32: latents max {float(dl.max()):.4f} mean {float(dl.mean()):.4f}; "
                  f"disparity max {dd.max():.4f} mean {dd.mean():.4f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
