"""``transphy3d train-dkt``, ``infer-dkt`` and ``eval-dkt`` (heavy imports inside the handlers)."""

from __future__ import annotations

import argparse
from pathlib import Path

from transphy3d.cli.options import add_model_options, model_values
from transphy3d.dkt.settings import DeviceSettings, InferenceSettings, TrainSettings
from transphy3d.errors import ExitCode, UserError
from transphy3d.files import check_output_dir

LORA_HELP = (
    "a train-dkt checkpoint directory, or a released DKT LoRA (DKT-Depth-1-3B-v1.1, DKT-Depth-14B, "
    "DKT-Normal-14B: its folder or .safetensors file)"
)
BASE_HELP = (
    "local base the LoRA belongs to (released DKT LoRAs: Wan2.1-Fun-1.3B-Control / Fun-14B-Control as published)"
)
TASK_HELP = "depth or normal (default: the checkpoint's; a released LoRA's from its name, e.g. DKT-Normal-14B)"


def _add_inference_options(parser: argparse.ArgumentParser, **defaults) -> None:
    groups: dict = {}
    parser.set_defaults(
        inference_dests=add_model_options(parser, InferenceSettings, groups),
        device_dests=add_model_options(parser, DeviceSettings, groups),
        **defaults,
    )


def _device_settings(args: argparse.Namespace) -> DeviceSettings:
    return DeviceSettings(**model_values(args, args.device_dests))


def _inference_settings(args: argparse.Namespace, checkpoint_shift: float) -> InferenceSettings:
    """The sampler settings: the checkpoint's shift unless --shift."""
    return InferenceSettings(**{"shift": checkpoint_shift, **model_values(args, args.inference_dests)})


def configure_train(p: argparse.ArgumentParser) -> None:
    """Options of ``transphy3d train-dkt``."""
    p.description = (
        "Fine-tune a local Wan 2.1 base (--base: Wan2.1-Fun-Control as published, the official DKT base, or a "
        "T2V diffusers directory) into a video depth (or normal) estimator: the RGB latent conditions the "
        "noisy target latent (Fun-Control: as its control latent; T2V: through a widened patch embedding), "
        "LoRA trained (from --init-lora, e.g. a released DKT LoRA, or fresh), VAE and text encoder frozen. Multi-GPU: `accelerate launch -m "
        "transphy3d train-dkt ...`. Defaults follow the DKT paper (AdamW lr 1e-5, batch 8, 70K steps, "
        "F = 4N+1 with N ~ U(0, 5), F = 1 batches mixing image data)."
    )
    p.formatter_class = argparse.ArgumentDefaultsHelpFormatter
    groups = {"data": p.add_argument_group("data")}
    dests = add_model_options(p, TrainSettings, groups)
    groups["data"].add_argument(
        "--mixture",
        default=None,
        help="YAML file: sources: [{kind, path, weight, rgb_dir, depth_dir, normal_dir, depth_scale}] (added to --data)",
    )
    p.set_defaults(func=run_train, model_dests=dests)


def run_train(args: argparse.Namespace) -> int:
    from transphy3d.dkt.sources import load_mixture_file
    from transphy3d.dkt.train import train

    values = model_values(args, args.model_dests)
    if args.mixture:
        values["data"] = [*values.get("data", []), *load_mixture_file(args.mixture)]
    result = train(TrainSettings(**values))
    if result.main_process:
        print(f"trained to step {result.step}; checkpoint {result.checkpoint}; {result.skipped} clips skipped")
    return ExitCode.OK


def configure_infer(p: argparse.ArgumentParser) -> None:
    """Options of ``transphy3d infer-dkt``."""
    p.description = (
        "Predict depth (affine-invariant disparity in [0, 1], 1 = near) or normals for a video file, "
        "a folder of frames or a scene directory, with overlapping windows. Writes OUT/disparity.npy "
        "(T, H, W), OUT/disparity/<frame>.exr (channel 'disparity') and OUT/disparity.mp4 "
        "(colour-mapped); for a normal checkpoint normal.npy, normal/*.exr (X, Y, Z) and normal.mp4."
    )
    p.formatter_class = argparse.ArgumentDefaultsHelpFormatter
    p.add_argument("input", metavar="VIDEO_OR_FRAMES", help="video file, folder of PNG/JPEG frames, or scene dir")
    p.add_argument("--lora", required=True, metavar="CKPT", help=LORA_HELP)
    p.add_argument("--base", required=True, help=BASE_HELP)
    p.add_argument("--task", choices=("depth", "normal"), default=None, help=TASK_HELP)
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--formats", default="exr,npy,mp4", help="comma-separated subset of exr, npy, mp4")
    p.add_argument("--fps", type=float, default=None, help="MP4 frame rate (default: the input's, else 15)")
    _add_inference_options(p, func=run_infer)


def _formats(text: str) -> tuple[str, ...]:
    formats = tuple(f.strip() for f in text.split(",") if f.strip())
    bad = [f for f in formats if f not in ("exr", "npy", "mp4")]
    if bad or not formats:
        raise UserError(f"{text!r}; allowed: a comma-separated subset of exr, npy, mp4", field="--formats")
    return formats


def run_infer(args: argparse.Namespace) -> int:
    import time

    from transphy3d.dkt.infer import load_for_inference, pick_device, pick_dtype, predict_video, write_outputs
    from transphy3d.dkt.released import checkpoint_config
    from transphy3d.dkt.videoio import read_frames

    formats = _formats(args.formats)
    check_output_dir(args.out)
    config = checkpoint_config(args.lora, args.task)
    settings, where = _inference_settings(args, config.shift), _device_settings(args)
    frames, fps, names = read_frames(args.input)
    device = pick_device(where.device)
    model_fn, codec, config = load_for_inference(
        args.base, args.lora, device, pick_dtype(where.dtype, device), where.prompt_cache, args.task
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


def configure_eval(p: argparse.ArgumentParser) -> None:
    """Options of ``transphy3d eval-dkt``."""
    p.description = (
        "Evaluate on held-out scenes (render output or published tars) by the official DKT protocol: one "
        "least-squares scale and shift per video in disparity space, then AbsRel, RMSE and delta < 1.05 / 1.10 / "
        "1.25 over the video's valid pixels, per region, and a flow-warped temporal error. Writes OUT/metrics.json and "
        "OUT/metrics.md and prints the table. Predictions come from --pred, or are made with "
        "--lora/--base and saved under OUT/predictions/."
    )
    p.formatter_class = argparse.ArgumentDefaultsHelpFormatter
    p.add_argument("data", nargs="+", metavar="SCENES", help="render output dir, scene dir or published tar(s)")
    p.add_argument("--out", required=True, help="where metrics.json and metrics.md go")
    p.add_argument(
        "--pred",
        default=None,
        help="predictions folder: PRED/<video>/disparity.npy (from infer-dkt); raw-sensor: the scenes' simulated "
        "depth camera (raw_depth/), evaluated by the same protocol, holes excluded and counted in coverage",
    )
    p.add_argument("--lora", default=None, metavar="CKPT", help=LORA_HELP + "; predict with it instead of --pred")
    p.add_argument("--base", default=None, help=BASE_HELP + " (with --lora)")
    p.add_argument("--task", choices=("depth", "normal"), default=None, help=TASK_HELP + "; with --pred: depth")
    p.add_argument(
        "--regions",
        default="all,transparent,reflective",
        help="comma-separated: all, transparent, reflective or material classes (glass, metal, ...)",
    )
    p.add_argument("--max-frames", type=int, default=None, help="evaluate only the first N frames of each video")
    p.add_argument(
        "--protocol",
        choices=("official", "legacy"),
        default="official",
        help="official (DKT): valid = pred > 0 and gt > 0, one fit per video, aligned disparity clipped at 1e-3, "
        "pixels pooled per video; legacy: clamp at 1 / (max gt depth), per-frame means",
    )
    p.add_argument(
        "--depth-range",
        default=None,
        metavar="RANGE",
        help="evaluate only ground truth in this depth range: clearpose (0.3 to 1.5 m, ClearPose's mask) or MIN,MAX",
    )
    p.add_argument(
        "--flow",
        choices=("auto", "rendered", "geometry", "none"),
        default="auto",
        help="flow for the temporal metric: auto = rendered when present, else from geometry",
    )
    _add_inference_options(p, func=run_eval)


def run_eval(args: argparse.Namespace) -> int:
    from transphy3d.dkt.evaluate import (
        RAW_SENSOR,
        evaluate,
        ground_truth,
        load_prediction,
        parse_depth_range,
        raw_sensor_prediction,
        write_results,
    )
    from transphy3d.dkt.metrics import format_table

    if (args.pred is None) == (args.lora is None):
        raise UserError("give exactly one of --pred DIR or --lora CKPT (with --base)", field="--pred/--lora")
    regions = [r.strip() for r in args.regions.split(",") if r.strip()]
    depth_range = parse_depth_range(args.depth_range)
    out = check_output_dir(args.out)
    if args.pred == RAW_SENSOR:
        task = args.task or "depth"
        if task != "depth":
            raise UserError(f"--pred {RAW_SENSOR} gives depth; use --task depth", field="--task")
        predictor = raw_sensor_prediction
    elif args.pred is not None:
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

        where = _device_settings(args)
        device = pick_device(where.device)
        model_fn, codec, config = load_for_inference(
            args.base, args.lora, device, pick_dtype(where.dtype, device), where.prompt_cache, args.task
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
    videos = ground_truth(args.data, regions, args.max_frames, args.flow, task)
    results = evaluate(videos, predictor, task, protocol=args.protocol, depth_range=depth_range)
    results["settings"] = {
        "data": list(args.data),
        "regions": regions,
        "task": task,
        "flow": args.flow,
        "pred": args.pred,
        "lora": args.lora,
        "max_frames": args.max_frames,
    }
    if args.pred is None:  # live predictions: how they were sampled
        results["settings"]["inference"] = settings.model_dump(mode="json")
    json_path, table_path = write_results(out, results)
    print(format_table(results["summary"]))
    print(f"wrote {json_path} and {table_path}")
    return 0
