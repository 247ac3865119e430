"""Training: the loss falls on a tiny fixture set, only LoRA and patch embedding change,
checkpoints are atomic and resume to the exact step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from dkt_fixtures import tiny_train_settings
from safetensors.torch import load_file

from transphy3d.dkt.settings import ObjectiveSettings
from transphy3d.dkt.sources import SourceSpec
from transphy3d.dkt.train import STATE_FILE, Trainer, train
from transphy3d.errors import UserError


def _state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_short_run_overfits_and_changes_only_lora_and_patch_embedding(
    tiny_base: Path, render_root: Path, tmp_path: Path
) -> None:
    settings = tiny_train_settings(
        tiny_base,
        tmp_path / "run",
        render_root,
        max_steps=40,
        log_every=5,
        val_data=[SourceSpec(kind="render", path=str(render_root))],
        val_clips=4,
        val_every=40,
    )
    trainer = Trainer(settings, log=lambda _m: None)
    trainer.setup()
    model = trainer.accelerator.unwrap_model(trainer.model)
    before, vae_before = _state(model), _state(trainer.codec.vae)
    val_before = trainer.validate()["val_loss"]
    result = trainer.run()
    val_after = trainer.validate()["val_loss"]
    assert val_after < 0.6 * val_before, (val_before, val_after)
    # the per-step loss carries the official timestep weights (0 to 1.4): the validation loss, on
    # fixed noise and timesteps, is the measure of learning here
    assert all(torch.isfinite(torch.tensor(list(result.losses.values()))))
    after = _state(model)
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed, "nothing trained"
    assert all(".lora_" in k or k.startswith("patch_embedding") for k in changed), sorted(changed)[:5]
    assert "patch_embedding.weight" in changed
    assert any(".lora_B." in k for k in changed)
    assert all(
        torch.equal(v, after_v)
        for v, after_v in zip(vae_before.values(), _state(trainer.codec.vae).values(), strict=True)
    )
    log = [json.loads(line) for line in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()]
    steps = [r for r in log if "loss" in r]
    assert [r["step"] for r in steps] == [5, 10, 15, 20, 25, 30, 35, 40]
    assert all(r["lr"] == pytest.approx(1e-2) for r in steps)
    assert any("val_loss" in r for r in log)


def test_resumed_run_continues_the_same_loss_curve(tiny_base: Path, render_root: Path, tmp_path: Path) -> None:
    quiet = {"log": lambda _m: None}
    full = train(
        tiny_train_settings(tiny_base, tmp_path / "full", render_root, max_steps=6, checkpoint_every=3),
        **quiet,
    )
    part = train(
        tiny_train_settings(tiny_base, tmp_path / "part", render_root, max_steps=3, checkpoint_every=3),
        **quiet,
    )
    assert part.checkpoint is not None and (part.checkpoint / STATE_FILE).is_file()
    resumed = train(
        tiny_train_settings(tiny_base, tmp_path / "part", render_root, max_steps=6, checkpoint_every=3, resume="auto"),
        **quiet,
    )
    assert sorted(resumed.losses) == [4, 5, 6]
    for step in (4, 5, 6):
        assert resumed.losses[step] == full.losses[step], step
    for name in ("pytorch_lora_weights.safetensors", "patch_embedding.safetensors"):
        a, b = load_file(str(full.checkpoint / name)), load_file(str(resumed.checkpoint / name))
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
    assert (tmp_path / "part" / "checkpoints" / "latest").read_text().strip() == "step_00000006"


def test_checkpoints_are_complete_and_pruned(trained_run) -> None:
    result, out = trained_run
    checkpoints = out / "checkpoints"
    names = sorted(p.name for p in checkpoints.iterdir())
    assert names == ["latest", "step_00000006", "step_00000012"]
    assert not list(checkpoints.glob(".*partial*"))
    for step in names[1:]:
        files = {p.name for p in (checkpoints / step).iterdir()}
        assert {
            "pytorch_lora_weights.safetensors",
            "patch_embedding.safetensors",
            "dkt.json",
            "prompt_embeds.safetensors",
            STATE_FILE,
        } <= files
    config = json.loads((checkpoints / "step_00000012" / "dkt.json").read_text())
    assert config["step"] == 12 and config["in_channels"] == 32 and config["task"] == "depth"
    assert result.checkpoint == checkpoints / "step_00000012"


def test_single_step_objective_with_ema_and_masked_loss(tiny_base: Path, render_root: Path, tmp_path: Path) -> None:
    objective = ObjectiveSettings(kind="single_step", spatial_weight=0.5, temporal_weight=0.5, masked=True)
    result = train(
        tiny_train_settings(
            tiny_base,
            tmp_path / "ss",
            render_root,
            max_steps=8,
            objective=objective,
            ema_decay=0.9,
            checkpoint_every=8,
            keep_checkpoints=1,
        ),
        log=lambda _m: None,
    )
    losses = [result.losses[s] for s in sorted(result.losses)]
    assert all(torch.isfinite(torch.tensor(losses)))
    assert sum(losses[-3:]) < sum(losses[:3])
    ema = result.checkpoint / "ema"
    assert (ema / "pytorch_lora_weights.safetensors").is_file()
    assert json.loads((ema / "dkt.json").read_text())["objective"] == "single_step"
    ema_lora = load_file(str(ema / "pytorch_lora_weights.safetensors"))
    raw_lora = load_file(str(result.checkpoint / "pytorch_lora_weights.safetensors"))
    assert any(not torch.equal(ema_lora[k], raw_lora[k]) for k in raw_lora)


def test_bad_training_settings(tiny_base: Path, render_root: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="--batch-size"):
        Trainer(tiny_train_settings(tiny_base, tmp_path / "b", render_root, batch_size=3, micro_batch_size=2))
    with pytest.raises(UserError, match="4N"):
        Trainer(tiny_train_settings(tiny_base, tmp_path / "b", render_root, val_frames=6))
    with pytest.raises(UserError, match="--resume"):
        train(
            tiny_train_settings(tiny_base, tmp_path / "b", render_root, resume=str(tmp_path)),
            log=lambda _m: None,
        )


@pytest.mark.slow
def test_two_process_data_parallel_run(tiny_base: Path, render_root: Path, tmp_path: Path) -> None:
    """`accelerate launch` with 2 CPU processes (gloo DDP): gradient sync, accumulation, rank-0 I/O."""
    import os
    import subprocess
    import sys

    launcher = Path(sys.executable).parent / "accelerate"
    if not launcher.is_file():
        pytest.skip("accelerate launcher not installed next to the interpreter")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = tmp_path / "ddp"
    run = subprocess.run(
        [
            str(launcher),
            "launch",
            "--cpu",
            "--num_processes",
            "2",
            "--num_machines",
            "1",
            "--mixed_precision",
            "no",
            "--dynamo_backend",
            "no",
            "-m",
            "transphy3d",
            "train-dkt",
            "--base",
            str(tiny_base),
            "--out",
            str(out),
            "--data",
            str(render_root),
            "--resolution",
            "32x32",
            "--frames",
            "5",
            "--batch-size",
            "4",
            "--max-steps",
            "2",
            "--lr",
            "1e-3",
            "--lora-rank",
            "4",
            "--num-workers",
            "0",
            "--no-gradient-checkpointing",
            "--checkpoint-every",
            "2",
            "--log-every",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2]  # written once, by rank 0
    assert (out / "checkpoints" / "step_00000002" / STATE_FILE).is_file()
    assert run.stdout.count("trained to step 2") == 1  # printed by rank 0 only


def test_widened_patch_embedding_has_its_own_learning_rate(
    tiny_base: Path, fun_base: Path, render_root: Path, tmp_path: Path
) -> None:
    trainer = Trainer(
        tiny_train_settings(tiny_base, tmp_path / "t2v", render_root, learning_rate=1e-5, patch_embedding_lr=3e-4),
        log=lambda _m: None,
    )
    trainer.setup()
    groups = trainer.optimizer.param_groups
    assert [g["lr"] for g in groups] == [1e-5, 3e-4]
    model = trainer.accelerator.unwrap_model(trainer.model)
    assert {id(p) for p in groups[1]["params"]} == {id(p) for p in model.patch_embedding.parameters()}
    fun = Trainer(tiny_train_settings(fun_base, tmp_path / "fun", render_root), log=lambda _m: None)
    fun.setup()  # Fun-Control: LoRA only, the 48-channel embedding stays as shipped
    assert len(fun.optimizer.param_groups) == 1
    assert not any(p.requires_grad for p in fun.accelerator.unwrap_model(fun.model).patch_embedding.parameters())
