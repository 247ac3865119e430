"""``transphy3d train-dkt``, ``infer-dkt`` and ``eval-dkt`` (heavy imports inside the handlers)."""

from __future__ import annotations

import argparse
from pathlib import Path

from transphy3d.errors import UserError

DATA_HELP = (
    "a training source as [KIND:]PATH[@WEIGHT]; KIND is render (render output: scene_*/), published "
    "(TransPhy3D WebDataset tars: a .tar or a folder of them) or images (rgb/ + depth/ folders), "
    "detected when left out; WEIGHT is its mixture weight (default 1). Repeat for several sources"
)


def parse_resolution(text: str) -> tuple[int, int]:
    """'832x480' -> (832, 480)."""
    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise UserError(f"{text!r}: expected WIDTHxHEIGHT, e.g. 832x480", field="--resolution")
    return int(width), int(height)


def _add_inference_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("inference")
    group.add_argument("--steps", type=int, default=5, help="Euler steps (default 5, as DKT)")
    group.add_argument(
        "--shift",
        type=float,
        default=None,
        help="timestep shift of the sampler (default: the checkpoint's, 5 for DKT)",
    )
    group.add_argument(
        "--window", type=int, default=21, help="window length in latent frames (default 21 = 81 video frames)"
    )
    group.add_argument("--overlap", type=int, default=3, help="window overlap in latent frames (default 3)")
    group.add_argument(
        "--stitch",
        choices=("latent", "aligned"),
        default="latent",
        help="latent: blend windows' predictions with linear ramps at every step (DKT, default); "
        "aligned: run windows independently, fit each to the previous by one least-squares "
        "scale and shift on the overlap, then blend (DVD)",
    )
    group.add_argument(
        "--resolution",
        default="832x480",
        help="working resolution WIDTHxHEIGHT, multiples of 16 (default 832x480); outputs are "
        "resized back to the input size",
    )
    group.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    group.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda, cuda:1, ...")
    group.add_argument("--dtype", default="auto", help="auto (bf16 on CUDA, fp32 on CPU), bf16, fp16 or fp32")
    group.add_argument(
        "--prompt-cache",
        default=None,
        help="where to cache the prompt embedding if the checkpoint has none (default ~/.cache/transphy3d/prompts)",
    )


def _inference_settings(args: argparse.Namespace, shift: float):
    from transphy3d.dkt.infer import InferenceSettings

    width, height = parse_resolution(args.resolution)
    return InferenceSettings(
        steps=args.steps,
        shift=args.shift if args.shift is not None else shift,
        window=args.window,
        overlap=args.overlap,
        stitch=args.stitch,
        width=width,
        height=height,
        seed=args.seed,
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the three DKT commands to the ``transphy3d`` CLI."""
    _register_train(subparsers)
    _register_infer(subparsers)
    _register_eval(subparsers)


def _register_train(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train-dkt",
        help="LoRA fine-tuning of Wan 2.1 for video depth/normals (DKT)",
        description="Fine-tune a local Wan 2.1 diffusers model (--base) into a video depth (or normal) "
        "estimator: RGB latent concatenated with the noisy target latent, widened patch embedding "
        "and LoRA trained, VAE and text encoder frozen. Multi-GPU: `accelerate launch -m "
        "transphy3d train-dkt ...`. Defaults follow the DKT paper (AdamW lr 1e-5, batch 8, 70K steps, "
        "F = 4N+1 with N ~ U(0, 5), F = 1 batches mixing image data).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--base",
        required=True,
        help="local Wan 2.1 diffusers directory (transformer/, vae/, "
        "text_encoder/, tokenizer/), e.g. from `huggingface-cli download Wan-AI/Wan2.1-T2V-1.3B-Diffusers`",
    )
    p.add_argument("--out", required=True, help="run directory: checkpoints, logs, prompt cache")
    data = p.add_argument_group("data")
    data.add_argument("--data", action="append", default=[], metavar="SPEC", help=DATA_HELP)
    data.add_argument(
        "--mixture",
        default=None,
        help="YAML file: sources: [{kind, path, weight, rgb_dir, "
        "depth_dir, normal_dir, depth_scale}] (added to --data)",
    )
    data.add_argument(
        "--val-data",
        action="append",
        default=[],
        metavar="SPEC",
        help="validation source, same syntax as --data",
    )
    data.add_argument("--task", choices=("depth", "normal"), default="depth", help="what to predict")
    data.add_argument("--resolution", default="832x480", help="training WIDTHxHEIGHT, multiples of 16")
    data.add_argument(
        "--frames",
        type=int,
        default=None,
        help="fixed clip length F (4N+1); default: F = 4N+1 with N ~ U(--frames-n)",
    )
    data.add_argument(
        "--frames-n",
        type=int,
        nargs=2,
        default=(0, 5),
        metavar=("MIN", "MAX"),
        help="range of N for F = 4N+1",
    )
    data.add_argument("--frame-stride", type=int, default=1, help="take every k-th frame")
    data.add_argument(
        "--disparity-percentiles",
        type=float,
        nargs=2,
        default=(0.0, 100.0),
        metavar=("LO", "HI"),
        help="percentiles of a clip's disparity mapped to -1 and +1",
    )
    data.add_argument("--no-random-crop", action="store_true", help="centre crops instead of random ones")
    data.add_argument("--num-workers", type=int, default=2, help="DataLoader worker processes per GPU")
    obj = p.add_argument_group("objective")
    obj.add_argument(
        "--objective",
        choices=("flow", "single_step"),
        default="flow",
        help="flow: flow matching on the velocity (DKT); single_step: deterministic one-step "
        "regression of the clean latent (DVD)",
    )
    obj.add_argument("--shift", type=float, default=5.0, help="timestep shift for training and sampling")
    obj.add_argument("--single-step-timestep", type=float, default=1000.0, help="fixed timestep of single_step")
    obj.add_argument(
        "--spatial-loss-weight",
        type=float,
        default=0.0,
        help="single_step: weight of the spatial-gradient latent loss",
    )
    obj.add_argument(
        "--temporal-loss-weight",
        type=float,
        default=0.0,
        help="single_step: weight of the temporal-difference latent loss",
    )
    obj.add_argument(
        "--masked-loss",
        action="store_true",
        help="weight latent cells by their fraction of valid ground-truth pixels",
    )
    lora = p.add_argument_group("LoRA")
    lora.add_argument("--lora-rank", type=int, default=32)
    lora.add_argument("--lora-alpha", type=float, default=32.0)
    lora.add_argument(
        "--lora-targets",
        default="to_q,to_k,to_v,to_out.0,ffn.net.0.proj,ffn.net.2",
        help="comma-separated module-name suffixes (attention and feed-forward of every block)",
    )
    opt = p.add_argument_group("optimisation")
    opt.add_argument("--lr", type=float, default=1e-5, help="AdamW learning rate")
    opt.add_argument("--weight-decay", type=float, default=1e-2)
    opt.add_argument(
        "--lr-schedule", default="constant", choices=("constant", "constant_with_warmup", "cosine", "linear")
    )
    opt.add_argument("--warmup-steps", type=int, default=0)
    opt.add_argument("--max-grad-norm", type=float, default=1.0, help="gradient clipping (0: off)")
    opt.add_argument(
        "--batch-size",
        type=int,
        default=8,
        help="clips per optimizer step over all GPUs (accumulates gradients as needed)",
    )
    opt.add_argument("--micro-batch-size", type=int, default=1, help="clips per GPU per forward pass")
    opt.add_argument("--max-steps", type=int, default=70_000, help="optimizer steps")
    opt.add_argument(
        "--mixed-precision",
        choices=("auto", "bf16", "no"),
        default="auto",
        help="auto: bf16 on GPU, fp32 on CPU",
    )
    opt.add_argument("--no-gradient-checkpointing", action="store_true")
    opt.add_argument("--ema-decay", type=float, default=0.0, help="EMA of the trained weights (0: off)")
    opt.add_argument("--seed", type=int, default=0)
    run = p.add_argument_group("logging, validation, checkpoints")
    run.add_argument("--log-every", type=int, default=10)
    run.add_argument("--val-every", type=int, default=1000)
    run.add_argument("--val-clips", type=int, default=4)
    run.add_argument("--val-frames", type=int, default=5, help="F of validation clips (4N+1)")
    run.add_argument("--val-steps", type=int, default=5, help="Euler steps of validation sampling")
    run.add_argument("--checkpoint-every", type=int, default=1000)
    run.add_argument("--keep-checkpoints", type=int, default=3)
    run.add_argument(
        "--resume",
        nargs="?",
        const="auto",
        default=None,
        help="resume: the newest checkpoint under --out (no value) or a checkpoint directory",
    )
    run.add_argument("--prompt-cache", default=None, help="prompt embedding cache (default OUT/prompt_cache)")
    run.add_argument("--report-to", default=None, help="also log to an accelerate tracker: tensorboard, wandb")
    p.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    from transphy3d.dkt.data import ClipSettings
    from transphy3d.dkt.mixture import FrameSettings, load_mixture_file, parse_data_arg
    from transphy3d.dkt.model import LoraSettings
    from transphy3d.dkt.objective import ObjectiveSettings
    from transphy3d.dkt.train import TrainSettings, train

    width, height = parse_resolution(args.resolution)
    data = [parse_data_arg(d) for d in args.data]
    if args.mixture:
        data += load_mixture_file(args.mixture)
    frames = (
        FrameSettings.fixed(args.frames, args.frame_stride)
        if args.frames is not None
        else FrameSettings(args.frames_n[0], args.frames_n[1], args.frame_stride)
    )
    settings = TrainSettings(
        base=args.base,
        out=args.out,
        data=data,
        val_data=[parse_data_arg(d) for d in args.val_data],
        clip=ClipSettings(width, height, args.task, tuple(args.disparity_percentiles), not args.no_random_crop),
        frames=frames,
        val_frames=args.val_frames,
        objective=ObjectiveSettings(
            args.objective,
            args.shift,
            args.single_step_timestep,
            args.spatial_loss_weight,
            args.temporal_loss_weight,
            args.masked_loss,
        ),
        lora=LoraSettings(
            args.lora_rank,
            args.lora_alpha,
            tuple(t.strip() for t in args.lora_targets.split(",") if t.strip()),
        ),
        learning_rate=args.lr,
        weight_decay=args.weight_decay,
        lr_schedule=args.lr_schedule,
        warmup_steps=args.warmup_steps,
        max_grad_norm=args.max_grad_norm,
        batch_size=args.batch_size,
        micro_batch_size=args.micro_batch_size,
        max_steps=args.max_steps,
        mixed_precision=args.mixed_precision,
        gradient_checkpointing=not args.no_gradient_checkpointing,
        ema_decay=args.ema_decay,
        log_every=args.log_every,
        val_every=args.val_every,
        val_clips=args.val_clips,
        val_steps=args.val_steps,
        checkpoint_every=args.checkpoint_every,
        keep_checkpoints=args.keep_checkpoints,
        resume=args.resume,
        seed=args.seed,
        num_workers=args.num_workers,
        prompt_cache=args.prompt_cache,
        report_to=args.report_to,
    )
    result = train(settings)
    if result.main_process:
        print(f"trained to step {result.step}; checkpoint {result.checkpoint}; {result.skipped} clips skipped")
    return 0


def _register_infer(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "infer-dkt",
        help="depth (or normals) of a video of any length with a DKT checkpoint",
        description="Predict depth (affine-invariant disparity in [0, 1], 1 = near) or normals for a video file, "
        "a folder of frames or a scene directory, with overlapping windows. Writes OUT/disparity.npy "
        "(T, H, W), OUT/disparity/<frame>.exr (channel 'disparity') and OUT/disparity.mp4 "
        "(colour-mapped); for a normal checkpoint normal.npy, normal/*.exr (X, Y, Z) and normal.mp4.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("input", metavar="VIDEO_OR_FRAMES", help="video file, folder of PNG/JPEG frames, or scene dir")
    p.add_argument("--lora", required=True, metavar="CKPT", help="DKT checkpoint directory written by train-dkt")
    p.add_argument("--base", required=True, help="local Wan 2.1 diffusers directory the checkpoint was trained on")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--formats", default="exr,npy,mp4", help="comma-separated subset of exr, npy, mp4")
    p.add_argument("--fps", type=float, default=None, help="MP4 frame rate (default: the input's, else 15)")
    _add_inference_options(p)
    p.set_defaults(func=run_infer)


def _formats(text: str) -> tuple[str, ...]:
    formats = tuple(f.strip() for f in text.split(",") if f.strip())
    bad = [f for f in formats if f not in ("exr", "npy", "mp4")]
    if bad or not formats:
        raise UserError(f"{text!r}; allowed: a comma-separated subset of exr, npy, mp4", field="--formats")
    return formats


def run_infer(args: argparse.Namespace) -> int:
    import time

    from transphy3d.dkt.infer import load_for_inference, pick_device, pick_dtype, predict_video, write_outputs
    from transphy3d.dkt.model import DKTConfig
    from transphy3d.dkt.videoio import read_frames

    formats = _formats(args.formats)
    config = DKTConfig.load(Path(args.lora))
    settings = _inference_settings(args, config.shift)
    frames, fps, names = read_frames(args.input)
    device = pick_device(args.device)
    model_fn, codec, config = load_for_inference(
        args.base, args.lora, device, pick_dtype(args.dtype, device), args.prompt_cache
    )
    started = time.perf_counter()
    prediction = predict_video(frames, model_fn, codec, settings, config)
    seconds = time.perf_counter() - started
    written = write_outputs(args.out, prediction, names, args.fps or fps, config.task, formats)
    print(
        f"{len(frames)} frames in {seconds:.1f} s ({1000 * seconds / len(frames):.0f} ms/frame); wrote "
        + ", ".join(str(p) for p in written)
    )
    return 0


def _register_eval(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "eval-dkt",
        help="AbsRel, RMSE, delta and temporal metrics of DKT predictions on held-out videos",
        description="Evaluate on held-out scenes (render output or published tars): one least-squares scale and "
        "shift per video in disparity space, then AbsRel, RMSE and delta < 1.05 / 1.10 / 1.25 on valid "
        "pixels, per region, and a flow-warped temporal error. Writes OUT/metrics.json and "
        "OUT/metrics.md and prints the table. Predictions come from --pred, or are made with "
        "--lora/--base and saved under OUT/predictions/.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("data", nargs="+", metavar="SCENES", help="render output dir, scene dir or published tar(s)")
    p.add_argument("--out", required=True, help="where metrics.json and metrics.md go")
    p.add_argument("--pred", default=None, help="predictions folder: PRED/<video>/disparity.npy (from infer-dkt)")
    p.add_argument("--lora", default=None, metavar="CKPT", help="predict with this checkpoint instead of --pred")
    p.add_argument("--base", default=None, help="Wan 2.1 base directory (with --lora)")
    p.add_argument(
        "--task",
        choices=("depth", "normal"),
        default=None,
        help="what is evaluated (default: the checkpoint's task, else depth)",
    )
    p.add_argument(
        "--regions",
        default="all,transparent,reflective",
        help="comma-separated: all, transparent, reflective or material classes (glass, metal, ...)",
    )
    p.add_argument("--max-frames", type=int, default=None, help="evaluate only the first N frames of each video")
    p.add_argument(
        "--flow",
        choices=("auto", "rendered", "geometry", "none"),
        default="auto",
        help="flow for the temporal metric: auto = rendered when present, else from geometry",
    )
    _add_inference_options(p)
    p.set_defaults(func=run_eval)


def run_eval(args: argparse.Namespace) -> int:
    from transphy3d.dkt.evaluate import evaluate, ground_truth, load_prediction, write_results
    from transphy3d.dkt.metrics import format_table

    if (args.pred is None) == (args.lora is None):
        raise UserError("give exactly one of --pred DIR or --lora CKPT (with --base)", field="--pred/--lora")
    regions = [r.strip() for r in args.regions.split(",") if r.strip()]
    out = Path(args.out)
    if args.pred is not None:
        task = args.task or "depth"
        pred_dir = Path(args.pred)
        if not pred_dir.is_dir():
            raise UserError("predictions folder not found", path=str(pred_dir), field="--pred")

        def predictor(video):
            return load_prediction(pred_dir, video, task)
    else:
        if args.base is None:
            raise UserError("--lora needs --base (the Wan 2.1 directory)", field="--base")
        from transphy3d.dkt.infer import (
            load_for_inference,
            pick_device,
            pick_dtype,
            predict_video,
            write_outputs,
        )

        device = pick_device(args.device)
        model_fn, codec, config = load_for_inference(
            args.base, args.lora, device, pick_dtype(args.dtype, device), args.prompt_cache
        )
        task = args.task or config.task
        settings = _inference_settings(args, config.shift)

        def predictor(video):
            prediction = predict_video(video.rgb, model_fn, codec, settings, config)
            names = [f"{i:06d}" for i in range(len(prediction))]
            write_outputs(out / "predictions" / video.name, prediction, names, video.fps, task, ("npy",))
            return prediction

    if args.max_frames is not None and args.max_frames < 1:
        raise UserError(f"{args.max_frames}: must be >= 1", field="--max-frames")
    results = evaluate(ground_truth(args.data, regions, args.max_frames, args.flow, task), predictor, task)
    results["settings"] = {
        "data": list(args.data),
        "regions": regions,
        "task": task,
        "flow": args.flow,
        "pred": args.pred,
        "lora": args.lora,
        "max_frames": args.max_frames,
    }
    json_path, table_path = write_results(out, results)
    print(format_table(results["summary"]))
    print(f"wrote {json_path} and {table_path}")
    return 0
