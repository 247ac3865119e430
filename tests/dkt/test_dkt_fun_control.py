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


def test_portrait_video_round_trips_through_rotation(fun_base: Path, tmp_path: Path) -> None:
    import numpy as np

    from transphy3d.dkt.frames import from_landscape, normals_from_landscape, normals_to_landscape, to_landscape
    from transphy3d.dkt.infer import load_for_inference, predict_video
    from transphy3d.dkt.settings import InferenceSettings

    rng = np.random.Generator(np.random.PCG64(0))
    frames = rng.integers(0, 256, size=(5, 40, 24, 3), dtype=np.uint8)  # portrait: 24 wide, 40 high
    landscape = to_landscape(frames)
    assert landscape.shape == (5, 24, 40, 3) and np.array_equal(from_landscape(landscape), frames)
    # the portrait's top-right pixel is the landscape's top-left (counter-clockwise turn)
    assert np.array_equal(landscape[:, 0, 0], frames[:, 0, -1])
    right = np.array([1.0, 0.0, 0.0])  # pointing to the portrait's right = the landscape's up
    assert normals_to_landscape(right).tolist() == [0.0, -1.0, 0.0]
    np.testing.assert_array_equal(normals_from_landscape(normals_to_landscape(right)), right)

    state = load_file(str(fun_base / "diffusion_pytorch_model.safetensors"))
    lora = write_released_lora(tmp_path / "DKT-Depth-1-3B-v1.1" / "model.safetensors", state, rank=2)
    model_fn, codec, config = load_for_inference(
        fun_base, lora.parent, torch.device("cpu"), torch.float32, tmp_path / "prompts"
    )
    assert config.task == "depth" and config.base_kind == "fun-control"
    settings = InferenceSettings(resolution=(32, 16), steps=2)
    portrait = predict_video(frames, model_fn, codec, settings, config)
    assert portrait.shape == (5, 40, 24)
    # the portrait video's prediction is its landscape rotation's prediction, turned back
    np.testing.assert_array_equal(portrait, from_landscape(predict_video(landscape, model_fn, codec, settings, config)))


def test_released_lora_runs_in_infer_and_fine_tunes(
    fun_base: Path, render_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    import numpy as np

    from transphy3d.cli import main

    state = load_file(str(fun_base / "diffusion_pytorch_model.safetensors"))
    lora = write_released_lora(tmp_path / "DKT-Depth-1-3B-v1.1" / "model.safetensors", state, rank=2)
    scene = render_root / "scene_000000"
    common = ["--base", str(fun_base), "--resolution", "32x32", "--steps", "2", "--prompt-cache", str(tmp_path / "p")]
    assert main(["infer-dkt", str(scene), "--lora", str(lora.parent), "--out", str(tmp_path / "o"), *common]) == 0
    disparity = np.load(tmp_path / "o" / "disparity.npy")
    assert disparity.shape == (9, 32, 32) and np.isfinite(disparity).all()
    err = capsys.readouterr()
    nameless = tmp_path / "weights" / "lora.safetensors"
    nameless.parent.mkdir()
    nameless.write_bytes(lora.read_bytes())
    assert main(["infer-dkt", str(scene), "--lora", str(nameless), "--out", str(tmp_path / "o2"), *common]) == 2
    err = capsys.readouterr().err.strip()
    assert "--task" in err and len(err.splitlines()) == 1

    out = tmp_path / "run"
    train = ["train-dkt", "--base", str(fun_base), "--out", str(out), "--data", str(render_root), "--init-lora",
             str(lora), "--resolution", "32x32", "--frames", "5", "--batch-size", "1", "--max-steps", "2",
             "--lr", "1e-2", "--num-workers", "0", "--no-gradient-checkpointing", "--checkpoint-every", "2"]  # fmt: skip
    assert main(train) == 0
    checkpoint = out / "checkpoints" / "step_00000002"
    config = json.loads((checkpoint / "dkt.json").read_text())
    assert config["base_kind"] == "fun-control" and config["in_channels"] == 48 and config["lora"]["rank"] == 2
    assert not (checkpoint / "patch_embedding.safetensors").exists()  # the Fun-Control embedding stays as shipped
    trained = load_file(str(checkpoint / "pytorch_lora_weights.safetensors"))
    start = released.read_lora(lora)
    changed = [
        k for k, v in trained.items() if not torch.equal(v, start[k[12:].rsplit(".", 2)[0]][k.endswith("B.weight")])
    ]
    assert len(trained) == 2 * len(start) and changed
    assert main(["infer-dkt", str(scene), "--lora", str(checkpoint), "--out", str(tmp_path / "o3"), *common]) == 0


def test_wan_t5_file_maps_onto_umt5(fun_base: Path) -> None:
    from wan_reference import wan_t5

    from transphy3d.dkt import wan_original

    state = torch.load(fun_base / wan_original.T5_FILE, weights_only=True)
    encoder = wan_original.load_text_encoder(fun_base)
    ids = torch.tensor([[3, 5, 6, 7, 8, 1, 0, 0]])  # five words, </s>, two pads
    mask = torch.tensor([[1, 1, 1, 1, 1, 1, 0, 0]])
    with torch.no_grad():
        ours = encoder(input_ids=ids, attention_mask=mask).last_hidden_state
    torch.testing.assert_close(ours[:, :6], wan_t5(state, ids, mask)[:, :6], rtol=1e-5, atol=1e-5)
