"""``--numerics official``: bf16 latents, the DiT at bf16-rounded timesteps, the LoRA merged into
bf16 weights as the official loader merges it; ``exact`` stays today's fp32 path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from dkt_fixtures import scene_arrays

from transphy3d.dkt.infer import OFFICIAL_DTYPE, load_for_inference, predict_video, sample_latents
from transphy3d.dkt.model import load_dkt_transformer
from transphy3d.dkt.settings import InferenceSettings


def _recording(model_fn, seen: list):
    def fn(x: torch.Tensor, rgb: torch.Tensor, timestep: float) -> torch.Tensor:
        seen.append((timestep, x.dtype))
        return model_fn(x, rgb, timestep)

    return fn


def test_official_numerics_round_timesteps_keep_bf16_latents_and_merge_the_lora(tiny_base: Path, trained_run) -> None:
    checkpoint = trained_run[0].checkpoint
    exact_fn, _codec, config = load_for_inference(tiny_base, checkpoint, torch.device("cpu"), torch.float32)
    official_fn, _, _ = load_for_inference(
        tiny_base, checkpoint, torch.device("cpu"), torch.float32, numerics="official"
    )
    rgb_latents = torch.randn(1, 16, 2, 4, 4, generator=torch.Generator().manual_seed(0))
    runs = {}
    for numerics, fn in (("exact", exact_fn), ("official", official_fn)):
        seen: list = []
        settings = InferenceSettings(resolution=(32, 32), numerics=numerics)
        runs[numerics] = sample_latents(
            _recording(fn, seen), rgb_latents, settings, config, torch.Generator().manual_seed(1)
        )
        runs[numerics + "_seen"] = seen
    assert [t for t, _ in runs["official_seen"]] == [1000.0, 952.0, 884.0, 768.0, 556.0]
    assert {d for _, d in runs["official_seen"]} == {OFFICIAL_DTYPE}
    assert [round(t, 1) for t, _ in runs["exact_seen"]] == [1000.0, 952.4, 882.4, 769.2, 555.6]
    assert {d for _, d in runs["exact_seen"]} == {torch.float32}
    difference = (runs["official"] - runs["exact"]).abs()
    assert 0 < float(difference.max()) < 0.5  # measured: docs/dkt.md, "Official numerics"
    # the merge: W + B @ A in bf16, no LoRA layer left
    transformer, _, _ = load_dkt_transformer(tiny_base, checkpoint, OFFICIAL_DTYPE, "cpu")
    layer = transformer.blocks[0].attn1.to_q
    (adapter,) = layer.lora_A
    lora_a, lora_b = layer.lora_A[adapter].weight, layer.lora_B[adapter].weight
    assert float(lora_b.abs().max()) > 0  # trained: the merge changes the weight
    expected = layer.base_layer.weight.data + lora_b.to(OFFICIAL_DTYPE) @ lora_a.to(OFFICIAL_DTYPE)
    from transphy3d.dkt.infer import merge_lora_official

    assert merge_lora_official(transformer) > 0
    merged = transformer.blocks[0].attn1.to_q
    assert isinstance(merged, torch.nn.Linear) and merged.weight.dtype == OFFICIAL_DTYPE
    assert torch.equal(merged.weight.data, expected)


def test_official_and_exact_predictions_differ_little(tiny_base: Path, trained_run) -> None:
    checkpoint = trained_run[0].checkpoint
    frames = scene_arrays(5, 32, 32, seed=2)["rgb"]
    out = {}
    for numerics in ("exact", "official"):
        fn, codec, config = load_for_inference(
            tiny_base, checkpoint, torch.device("cpu"), torch.float32, numerics=numerics
        )
        out[numerics] = predict_video(
            frames, fn, codec, InferenceSettings(resolution=(32, 32), numerics=numerics), config
        )
    gap = np.abs(out["official"] - out["exact"])
    assert out["official"].shape == (5, 32, 32) and 0 < gap.max() < 0.2
