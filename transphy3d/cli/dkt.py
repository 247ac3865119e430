"""``transphy3d train-dkt``, ``infer-dkt`` and ``eval-dkt`` (heavy imports inside the handlers)."""

from __future__ import annotations

import argparse
from pathlib import Path

from transphy3d.cli.options import add_model_options, model_values
from transphy3d.datasets.spec import KINDS
from transphy3d.dkt.settings import DeviceSettings, EvalSettings, InferenceSettings, TrainSettings
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


def _numerics(args: argparse.Namespace) -> str:
    """--numerics (needed before the model loads: official merges the LoRA into bf16 weights)."""
    return model_values(args, args.inference_dests).get("numerics", InferenceSettings().numerics)


def _load_model(base, lora, where: DeviceSettings, task: str | None, numerics: str):
    """(model_fn, codec, config): the base with the LoRA on the chosen device and dtype."""
    from transphy3d.dkt.infer import load_for_inference, pick_device, pick_dtype

    device = pick_device(where.device)
    dtype = pick_dtype(where.dtype, device)
    return load_for_inference(base, lora, device, dtype, where.prompt_cache, task, numerics=numerics)


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
        help="YAML file, or a shipped mixture by name (dkt_paper: the paper's co-training recipe): sources: [{kind, "
        "path, weight, <adapter options>}] and optionally data_root (added to --data)",
    )
    groups["data"].add_argument(
        "--data-root",
        default=None,
        help="the folder the mixture's relative paths are under (overrides the file's data_root)",
    )
    p.set_defaults(func=run_train, model_dests=dests)


def run_train(args: argparse.Namespace) -> int:
    from transphy3d.dkt.sources import load_mixture_file
    from transphy3d.dkt.train import train
    from transphy3d.resources import shipped_mixture

    values = model_values(args, args.model_dests)
    if args.mixture:
        mixture = shipped_mixture(args.mixture) or Path(args.mixture)
        values["data"] = [*values.get("data", []), *load_mixture_file(mixture, args.data_root)]
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
    p.add_argument(
        "input",
        metavar="INPUT",
        help="video file, folder of PNG/JPEG frames, scene dir, or a dataset KIND:PATH (KIND: "
        + ", ".join(KINDS)
        + "): then every sequence goes to OUT/<sequence name>/, as eval-dkt --pred reads",
    )
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

    from transphy3d.datasets.spec import split_spec
    from transphy3d.dkt.infer import predict_frames, write_outputs
    from transphy3d.dkt.released import checkpoint_config

    formats = _formats(args.formats)
    out = check_output_dir(args.out)
    config = checkpoint_config(args.lora, args.task)
    settings, where = _inference_settings(args, config.shift), _device_settings(args)
    kind, _ = split_spec(args.input)
    if kind is None:
        from transphy3d.dkt.videoio import read_frames

        frames, fps, names = read_frames(args.input)
        inputs = [(out, frames, fps, names, False)]
    else:  # a dataset: every sequence to OUT/<sequence name>/, the layout eval-dkt --pred reads
        inputs = _dataset_inputs(args.input, out)
    model_fn, codec, config = _load_model(args.base, args.lora, where, args.task, settings.numerics)
    for target, frames, fps, names, independent in inputs:
        started = time.perf_counter()
        prediction = predict_frames(frames, model_fn, codec, settings, config, independent)
        seconds = time.perf_counter() - started
        written = write_outputs(target, prediction, names, args.fps or fps, config.task, formats)
        print(
            f"{len(frames)} frames in {seconds:.1f} s ({1000 * seconds / len(frames):.0f} ms/frame); wrote "
            + ", ".join(str(p) for p in written)
        )
    return 0


def _dataset_inputs(spec: str, out: Path):
    """(output folder, frames, fps, frame ids, independent) of every sequence of a dataset, lazily."""
    import numpy as np

    from transphy3d.datasets import open_dataset

    for sequence in open_dataset(spec).sequences():
        frames = list(sequence.frames())
        rgb = np.stack([f.rgb for f in frames])
        yield out / sequence.name, rgb, 15.0, [f.id for f in frames], not sequence.is_video


def configure_eval(p: argparse.ArgumentParser) -> None:
    """Options of ``transphy3d eval-dkt`` (generated from ``EvalSettings``)."""
    p.description = (
        "Evaluate depth (or normal) predictions on held-out data read as published (render output, published "
        "TransPhy3D tars, ClearPose, DREDS, HISS, ClearGrasp; KIND:PATH or a path whose kind is detected) by the "
        "official DKT protocol: one least-squares scale and shift per video in disparity space (per frame for "
        "datasets of independent frames), then AbsRel, RMSE and delta < 1.05 / 1.10 / 1.25 over the valid pixels, "
        "per subset and region, and a flow-warped temporal error where the data has camera poses. Writes "
        "OUT/metrics.json and OUT/metrics.md (the paper's table layout) and prints the table. Predictions come "
        "from --pred, or are made with --lora/--base and saved under OUT/predictions/."
    )
    p.formatter_class = argparse.ArgumentDefaultsHelpFormatter
    p.add_argument(
        "data", nargs="+", metavar="DATA", help="[KIND:]PATH of each dataset (KIND: " + ", ".join(KINDS) + ")"
    )
    _add_inference_options(p, func=run_eval, eval_dests=add_model_options(p, EvalSettings, {}))


def _predictor(args: argparse.Namespace, settings: EvalSettings, out: Path):
    """(predict(video) -> prediction, task, inference settings or None) of --pred or --lora."""
    from transphy3d.dkt.evaluate import RAW_SENSOR, load_prediction, raw_sensor_prediction

    if (settings.pred is None) == (settings.lora is None):
        raise UserError("give exactly one of --pred DIR or --lora CKPT (with --base)", field="--pred/--lora")
    if settings.pred == RAW_SENSOR:
        task = settings.task or "depth"
        if task != "depth":
            raise UserError(f"--pred {RAW_SENSOR} gives depth; use --task depth", field="--task")
        return raw_sensor_prediction, task, None
    if settings.pred is not None:
        task = settings.task or "depth"
        pred_dir = Path(settings.pred)
        if not pred_dir.is_dir():
            raise UserError("predictions folder not found", path=str(pred_dir), field="--pred")
        return (lambda video: load_prediction(pred_dir, video, task)), task, None
    if settings.base is None:
        raise UserError("--lora needs --base (the Wan 2.1 directory)", field="--base")
    from transphy3d.dkt.infer import predict_frames, write_outputs

    where = _device_settings(args)
    model_fn, codec, config = _load_model(settings.base, settings.lora, where, settings.task, _numerics(args))
    task = settings.task or config.task
    inference = _inference_settings(args, config.shift)

    def predictor(video):
        prediction = predict_frames(video.rgb, model_fn, codec, inference, config, independent=video.independent)
        names = video.frame_ids or [f"{i:06d}" for i in range(len(prediction))]
        write_outputs(out / "predictions" / video.name, prediction, names, video.fps, task, ("npy",))
        return prediction

    return predictor, task, inference


def _benchmarks(data: list[str], subsets: list[str | None]) -> list[tuple[str, str, str | None]]:
    """(row name, dataset, subset) of each table row: ClearPose data once per subset, other data
    whole. One dataset keeps its rows' short names (the subset, else its folder); several get the
    dataset's folder (and its parent for train/val/test splits) before the subset."""
    from transphy3d.datasets import detect_kind
    from transphy3d.datasets.spec import split_spec

    rows = []
    for spec in data:
        kind, path = split_spec(spec)
        clearpose = (kind or detect_kind(path)) == "clearpose"
        folder = Path(path)
        label = f"{folder.parent.name}/{folder.name}" if folder.name in ("train", "val", "test") else folder.name
        for subset in subsets if clearpose else [None]:
            short = subset or folder.name
            rows.append((short if len(data) == 1 else " ".join(filter(None, (label, subset))), spec, subset))
    if subsets != [None] and all(subset is None for _, _, subset in rows):
        raise UserError("applies to ClearPose data only; none of the datasets is ClearPose", field="--subset")
    return rows


def run_eval(args: argparse.Namespace) -> int:
    from transphy3d.datasets.clearpose import TEST_SUBSETS, check_subset
    from transphy3d.dkt.evaluate import default_depth_range, evaluate, ground_truth, parse_depth_range, write_results
    from transphy3d.dkt.metrics import paper_table

    settings = EvalSettings(**model_values(args, args.eval_dests))
    regions = [r.strip() for r in settings.regions.split(",") if r.strip()] if settings.regions else None
    subsets: list[str | None] = [None]
    if settings.subset:
        subsets = [s.strip() for s in settings.subset.split(",") if s.strip()]
        subsets = list(TEST_SUBSETS) if subsets == ["test"] else subsets
        for subset in subsets:
            check_subset(subset)
    out = check_output_dir(settings.out)
    predictor, task, inference = _predictor(args, settings, out)
    cache = Path(settings.index_cache) if settings.index_cache else Path.home() / ".cache" / "transphy3d" / "index"
    results: dict = {"subsets": {}}
    benchmarks = _benchmarks(args.data, subsets)
    for name, data, subset in benchmarks:
        depth_range = parse_depth_range(settings.depth_range) if settings.depth_range else default_depth_range(data)
        videos = ground_truth([data], regions, settings.max_frames, settings.flow, task, subset, cache)
        results["subsets"][name] = evaluate(
            videos, predictor, task, protocol=settings.protocol, depth_range=depth_range
        )
        results["subsets"][name]["data"] = data
    if len(results["subsets"]) == 1:  # one benchmark: its figures at the top level too
        results.update({k: v for k, v in next(iter(results["subsets"].values())).items() if k != "data"})
    results["settings"] = {"data": list(args.data), **settings.model_dump(mode="json"), "task": task}
    if inference is not None:  # live predictions: how they were sampled
        results["settings"]["inference"] = inference.model_dump(mode="json")
    json_path, table_path = write_results(out, results)
    print(paper_table({k: v["summary"] for k, v in results["subsets"].items()}))
    print(f"wrote {json_path} and {table_path}")
    return 0
