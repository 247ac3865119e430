"""Widened patch embedding, LoRA injection, VAE codec checks, prompt cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from transphy3d.dkt import model as M
from transphy3d.errors import UserError


def _inputs(transformer, frames: int = 2, size: int = 4, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    c = 16  # latent channels (z_dim) of the tiny VAE
    x = torch.randn(1, c, frames, size, size, generator=g)
    rgb = torch.randn(1, c, frames, size, size, generator=g)
    prompt = torch.randn(1, 8, transformer.config.text_dim, generator=g)
    return x, rgb, torch.tensor([700.0]), prompt


def test_widened_patch_embedding_same_output_at_init(tiny_base: Path) -> None:
    transformer, _ = M.load_base(tiny_base)
    x, rgb, t, prompt = _inputs(transformer)
    with torch.no_grad():
        before = transformer(hidden_states=x, timestep=t, encoder_hidden_states=prompt, return_dict=False)[0]
        old_weight = transformer.patch_embedding.weight.clone()
        M.widen_patch_embedding(transformer)
        after = M.predict(transformer, x, rgb, t, prompt)
    assert transformer.patch_embedding.in_channels == 32
    assert transformer.config.in_channels == 32
    assert torch.equal(transformer.patch_embedding.weight[:, :16], old_weight)
    assert torch.count_nonzero(transformer.patch_embedding.weight[:, 16:]) == 0
    assert torch.equal(before, after)


def test_rgb_half_receives_gradients_and_trains(tiny_base: Path) -> None:
    transformer, _ = M.load_base(tiny_base)
    M.widen_patch_embedding(transformer)
    M.add_lora(transformer, M.LoraSettings(rank=4, alpha=4), seed=0)
    x, rgb, t, prompt = _inputs(transformer)
    names = {n for n, p in transformer.named_parameters() if p.requires_grad}
    assert {"patch_embedding.weight", "patch_embedding.bias"} <= names
    assert all(n.startswith("patch_embedding") or ".lora_" in n for n in names)
    assert any("ffn.net.2.lora_A" in n for n in names) and any("attn1.to_q.lora_B" in n for n in names)
    params = [p for p in transformer.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-3)
    loss = M.predict(transformer, x, rgb, t, prompt).square().mean()
    loss.backward()
    grad = transformer.patch_embedding.weight.grad
    assert grad is not None and grad[:, 16:].abs().sum() > 1e-6
    optimizer.step()
    assert torch.count_nonzero(transformer.patch_embedding.weight[:, 16:]) > 0


def test_lora_targets_checked_and_init_seeded(tiny_base: Path) -> None:
    transformer, _ = M.load_base(tiny_base)
    with pytest.raises(UserError, match="no_such_layer"):
        M.add_lora(transformer, M.LoraSettings(targets=("no_such_layer",)))
    a_weights = []
    for seed in (1, 1, 2):
        t, _ = M.load_base(tiny_base)
        M.add_lora(t, M.LoraSettings(rank=4, alpha=4), seed=seed)
        a_weights.append(t.blocks[0].attn1.to_q.lora_A["default"].weight.detach().clone())
    assert torch.equal(a_weights[0], a_weights[1])
    assert not torch.equal(a_weights[0], a_weights[2])


def test_codec_roundtrip_shapes_and_bad_shapes(tiny_base: Path) -> None:
    _, vae = M.load_base(tiny_base)
    codec = M.LatentCodec(vae)
    video = torch.rand(1, 3, 5, 32, 48, generator=torch.Generator().manual_seed(0)) * 2 - 1
    latents = codec.encode(video)
    assert latents.shape == (1, 16, 2, 4, 6)
    raw = vae.encode(video).latent_dist.mode()
    mean = torch.tensor(vae.config.latents_mean).view(1, -1, 1, 1, 1)
    std = torch.tensor(vae.config.latents_std).view(1, -1, 1, 1, 1)
    torch.testing.assert_close(latents * std + mean, raw)
    assert codec.decode(latents).shape == (1, 3, 5, 32, 48)
    with pytest.raises(UserError, match="4N"):
        codec.encode(video[:, :, :4])
    with pytest.raises(UserError, match="multiples of 16"):
        codec.encode(torch.zeros(1, 3, 5, 40, 48))


def test_base_dir_errors(tmp_path: Path, tiny_base: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        M.check_base_dir(tmp_path / "nowhere")
    partial = tmp_path / "partial"
    shutil.copytree(tiny_base / "transformer", partial / "transformer")
    with pytest.raises(UserError, match=r"vae/config\.json"):
        M.load_base(partial)


def test_prompt_encoded_once_and_cached(tiny_base: Path, tmp_path: Path) -> None:
    from diffusers import WanPipeline

    first = M.encode_prompt_cached(tiny_base, "depth", tmp_path / "cache")
    files = list((tmp_path / "cache").glob("prompt_*.safetensors"))
    assert len(files) == 1
    second = M.encode_prompt_cached(tiny_base, "depth", tmp_path / "cache")
    assert torch.equal(first, second)
    pipe = WanPipeline.from_pretrained(tiny_base)
    expected, _ = pipe.encode_prompt("depth", do_classifier_free_guidance=False, max_sequence_length=512)
    torch.testing.assert_close(first, expected.float())
    assert first.shape == (1, 512, 32)
    other = M.encode_prompt_cached(tiny_base, "normal", tmp_path / "cache")
    assert not torch.equal(first, other)
    assert len(list((tmp_path / "cache").glob("prompt_*.safetensors"))) == 2


def test_damaged_weights_are_a_user_error(tmp_path: Path, tiny_base: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tiny_base, broken)
    (broken / "transformer" / "diffusion_pytorch_model.safetensors").write_bytes(b"truncated")
    with pytest.raises(UserError, match=r"broken: --base: cannot load"):
        M.load_base(broken)
