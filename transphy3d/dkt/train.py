"""The DKT training loop on ``accelerate`` (``transphy3d train-dkt``).

- One optimizer step uses ``batch_size`` clips: ``micro_batch_size`` per process and micro-step,
  gradient accumulation over batch_size / (micro_batch_size x processes) micro-steps. Multi-GPU
  data parallel via ``accelerate launch`` (DDP), bf16 autocast on GPU with the frozen weights
  stored in bf16 and the trained ones in fp32, optional gradient checkpointing.
- AdamW (paper: lr 1e-5, batch 8) with a diffusers LR schedule, gradient clipping, optional EMA
  (diffusers ``EMAModel``) of the trained weights.
- Every random draw is keyed by (seed, rank, micro-step): the clips (``mixture.MixtureSampler``),
  the noise and the timesteps. A checkpoint stores the trained weights, optimizer, scheduler, EMA,
  global RNG states and the step, so a resumed run continues the same loss curve.
- Checkpoints ``<out>/checkpoints/step_<8-digit step>/`` are written under a temporary name and renamed
  when complete; ``<out>/checkpoints/latest`` names the newest. Each is also a DKT checkpoint for
  ``infer-dkt --lora`` (LoRA in diffusers' format, patch embedding, ``dkt.json``, prompt
  embedding; ``ema/`` holds the EMA weights when EMA is on).
- Logs: ``<out>/train_log.jsonl`` (loss, lr, seconds per step, skipped clips, validation).
"""

from __future__ import annotations

import contextlib
import json
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from transphy3d.dkt.data import model_inputs
from transphy3d.dkt.mixture import MixtureSampler, build_mixture, make_loader
from transphy3d.dkt.model import (
    LORA_WEIGHTS_FILE,
    PATCH_EMBEDDING_FILE,
    PROMPTS,
    DKTConfig,
    LatentCodec,
    build_dkt_transformer,
    check_base_dir,
    encode_prompt_cached,
    predict,
    save_dkt_weights,
    save_prompt_embeds,
)
from transphy3d.dkt.objective import (
    add_noise,
    per_clip_mse,
    rectification_losses,
    sample_training_sigmas,
    single_step_x0,
    valid_weights,
    weighted_mse,
)
from transphy3d.dkt.settings import FrameSettings, InferenceSettings, TrainSettings
from transphy3d.dkt.weights_files import load_safetensors, load_torch_state, tensor_named
from transphy3d.errors import OutputError, UserError
from transphy3d.files import check_output_dir, partial_path, publish_directory, write_text_atomic
from transphy3d.rng import derive_seed

STATE_FILE = "trainer_state.pt"
LOG_FILE = "train_log.jsonl"


@dataclass
class TrainResult:
    step: int
    losses: dict[int, float]
    checkpoint: Path | None
    skipped: int
    main_process: bool = True


def checkpoint_dir(out: Path, step: int) -> Path:
    return out / "checkpoints" / f"step_{step:08d}"


def find_resume(out: Path, resume: str | None) -> Path | None:
    """The checkpoint to resume from: ``auto`` = the newest complete one under ``out`` (or none)."""
    if resume is None:
        return None
    if resume != "auto":
        path = Path(resume)
        if not (path / STATE_FILE).is_file():
            raise UserError(f"not a training checkpoint (no {STATE_FILE})", path=str(path), field="--resume")
        return path
    latest = out / "checkpoints" / "latest"
    if latest.is_file():
        path = out / "checkpoints" / latest.read_text(encoding="utf-8").strip()
        if (path / STATE_FILE).is_file():
            return path
    done = sorted(p for p in (out / "checkpoints").glob("step_*") if (p / STATE_FILE).is_file())
    return done[-1] if done else None


def rng_states() -> dict[str, Any]:
    """The global RNG states in plain values and tensors, so ``weights_only`` loading reads them."""
    name, keys, position, has_gauss, cached = np.random.get_state()
    numpy_state = (name, torch.from_numpy(keys.astype(np.int64)), int(position), int(has_gauss), float(cached))
    states = {"torch": torch.get_rng_state(), "numpy": numpy_state, "python": random.getstate()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict[str, Any]) -> None:
    torch.set_rng_state(states["torch"])
    name, keys, position, has_gauss, cached = states["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), position, has_gauss, cached))
    random.setstate(states["python"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


class Trainer:
    """One training run; ``run()`` trains to ``max_steps`` (resuming if asked)."""

    def __init__(self, settings: TrainSettings, log: Callable[[str], None] = print):
        from accelerate import Accelerator
        from accelerate.utils import DistributedDataParallelKwargs

        self.s = settings
        self.out = Path(settings.out)
        precision = settings.mixed_precision
        if precision == "auto":
            precision = "bf16" if torch.cuda.is_available() else "no"
        self.accelerator = Accelerator(
            mixed_precision=precision,
            log_with=settings.report_to,
            project_dir=str(self.out),
            kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=False)],
        )
        self.rank = self.accelerator.process_index
        self.accum = settings.accumulation_steps(self.accelerator.num_processes)
        self._log = log if self.accelerator.is_main_process else (lambda _msg: None)
        self.weight_dtype = torch.bfloat16 if precision == "bf16" else torch.float32

    # ----------------------------------------------------------------------------------- set-up
    def setup(self) -> None:
        s = self.s
        # Every input check before anything is written: a failed check leaves no output folder.
        check_output_dir(self.out)
        check_base_dir(s.base)
        self.resume_from = find_resume(self.out, s.resume)
        self.index_cache = Path(s.index_cache) if s.index_cache else Path.home() / ".cache" / "transphy3d" / "index"
        with self.accelerator.main_process_first():  # the first process indexes, the others map its index
            self.dataset, weights, index_skips = build_mixture(s.data, s.clip, self.index_cache)
        created = not self.out.exists()
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputError(f"cannot create the output directory ({error})", path=str(self.out)) from error
        try:
            self._set_up_model(weights, index_skips)
        except BaseException:
            if created:
                shutil.rmtree(self.out, ignore_errors=True)
            raise

    def _set_up_model(self, weights: list[float], index_skips: list[str]) -> None:
        from diffusers.optimization import get_scheduler
        from diffusers.training_utils import EMAModel, cast_training_params

        s, acc = self.s, self.accelerator
        for message in index_skips:
            self._log(f"skipped while indexing: {message}")
        self.sampler = MixtureSampler(self.dataset.sources, weights, s.frames, s.micro_batch_size, s.seed, self.rank)
        cache = Path(s.prompt_cache) if s.prompt_cache else self.out / "prompt_cache"
        with acc.main_process_first():
            self.prompt = encode_prompt_cached(s.base, PROMPTS[s.clip.task], cache).to(acc.device)
        if s.init_lora is not None:
            from transphy3d.dkt.released import build_from_lora

            transformer, vae = build_from_lora(s.base, s.init_lora, self.weight_dtype, acc.device)
        else:
            seed = derive_seed(s.seed, "lora_init")
            transformer, vae = build_dkt_transformer(s.base, s.lora, self.weight_dtype, acc.device, seed)
        cast_training_params(transformer, torch.float32)
        if s.gradient_checkpointing:
            transformer.enable_gradient_checkpointing()
        transformer.train()
        self.codec = LatentCodec(vae)
        trained = [(n, p) for n, p in transformer.named_parameters() if p.requires_grad]
        lora = [p for n, p in trained if not n.startswith("patch_embedding.")]
        embedding = [p for n, p in trained if n.startswith("patch_embedding.")]  # T2V only
        self.params = lora + embedding
        groups = [{"params": lora, "lr": s.learning_rate}]
        if embedding:
            groups.append({"params": embedding, "lr": s.patch_embedding_lr})
        self.optimizer = torch.optim.AdamW(groups, betas=s.adam_betas, weight_decay=s.weight_decay)
        self.scheduler = get_scheduler(
            s.lr_schedule, self.optimizer, num_warmup_steps=s.warmup_steps, num_training_steps=s.max_steps
        )
        self.ema = EMAModel(self.params, decay=s.ema_decay) if s.ema_decay > 0 else None
        self.model, self.optimizer = acc.prepare(transformer, self.optimizer)
        self.step = 0
        self.skipped = 0
        self.val_set = self._validation_set()
        if s.report_to:
            acc.init_trackers("dkt", config={k: str(v) for k, v in s.to_json().items()})

    def _validation_set(self) -> list[dict[str, Any]] | None:
        """Fixed validation micro-batches (with metric depth) drawn once from ``val_data``."""
        if not self.s.val_data or not self.accelerator.is_main_process:
            return None
        settings = self.s.clip.model_copy(update={"random_crop": False})
        dataset, weights, _ = build_mixture(self.s.val_data, settings, self.index_cache)
        frames = FrameSettings.fixed(self.s.val_frames, self.s.frames.stride)
        sampler = MixtureSampler(dataset.sources, weights, frames, 1, derive_seed(self.s.seed, "validation"))
        loader = make_loader(dataset, sampler, 0, self.s.val_clips, num_workers=0)
        return [self._with_depth(dataset, b) for b in loader]

    @staticmethod
    def _with_depth(dataset, batch: dict[str, Any]) -> dict[str, Any]:
        """Add the metric depth (resized like the clip) to a depth-task validation batch."""
        from transphy3d.dkt.data import resize_crop

        key = batch["keys"][0]
        if dataset.settings.task == "depth":
            raw = dataset.sources[key.source].load(key.item, key.frames)
            depth = torch.from_numpy(raw.target)[:, None]
            batch["depth"] = resize_crop(depth, dataset.settings.height, dataset.settings.width, "nearest", (0.5, 0.5))[
                :, 0
            ].numpy()
        return batch

    # ------------------------------------------------------------------------------ checkpoints
    def save(self) -> Path:
        """Write the checkpoint of the current step atomically (main process); returns its path."""
        acc = self.accelerator
        final = checkpoint_dir(self.out, self.step)
        if acc.is_main_process:
            tmp = partial_path(final, hidden=True)
            shutil.rmtree(tmp, ignore_errors=True)
            model = acc.unwrap_model(self.model)
            config = self.dkt_config()
            save_dkt_weights(model, tmp, config)
            save_prompt_embeds(self.prompt, tmp)
            if self.ema is not None:
                self.ema.store(self.params)
                self.ema.copy_to(self.params)
                save_dkt_weights(model, tmp / "ema", config)
                save_prompt_embeds(self.prompt, tmp / "ema")
                self.ema.restore(self.params)
            torch.save(
                {
                    "step": self.step,
                    "optimizer": self.optimizer.state_dict(),
                    "scheduler": self.scheduler.state_dict(),
                    "ema": self.ema.state_dict() if self.ema is not None else None,
                    "rng": rng_states(),
                    "skipped": self.skipped,
                    "settings": self.s.to_json(),
                },
                tmp / STATE_FILE,
            )
            publish_directory(tmp, final)
            write_text_atomic(final.parent / "latest", final.name + "\n")
            done = sorted(p for p in final.parent.glob("step_*") if p.is_dir())
            for old in done[: max(0, len(done) - self.s.keep_checkpoints)]:
                shutil.rmtree(old, ignore_errors=True)
        acc.wait_for_everyone()
        return final

    def load(self, path: Path) -> None:
        """Restore trained weights, optimizer, scheduler, EMA, RNG and step from a checkpoint."""
        from peft.utils import set_peft_model_state_dict

        model = self.accelerator.unwrap_model(self.model)
        lora = load_safetensors(path / LORA_WEIGHTS_FILE)
        lora = {k.removeprefix("transformer."): v for k, v in lora.items()}
        result = set_peft_model_state_dict(model, lora, adapter_name="default")
        if getattr(result, "unexpected_keys", None):
            raise UserError(f"LoRA keys that do not fit the model: {result.unexpected_keys[:3]}", path=str(path))
        if (path / PATCH_EMBEDDING_FILE).is_file():  # T2V: the widened embedding trained too
            embed_path = path / PATCH_EMBEDDING_FILE
            embed = load_safetensors(embed_path)
            with torch.no_grad():
                model.patch_embedding.weight.copy_(tensor_named(embed, "weight", embed_path))
                model.patch_embedding.bias.copy_(tensor_named(embed, "bias", embed_path))
        state = load_torch_state(path / STATE_FILE)
        try:
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            if self.ema is not None and state.get("ema") is not None:
                self.ema.load_state_dict(state["ema"])
            set_rng_states(state["rng"])
            self.step = int(state["step"])
            self.skipped = int(state.get("skipped", 0))
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            raise UserError(
                f"not a trainer state of this model ({type(error).__name__}: {' '.join(str(error).split())[:160]})",
                path=str(path / STATE_FILE),
                field="--resume",
            ) from None

    def dkt_config(self) -> DKTConfig:
        o = self.s.objective
        return DKTConfig(
            task=self.s.clip.task,
            prompt=PROMPTS[self.s.clip.task],
            objective=o.kind,
            single_step_timestep=o.single_step_timestep,
            shift=o.shift,
            lora=self.s.lora.model_dump(mode="json"),
            base=str(self.s.base),
            step=self.step,
        )

    # ---------------------------------------------------------------------------------- a step
    def loss(self, batch: dict[str, Any], noise_key: tuple[str | int, ...], model=None) -> torch.Tensor:
        """The objective on one micro-batch; noise and timesteps drawn from the stream (seed, noise_key)."""
        o = self.s.objective
        model = model or self.model
        device = self.accelerator.device
        rgb, target_video = model_inputs(batch, device)
        rgb_latents = self.codec.encode(rgb)
        target = self.codec.encode(target_video)
        weights = valid_weights(batch["valid"].to(device), target.shape) if o.masked else None
        generator = torch.Generator().manual_seed(derive_seed(self.s.seed, *noise_key))
        batch_size = target.shape[0]
        with self.accelerator.autocast():
            if o.kind == "flow":
                sigma, weight = sample_training_sigmas(batch_size, o.shift, generator, o.timesteps)
                sigma = sigma.to(device)
                noise = torch.randn(target.shape, generator=generator).to(device)
                output = predict(model, add_noise(target, noise, sigma), rgb_latents, sigma * 1000.0, self.prompt)
                return (per_clip_mse(output, noise - target, weights) * weight.to(device)).mean()
            timestep = torch.full((batch_size,), o.single_step_timestep, device=device)
            output = predict(model, torch.zeros_like(target), rgb_latents, timestep, self.prompt)
            x0 = single_step_x0(output.float(), o.single_step_timestep)
            loss = weighted_mse(x0, target, weights)
            if o.spatial_weight or o.temporal_weight:
                spatial, temporal = rectification_losses(x0, target)
                loss = loss + o.spatial_weight * spatial + o.temporal_weight * temporal
            return loss

    def train_step(self, batches) -> float:
        """One optimizer step over ``accum`` micro-batches; the mean loss over processes."""
        acc = self.accelerator
        total = torch.zeros((), device=acc.device)
        for micro in range(self.accum):
            batch = next(batches)
            self.skipped += len(batch["skipped"])
            for message in batch["skipped"]:
                self._log(f"skipped corrupt clip: {message}")
            sync = micro == self.accum - 1
            context = acc.no_sync(self.model) if not sync else contextlib.nullcontext()
            with context:
                loss = self.loss(batch, ("noise", self.rank, self.step * self.accum + micro))
                acc.backward(loss / self.accum)
            total += loss.detach() / self.accum
        if self.s.max_grad_norm > 0:
            acc.clip_grad_norm_(self.params, self.s.max_grad_norm)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        if self.ema is not None:
            self.ema.step(self.params)
        self.step += 1
        return float(acc.reduce(total, reduction="mean"))

    # ------------------------------------------------------------------------------ validation
    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Validation loss (fixed noise) and, for depth, AbsRel / delta after sampling."""
        from transphy3d.dkt import metrics
        from transphy3d.dkt.infer import make_model_fn, sample_latents, to_prediction

        if not self.val_set:
            return {}
        model = self.accelerator.unwrap_model(self.model)
        was_training = model.training
        model.eval()
        if self.ema is not None:
            self.ema.store(self.params)
            self.ema.copy_to(self.params)
        losses, rows = [], []
        config = self.dkt_config()
        settings = InferenceSettings(
            steps=self.s.val_steps, shift=self.s.objective.shift, resolution=self.s.clip.resolution, seed=self.s.seed
        )
        model_fn = make_model_fn(model, self.prompt)
        for i, batch in enumerate(self.val_set):
            losses.append(float(self.loss(batch, ("validation", i), model=model)))
            if "depth" in batch:
                rgb, _ = model_inputs(batch, self.codec.device)
                latents = sample_latents(
                    model_fn,
                    self.codec.encode(rgb),
                    settings,
                    config,
                    torch.Generator().manual_seed(self.s.seed + i),
                )
                disparity = to_prediction(self.codec.decode(latents), "depth").cpu().numpy()
                valid = batch["valid"][0].numpy()
                if valid.any():
                    result = metrics.evaluate_depth_video(disparity, batch["depth"], valid)
                    rows.append(result["all"])
        if self.ema is not None:
            self.ema.restore(self.params)
        model.train(was_training)
        out = {"val_loss": float(np.mean(losses))}
        for key in ("abs_rel", "delta_1.05", "delta_1.25"):
            values = [r[key] for r in rows if r]
            if values:
                out[f"val_{key}"] = float(np.mean(values))
        return out

    # ------------------------------------------------------------------------------------ loop
    def write_log(self, record: dict[str, Any]) -> None:
        if self.accelerator.is_main_process:
            with open(self.out / LOG_FILE, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")
            if self.s.report_to:
                self.accelerator.log(
                    {k: v for k, v in record.items() if isinstance(v, int | float)}, step=record["step"]
                )

    def run(self) -> TrainResult:
        if not hasattr(self, "model"):
            self.setup()
        resume = self.resume_from
        if resume is not None:
            self.load(resume)
            self._log(f"resumed from {resume} at step {self.step}")
        if self.accelerator.is_main_process:
            from transphy3d.files import write_json

            write_json(self.out / "train_config.json", self.s.to_json())
        loader = make_loader(self.dataset, self.sampler, start=self.step * self.accum, num_workers=self.s.num_workers)
        batches = iter(loader)
        losses: dict[int, float] = {}
        last_checkpoint = None
        started = time.perf_counter()
        window_start, window_steps = started, 0
        while self.step < self.s.max_steps:
            loss = self.train_step(batches)
            losses[self.step] = loss
            window_steps += 1
            if self.step % self.s.log_every == 0 or self.step == self.s.max_steps:
                now = time.perf_counter()
                record = {
                    "step": self.step,
                    "loss": loss,
                    "lr": self.scheduler.get_last_lr()[0],
                    "seconds_per_step": (now - window_start) / window_steps,
                    "skipped": self.skipped,
                }
                self.write_log(record)
                self._log(
                    f"step {self.step}: loss {loss:.5f} lr {record['lr']:.3g} {record['seconds_per_step']:.2f} s/step"
                )
                window_start, window_steps = now, 0
            if self.val_set is not None and (self.step % self.s.val_every == 0 or self.step == self.s.max_steps):
                record = {"step": self.step, **self.validate()}
                self.write_log(record)
                self._log(f"step {self.step}: " + ", ".join(f"{k} {v:.5f}" for k, v in record.items() if k != "step"))
            if self.step % self.s.checkpoint_every == 0 or self.step == self.s.max_steps:
                last_checkpoint = self.save()
        self.accelerator.wait_for_everyone()
        if self.s.report_to:
            self.accelerator.end_training()
        return TrainResult(self.step, losses, last_checkpoint, self.skipped, self.accelerator.is_main_process)


def train(settings: TrainSettings, log: Callable[[str], None] = print) -> TrainResult:
    """Train (or resume) a DKT LoRA as ``settings`` say."""
    return Trainer(settings, log).run()
