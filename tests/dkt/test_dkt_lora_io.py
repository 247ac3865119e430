"""Saved DKT weights load through diffusers' own LoRA loaders and give the trained predictions."""

from __future__ import annotations

from pathlib import Path

import torch
from dkt_fixtures import tiny_train_settings
from safetensors.torch import load_file

from transphy3d.dkt import model as M
from transphy3d.dkt.train import Trainer


def _inputs(seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(1, 16, 2, 4, 4, generator=g),
        torch.randn(1, 16, 2, 4, 4, generator=g),
        torch.tensor([400.0]),
    )


def _trained_transformer(base: Path, checkpoint: Path, data: Path):
    """The transformer as training left it (trained weights restored into a fresh training model)."""
    trainer = Trainer(tiny_train_settings(base, checkpoint.parent.parent, data), log=lambda _m: None)
    trainer.setup()
    trainer.load(checkpoint)
    return trainer.accelerator.unwrap_model(trainer.model).eval(), trainer.prompt


def test_lora_file_is_in_diffusers_format(trained_run) -> None:
    result, _ = trained_run
    state = load_file(str(result.checkpoint / M.LORA_WEIGHTS_FILE))
    assert state and all(k.startswith("transformer.blocks.") for k in state)
    assert any(k.endswith("lora_B.weight") and torch.count_nonzero(v) > 0 for k, v in state.items())


def test_saved_lora_loads_with_diffusers_loaders_and_predicts_the_same(
    tiny_base: Path, trained_run, shared_render_root: Path
) -> None:
    from diffusers import WanPipeline, WanTransformer3DModel

    result, _ = trained_run
    ckpt = result.checkpoint
    trained, prompt = _trained_transformer(tiny_base, ckpt, shared_render_root)
    x, rgb, t = _inputs()
    with torch.no_grad():
        expected = M.predict(trained, x, rgb, t, prompt)

        # 1. the model-level loader with its default prefix ("transformer")
        transformer = WanTransformer3DModel.from_pretrained(tiny_base, subfolder="transformer")
        M.load_patch_embedding(transformer, ckpt)
        without_lora = M.predict(transformer, x, rgb, t, prompt)
        transformer.load_lora_adapter(str(ckpt), weight_name=M.LORA_WEIGHTS_FILE)
        torch.testing.assert_close(M.predict(transformer, x, rgb, t, prompt), expected, rtol=1e-5, atol=1e-6)
        assert (without_lora - expected).abs().max() > 1e-4  # the adapter is not a no-op

        # 2. the pipeline-level loader
        pipe = WanPipeline.from_pretrained(tiny_base)
        M.load_patch_embedding(pipe.transformer, ckpt)
        pipe.load_lora_weights(str(ckpt), weight_name=M.LORA_WEIGHTS_FILE)
        torch.testing.assert_close(M.predict(pipe.transformer, x, rgb, t, prompt), expected, rtol=1e-5, atol=1e-6)

        # 3. our inference loader (which goes through load_lora_adapter)
        loaded, _, config = M.load_dkt_transformer(tiny_base, ckpt)
        torch.testing.assert_close(M.predict(loaded, x, rgb, t, prompt), expected, rtol=1e-5, atol=1e-6)
    assert config.step == result.step and config.task == "depth"
    torch.testing.assert_close(M.load_prompt_embeds(ckpt), prompt.cpu())
