"""Wan2.1-Fun-Control as published and the released DKT LoRAs: the files load into our model and
its forward equals Wan's original DiT computed directly on the original weights."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from wan_reference import wan_dit

from transphy3d.dkt import model as M
from transphy3d.dkt import released
from transphy3d.dkt.bases import detect_base
from transphy3d.errors import UserError

# the modules DiffSynth's LoRA trainer targets by default ("q,k,v,o,ffn.0,ffn.2") plus the image keys
MODULES = ("self_attn.q", "self_attn.k", "self_attn.v", "self_attn.o", "cross_attn.q", "cross_attn.k",
           "cross_attn.v", "cross_attn.o", "cross_attn.k_img", "ffn.0", "ffn.2")  # fmt: skip


def write_released_lora(path: Path, state: dict[str, torch.Tensor], rank: int = 4, seed: int = 0) -> Path:
    """A LoRA in the released naming (``blocks.N.<module>.lora_A.default.weight``), non-zero B."""
    g = torch.Generator().manual_seed(seed)
    blocks = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("blocks."))
    lora = {}
    for i in range(blocks):
        for module in MODULES:
            out_dim, in_dim = state[f"blocks.{i}.{module}.weight"].shape
            lora[f"blocks.{i}.{module}.lora_A.default.weight"] = 0.3 * torch.randn(rank, in_dim, generator=g)
            lora[f"blocks.{i}.{module}.lora_B.default.weight"] = 0.3 * torch.randn(out_dim, rank, generator=g)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(lora, str(path))
    return path


def merged(state: dict[str, torch.Tensor], lora: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """DiffSynth's GeneralLoRALoader with alpha 1: W += B @ A."""
    out = dict(state)
    for key, a in lora.items():
        if ".lora_A." in key:
            module = key.split(".lora_A.")[0]
            out[f"{module}.weight"] = out[f"{module}.weight"] + lora[key.replace(".lora_A.", ".lora_B.")] @ a
    return out


def test_fun_control_base_is_detected_and_loads(fun_base: Path, tiny_base: Path) -> None:
    assert detect_base(fun_base).kind == "fun-control" and detect_base(tiny_base).kind == "t2v"
    transformer, vae = M.load_base(fun_base)
    assert transformer.config.in_channels == 48 and transformer.config.image_dim == 1280
    assert M.base_kind_of(transformer) == "fun-control"
    assert vae.config.z_dim == 16


def test_released_lora_forward_equals_the_original_dit(fun_base: Path, tmp_path: Path) -> None:
    state = load_file(str(fun_base / "diffusion_pytorch_model.safetensors"))
    lora_path = write_released_lora(tmp_path / "DKT-Depth-1-3B-v1.1" / "model.safetensors", state)
    transformer, _ = M.load_base(fun_base)
    released.load_released(transformer, lora_path.parent)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 16, 3, 4, 6, generator=g)
    rgb = torch.randn(1, 16, 3, 4, 6, generator=g)
    prompt = torch.zeros(1, 512, 32)
    prompt[:, :2] = torch.randn(1, 2, 32, generator=g)  # two real tokens, zero padding as encoded
    t = torch.tensor([882.35])
    with torch.no_grad():
        ours = M.predict(transformer.eval(), x, rgb, t, prompt)
        reference = wan_dit(
            merged(state, load_file(str(lora_path))),
            x,
            t,
            prompt,
            torch.zeros(1, 257, 1280),
            torch.cat([rgb, torch.zeros_like(rgb)], dim=1),
            heads=transformer.config.num_attention_heads,
        )
        without = wan_dit(state, x, t, prompt, torch.zeros(1, 257, 1280), torch.cat([rgb, 0 * rgb], 1), heads=2)
    torch.testing.assert_close(ours, reference, rtol=1e-4, atol=1e-5)
    assert (reference - without).abs().max() > 1e-3  # the LoRA changes the output


def test_released_lora_keys_are_all_mapped_or_an_error(fun_base: Path, tmp_path: Path) -> None:
    state = load_file(str(fun_base / "diffusion_pytorch_model.safetensors"))
    path = write_released_lora(tmp_path / "ok.safetensors", state, rank=2)
    lora = load_file(str(path))
    prefixed = {f"diffusion_model.{k.replace('.default.', '.')}": v for k, v in lora.items()}
    save_file(prefixed, str(tmp_path / "prefixed.safetensors"))
    a, b = released.read_lora(path), released.read_lora(tmp_path / "prefixed.safetensors")
    assert a.keys() == b.keys() and "blocks.0.attn2.add_k_proj" in a and "blocks.1.ffn.net.0.proj" in a
    for bad, message in (
        ({**lora, "blocks.0.self_attn.q.weight": torch.zeros(1)}, "is not a LoRA factor"),
        (
            {
                **lora,
                "blocks.0.self_attn.norm_q.lora_A.weight": torch.zeros(2, 48),
                "blocks.0.self_attn.norm_q.lora_B.weight": torch.zeros(48, 2),
            },
            "not a linear layer",
        ),
        ({k: v for k, v in lora.items() if "blocks.0.ffn.2.lora_B" not in k}, "lacks"),
        ({**lora, "blocks.0.ffn.2.lora_A.default.weight": torch.zeros(2, 7)}, "another model size"),
    ):
        save_file(bad, str(tmp_path / "bad.safetensors"))
        transformer, _ = M.load_base(fun_base)
        with pytest.raises(UserError, match=message) as info:
            released.load_released(transformer, tmp_path / "bad.safetensors")
        assert "bad.safetensors" in str(info.value) and "--lora" in str(info.value)
