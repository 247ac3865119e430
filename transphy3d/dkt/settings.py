"""Every setting of the DKT trainer and sampler, defined once.

Each field carries its default, its range, its help text and its command-line flag; the
``train-dkt``, ``infer-dkt`` and ``eval-dkt`` options are built from these models
(``transphy3d.cli.options``) and the training loop reads them. Invalid values raise a one-line
``UserError`` naming the flag. Light on purpose: the CLI imports this module at start-up.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, field_validator, model_validator

from transphy3d.dkt.sources import SourceSpec, parse_data_arg
from transphy3d.documents import FrozenModel, Settings, flag_of, option
from transphy3d.errors import UserError

Task = Literal["depth", "normal"]
Objective = Literal["flow", "single_step"]
Stitch = Literal["latent", "aligned"]
Schedule = Literal["official", "diffusers"]
TimestepSampling = Literal["official", "continuous"]
Resize = Literal["stretch", "crop"]
LrSchedule = Literal["constant", "constant_with_warmup", "cosine", "linear"]
MixedPrecision = Literal["auto", "bf16", "no"]
Numerics = Literal["exact", "official"]
Protocol = Literal["official", "legacy"]
FlowMode = Literal["auto", "rendered", "geometry", "none"]
RUN_GROUP = "logging, validation, checkpoints"
DEFAULT_LORA_TARGETS = ("to_q", "to_k", "to_v", "to_out.0", "ffn.net.0.proj", "ffn.net.2")


# ----------------------------------------------------------------------------- Wan VAE rules
def check_frame_count(num_frames: int, where: str) -> None:
    """The Wan VAE silently drops frames unless F = 4N+1."""
    if num_frames < 1 or (num_frames - 1) % 4:
        raise UserError(f"{num_frames} frames; clips need F = 4N+1 frames (1, 5, 9, ..., 81)", field=where)


def check_frame_size(width: int, height: int, where: str) -> None:
    """The Wan VAE downsamples by 8 and the transformer patches by 2: sizes are multiples of 16."""
    if width % 16 or height % 16 or width < 16 or height < 16:
        raise UserError(f"{width}x{height}: width and height must be positive multiples of 16", field=where)


def parse_resolution(value: Any) -> tuple[int, int]:
    """'832x480' -> (832, 480); a (width, height) pair passes through."""
    if not isinstance(value, str):
        width, height = value
        return int(width), int(height)
    width, sep, height = value.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise UserError(f"{value!r}: expected WIDTHxHEIGHT, e.g. 832x480", field="--resolution")
    return int(width), int(height)


DEFAULT_WIDTH, DEFAULT_HEIGHT = 832, 480  # DKT's working resolution


def resolution_option(help: str, group: str) -> Any:
    """The ``width`` field, set together with ``height`` by ``--resolution WIDTHxHEIGHT``."""
    shown = f"{DEFAULT_WIDTH}x{DEFAULT_HEIGHT}"
    return option(DEFAULT_WIDTH, help, "--resolution", dest="resolution", group=group, shown=shown)


class _Sized(FrozenModel):
    """Width and height, also given together as ``resolution`` ('832x480' or a pair)."""

    width: int = DEFAULT_WIDTH
    height: int = DEFAULT_HEIGHT

    @model_validator(mode="before")
    @classmethod
    def _resolution(cls, data: Any) -> Any:
        if isinstance(data, dict) and "resolution" in data:
            data = dict(data)
            data["width"], data["height"] = parse_resolution(data.pop("resolution"))
        return data

    @property
    def resolution(self) -> tuple[int, int]:
        return self.width, self.height


# ------------------------------------------------------------------------------------ models
class ClipSettings(Settings, _Sized):
    """Training clips: size, task, the disparity normalisation and the crops."""

    width: int = resolution_option("training WIDTHxHEIGHT, multiples of 16", "data")
    height: int = DEFAULT_HEIGHT
    task: Task = option("depth", "what to predict", "--task", group="data")
    percentiles: tuple[float, float] = option(
        (0.0, 100.0), "percentiles of a clip's disparity mapped to -1 and +1", "--disparity-percentiles",
        group="data", metavar=("LO", "HI"),
    )  # fmt: skip
    resize: Resize = option("stretch", "stretch: portrait clips rotated to landscape, then stretched to the "
                            "resolution (the official inference's processing); crop: resized to cover it and cropped",
                            "--resize", group="data")  # fmt: skip
    random_crop: bool = option(True, "--resize crop: centre crops instead of random ones", "--no-random-crop",
                               group="data")  # fmt: skip

    @model_validator(mode="after")
    def _check(self) -> ClipSettings:
        check_frame_size(self.width, self.height, "--resolution")
        lo, hi = self.percentiles
        if not 0.0 <= lo < hi <= 100.0:
            raise UserError(f"{self.percentiles}: need 0 <= low < high <= 100", field="--disparity-percentiles")
        return self


class FrameSettings(Settings):
    """Clip length F = 4N + 1 with N ~ U{n_min..n_max} (or a fixed F); frames ``stride`` apart."""

    num_frames: int | None = option(None, "fixed clip length F (4N+1); default: F = 4N+1 with N ~ U(--frames-n)",
                                    "--frames", group="data")  # fmt: skip
    n_range: tuple[int, int] = option((0, 5), "range of N for F = 4N+1", "--frames-n", group="data",
                                      metavar=("MIN", "MAX"))  # fmt: skip
    stride: int = option(1, "take every k-th frame", "--frame-stride", group="data")

    @classmethod
    def fixed(cls, num_frames: int, stride: int = 1) -> FrameSettings:
        return cls(num_frames=num_frames, stride=stride)

    @model_validator(mode="after")
    def _check(self) -> FrameSettings:
        if self.num_frames is not None:
            check_frame_count(self.num_frames, "--frames")
        if not 0 <= self.n_range[0] <= self.n_range[1]:
            raise UserError(f"N range {self.n_range[0]}..{self.n_range[1]}: need 0 <= min <= max", field="--frames-n")
        if self.stride < 1:
            raise UserError(f"{self.stride}: must be >= 1", field="--frame-stride")
        return self

    @property
    def n_min(self) -> int:
        return self.n_range[0] if self.num_frames is None else (self.num_frames - 1) // 4

    @property
    def n_max(self) -> int:
        return self.n_range[1] if self.num_frames is None else (self.num_frames - 1) // 4


class ObjectiveSettings(Settings):
    """Which objective and its constants."""

    kind: Objective = option("flow", "flow: flow matching on the velocity (DKT); single_step: deterministic one-step "
                             "regression of the clean latent (DVD)", "--objective", group="objective")  # fmt: skip
    shift: float = option(5.0, "timestep shift for training and sampling", "--shift", group="objective")
    single_step_timestep: float = option(1000.0, "fixed timestep of single_step", "--single-step-timestep",
                                         group="objective")  # fmt: skip
    spatial_weight: float = option(0.0, "single_step: weight of the spatial-gradient latent loss",
                                   "--spatial-loss-weight", group="objective")  # fmt: skip
    temporal_weight: float = option(0.0, "single_step: weight of the temporal-difference latent loss",
                                    "--temporal-loss-weight", group="objective")  # fmt: skip
    masked: bool = option(False, "weight latent cells by their fraction of valid ground-truth pixels",
                          "--masked-loss", group="objective")  # fmt: skip
    timesteps: TimestepSampling = option(
        "official", "flow: official = timestep index uniform on the shifted 1000-step grid, MSE weighted by its "
        "Gaussian timestep weight (DKT/DiffSynth); continuous = shifted u ~ U(0, 1), unweighted",
        "--timestep-sampling", group="objective",
    )  # fmt: skip

    @model_validator(mode="after")
    def _check(self) -> ObjectiveSettings:
        if not self.shift > 0:
            raise UserError(f"{self.shift}: must be > 0", field="--shift")
        if not 0 < self.single_step_timestep <= 1000:
            raise UserError(f"{self.single_step_timestep}: must lie in (0, 1000]", field="--single-step-timestep")
        return self


class LoraSettings(Settings):
    """LoRA rank, alpha and the (suffixes of) module names it adapts."""

    rank: int = option(32, "LoRA rank", "--lora-rank", group="LoRA")
    alpha: float = option(32.0, "LoRA alpha", "--lora-alpha", group="LoRA")
    targets: tuple[str, ...] = option(
        DEFAULT_LORA_TARGETS, "comma-separated module-name suffixes (attention and feed-forward of every block)",
        "--lora-targets", group="LoRA", shown=",".join(DEFAULT_LORA_TARGETS),
    )  # fmt: skip

    @field_validator("targets", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return tuple(t.strip() for t in value.split(",") if t.strip()) if isinstance(value, str) else value


def _sources(value: Any) -> Any:
    """``--data`` strings ([KIND:]PATH[@WEIGHT]) to source specs."""
    if isinstance(value, list):
        return [parse_data_arg(v) if isinstance(v, str) else v for v in value]
    return value


DATA_HELP = (
    "a training source as [KIND:]PATH[@WEIGHT]; KIND is render (render output: scene_*/), published "
    "(TransPhy3D WebDataset tars: a .tar or a folder of them) or images (rgb/ + depth/ folders), "
    "detected when left out; WEIGHT is its mixture weight (default 1). Repeat for several sources"
)


BASE_HELP = (
    "local base: Wan2.1-Fun-1.3B-Control or Fun-14B-Control as published (the official DKT base; "
    "`huggingface-cli download alibaba-pai/Wan2.1-Fun-1.3B-Control`), or a Wan 2.1 T2V diffusers directory "
    "(transformer/, vae/, text_encoder/, tokenizer/; its patch embedding is widened for the RGB latent); the "
    "kind is detected from the files"
)


class TrainSettings(Settings):
    """Everything a training run depends on (written to ``<out>/train_config.json``)."""

    base: str = option(..., BASE_HELP, "--base")
    out: str = option(..., "run directory: checkpoints, logs, prompt cache", "--out")
    data: Annotated[list[SourceSpec], BeforeValidator(_sources)] = option(
        [], DATA_HELP, "--data", group="data", action="append", metavar="SPEC"
    )
    val_data: Annotated[list[SourceSpec], BeforeValidator(_sources)] = option(
        [], "validation source, same syntax as --data", "--val-data", group="data", action="append", metavar="SPEC"
    )
    clip: ClipSettings = ClipSettings()
    frames: FrameSettings = FrameSettings()
    num_workers: int = option(2, "DataLoader worker processes per GPU", "--num-workers", group="data")
    index_cache: str | None = option(None, "where the index of published tars is built once and shared by ranks "
                                     "and workers (memory-mapped)", "--index-cache", group="data",
                                     shown="~/.cache/transphy3d/index")  # fmt: skip
    objective: ObjectiveSettings = ObjectiveSettings()
    lora: LoraSettings = LoraSettings()
    init_lora: str | None = option(None, "start from this LoRA instead of a fresh one: a released DKT file "
                                   "(DiffSynth names, e.g. DKT-Depth-1-3B-v1.1/) or a train-dkt checkpoint; its "
                                   "rank replaces --lora-rank", "--init-lora", group="LoRA")  # fmt: skip
    learning_rate: float = option(1e-5, "AdamW learning rate", "--lr", group="optimisation")
    patch_embedding_lr: float = option(1e-4, "T2V base only: learning rate of the widened patch embedding, whose "
                                       "RGB half is learned from zero", "--patch-embedding-lr",
                                       group="optimisation")  # fmt: skip
    weight_decay: float = option(1e-2, "AdamW weight decay", "--weight-decay", group="optimisation")
    adam_betas: tuple[float, float] = option((0.9, 0.999), "AdamW betas")
    lr_schedule: LrSchedule = option("constant", "learning-rate schedule (diffusers)", "--lr-schedule",
                                     group="optimisation")  # fmt: skip
    warmup_steps: int = option(0, "warm-up steps of the schedule", "--warmup-steps", group="optimisation")
    max_grad_norm: float = option(1.0, "gradient clipping (0: off)", "--max-grad-norm", group="optimisation")
    batch_size: int = option(8, "clips per optimizer step over all GPUs (accumulates gradients as needed)",
                             "--batch-size", group="optimisation")  # fmt: skip
    micro_batch_size: int = option(1, "clips per GPU per forward pass", "--micro-batch-size", group="optimisation")
    max_steps: int = option(70_000, "optimizer steps", "--max-steps", group="optimisation")
    mixed_precision: MixedPrecision = option("auto", "auto: bf16 on GPU, fp32 on CPU", "--mixed-precision",
                                             group="optimisation")  # fmt: skip
    gradient_checkpointing: bool = option(True, "no gradient checkpointing (more memory, faster)",
                                          "--no-gradient-checkpointing", group="optimisation")  # fmt: skip
    ema_decay: float = option(0.0, "EMA of the trained weights (0: off)", "--ema-decay", group="optimisation")
    seed: int = option(0, "seed of every random draw of the run", "--seed", group="optimisation")
    log_every: int = option(10, "steps between log lines", "--log-every", group=RUN_GROUP)
    val_every: int = option(1000, "steps between validations", "--val-every", group=RUN_GROUP)
    val_clips: int = option(4, "validation clips", "--val-clips", group=RUN_GROUP)
    val_frames: int = option(5, "F of validation clips (4N+1)", "--val-frames", group=RUN_GROUP)
    val_steps: int = option(5, "Euler steps of validation sampling", "--val-steps", group=RUN_GROUP)
    checkpoint_every: int = option(1000, "steps between checkpoints", "--checkpoint-every", group=RUN_GROUP)
    keep_checkpoints: int = option(3, "checkpoints kept", "--keep-checkpoints", group=RUN_GROUP)
    resume: str | None = option(None, "resume: the newest checkpoint under --out (no value) or a checkpoint directory",
                                "--resume", group=RUN_GROUP, nargs="?", const="auto")  # fmt: skip
    prompt_cache: str | None = option(None, "prompt embedding cache (default OUT/prompt_cache)", "--prompt-cache",
                                      group=RUN_GROUP)  # fmt: skip
    report_to: str | None = option(None, "also log to an accelerate tracker: tensorboard, wandb", "--report-to",
                                   group=RUN_GROUP)  # fmt: skip

    @model_validator(mode="after")
    def _check(self) -> TrainSettings:
        for name in ("batch_size", "micro_batch_size", "max_steps", "log_every", "val_every", "checkpoint_every",
                     "keep_checkpoints", "val_clips", "val_steps"):  # fmt: skip
            if getattr(self, name) < 1:
                raise UserError(f"{getattr(self, name)}: must be >= 1", field=flag_of(TrainSettings, (name,)))
        if not self.learning_rate > 0:
            raise UserError(f"{self.learning_rate}: must be > 0", field="--lr")
        if not self.patch_embedding_lr > 0:
            raise UserError(f"{self.patch_embedding_lr}: must be > 0", field="--patch-embedding-lr")
        if not 0.0 <= self.ema_decay < 1.0:
            raise UserError(f"{self.ema_decay}: must lie in [0, 1)", field="--ema-decay")
        check_frame_count(self.val_frames, "--val-frames")
        return self

    def accumulation_steps(self, world_size: int) -> int:
        """Micro-steps per optimizer step on ``world_size`` processes; the batch must divide evenly."""
        per_step = self.micro_batch_size * world_size
        if self.batch_size % per_step:
            raise UserError(
                f"batch size {self.batch_size} is not a multiple of micro-batch size "
                f"{self.micro_batch_size} x {world_size} processes",
                field="--batch-size",
            )
        if not self.data:
            raise UserError("no training data; pass --data PATH or --mixture FILE", field="--data")
        return self.batch_size // per_step

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class InferenceSettings(Settings, _Sized):
    """Sampler, windowing and working resolution of inference."""

    steps: int = option(5, "Euler steps (5, as DKT)", "--steps", group="inference")
    schedule: Schedule = option(
        "official", "sigmas: official = DKT's (5 steps, shift 5: 1.0, 0.952, 0.882, 0.769, 0.556, then 0); "
        "diffusers = FlowMatchEulerDiscreteScheduler's (1.0, 0.938, 0.835, 0.630, 0.024)", "--schedule",
        group="inference",
    )  # fmt: skip
    shift: float = option(5.0, "timestep shift of the sampler", "--shift", group="inference",
                          shown="the checkpoint's, 5 for DKT")  # fmt: skip
    width: int = resolution_option(
        "working resolution WIDTHxHEIGHT, multiples of 16; outputs are resized back to the input size", "inference"
    )
    height: int = DEFAULT_HEIGHT
    window: int = option(21, "window length in latent frames (21 = 81 video frames)", "--window", group="inference")
    overlap: int = option(3, "window overlap in latent frames", "--overlap", group="inference")
    stitch: Stitch = option("latent", "latent: blend windows' predictions at every step as the official DKT tiler does; "
                            "aligned: run windows independently, fit each to the previous by one least-squares "
                            "scale and shift on the overlap, then blend (DVD)", "--stitch",
                            group="inference")  # fmt: skip
    eight_bit: bool = option(False, "read the prediction as the official inference does: the decoded video cut "
                             "to 8-bit frames, resized back in 8 bits, depth = channel mean / 255 (to reproduce its "
                             "numbers; latent stitching only)", "--eight-bit", group="inference")  # fmt: skip
    seed: int = option(
        1,
        "noise seed (1, as the official inference: the same noise tensor, drawn on the CPU)",
        "--seed",
        group="inference",
    )
    numerics: Numerics = option("exact", "exact: fp32 latents and timesteps (the model in --dtype); official: as "
                                "the official pipeline on GPU, bf16 latents, the DiT at bf16-rounded timesteps "
                                "(1000, 952, 884, 768, 556 for 5 steps), the LoRA merged into bf16 weights",
                                "--numerics", group="inference")  # fmt: skip

    @model_validator(mode="after")
    def _check(self) -> InferenceSettings:
        if self.eight_bit and self.stitch != "latent":
            raise UserError("--eight-bit reads the official video: it needs --stitch latent", field="--eight-bit")
        if self.steps < 1:
            raise UserError(f"{self.steps}: need at least 1 step", field="--steps")
        if self.window < 1 or not 0 <= 2 * self.overlap <= self.window:
            raise UserError(
                f"window {self.window}, overlap {self.overlap}: need 0 <= overlap <= window / 2",
                field="--window/--overlap",
            )
        if self.stitch == "aligned" and self.window < 2 * self.overlap + 2:
            raise UserError(
                f"window {self.window}, overlap {self.overlap}: aligned stitching needs window >= 2 overlap + 2",
                field="--window/--overlap",
            )
        check_frame_size(self.width, self.height, "--resolution")
        return self


class EvalSettings(Settings):
    """What ``eval-dkt`` evaluates and how (the datasets are its positional arguments)."""

    out: str = option(..., "where metrics.json and metrics.md go", "--out")
    pred: str | None = option(None, "predictions folder: PRED/<sequence name>/disparity.npy (infer-dkt writes them; "
                              "e.g. PRED/set1/scene5/disparity.npy for ClearPose); raw-sensor: the data's own sensor "
                              "depth (raw_depth), evaluated by the same protocol, holes excluded and counted in "
                              "coverage", "--pred")  # fmt: skip
    lora: str | None = option(None, "a train-dkt checkpoint or a released DKT LoRA; predict with it instead of --pred",
                              "--lora", metavar="CKPT")  # fmt: skip
    base: str | None = option(None, "local base the LoRA belongs to (with --lora)", "--base")
    task: Task | None = option(None, "depth or normal (default: the checkpoint's; with --pred: depth)", "--task")
    subset: str | None = option(None, "ClearPose test subsets, comma-separated: heavy_occlusion, new_background, "
                                "opaque, translucent_cover, non_planar, liquid, or test (all six); each gets its "
                                "own rows", "--subset")  # fmt: skip
    regions: str | None = option(None, "comma-separated: all, transparent, reflective or material classes (render "
                                 "output); default: every region the data has", "--regions")  # fmt: skip
    max_frames: int | None = option(None, "evaluate only the first N frames of each sequence", "--max-frames", ge=1)
    protocol: Protocol = option("official", "official (DKT): valid = pred > 0 and gt > 0, one fit per video, aligned "
                                "disparity clipped at 1e-3, pixels pooled per video; legacy: clamp at 1 / (max gt "
                                "depth), per-frame means", "--protocol")  # fmt: skip
    depth_range: str | None = option(None, "evaluate only ground truth in this range: clearpose (0.3 to 1.5 m), "
                                     "MIN,MAX in metres, or none; default: clearpose for ClearPose data, else none",
                                     "--depth-range", metavar="RANGE")  # fmt: skip
    flow: FlowMode = option("auto", "flow for the temporal metric: auto = rendered when present, else from geometry",
                            "--flow")  # fmt: skip
    index_cache: str | None = option(None, "where directory scans of the datasets are cached", "--index-cache",
                                     shown="~/.cache/transphy3d/index")  # fmt: skip


class DeviceSettings(Settings):
    """Where inference runs."""

    device: str = option("auto", "auto (CUDA if present), cpu, cuda, cuda:1, ...", "--device", group="inference")
    dtype: str = option("auto", "auto (bf16 on CUDA, fp32 on CPU), bf16, fp16 or fp32", "--dtype", group="inference")
    prompt_cache: str | None = option(None, "where to cache the prompt embedding if the checkpoint has none "
                                      "(default ~/.cache/transphy3d/prompts)", "--prompt-cache",
                                      group="inference")  # fmt: skip
