"""``eval-dkt``: metrics of predictions on held-out data, written as JSON and a Markdown table.

Ground truth comes from any dataset ``transphy3d.datasets`` reads: a sequence is a video (render
scenes, published sequences, ClearPose scenes), or a group of independent frames (DREDS, HISS,
ClearGrasp), each frame of which is evaluated on its own (its own alignment). Predictions are read
from ``--pred DIR`` (``DIR/<sequence name>/disparity.npy`` or ``normal.npy``, the sequence's frames
in order, as ``infer-dkt`` writes them) or made on the fly from ``--lora CKPT --base PATH`` (and
then saved under ``<out>/predictions/<sequence name>/``). Regions: ``all`` valid pixels,
``transparent`` (render output: objects whose material carries that flag in objects.json, without
flags classes glass and plastic; other datasets: their transparent label), ``reflective`` and
material classes (render output only). Temporal figures use the rendered flow when the scene has
it, else flow computed from depth, camera and object poses (``flow.py``); published tars get
camera-only geometric flow; datasets without camera poses get none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from transphy3d.datasets.render import region_ids
from transphy3d.dkt import metrics
from transphy3d.errors import UserError
from transphy3d.geometry.flow import forward_flow, object_motions


@dataclass
class EvalVideo:
    """Ground truth of one held-out video."""

    name: str
    rgb: np.ndarray  # (T, H, W, 3) uint8
    depth: np.ndarray  # (T, H, W) metres, 0 = none
    normal: np.ndarray | None  # (T, H, W, 3)
    valid: np.ndarray  # (T, H, W)
    fps: float
    regions: dict[str, np.ndarray] = field(default_factory=dict)
    flows: list[np.ndarray | None] | None = None
    raw_depth: np.ndarray | None = None  # (T, H, W) the simulated depth camera's metres, 0 = no return
    frame_ids: list[str] = field(default_factory=list)
    independent: bool = False  # frames are separate images: each is evaluated (aligned) on its own


RAW_SENSOR = "raw-sensor"  # --pred value: evaluate the scenes' own simulated depth camera


def raw_sensor_prediction(video: EvalVideo) -> np.ndarray:
    """The raw sensor depth of ``video`` as the disparity the protocol expects (1 / depth; 0 where
    the sensor returned nothing, so holes never count as predictions)."""
    if video.raw_depth is None:
        raise UserError(f"video {video.name} has no raw_depth/ (render it with sensor.enabled: true)", field="--pred")
    raw = video.raw_depth.astype(np.float64)
    return np.where(raw > 0, 1.0 / np.where(raw > 0, raw, 1.0), 0.0)


def scene_video(scene, regions: Sequence[str], max_frames: int | None, flow_mode: str, task: str) -> EvalVideo:
    """An ``EvalVideo`` of a rendered scene (``transphy3d.output.reader.Scene``)."""
    count = scene.num_frames if max_frames is None else min(max_frames, scene.num_frames)
    depth = np.stack([scene.depth(i) for i in range(count)]).astype(np.float32)
    valid = np.isfinite(depth) & (depth > 0)
    masks = np.stack([scene.mask(i) for i in range(count)])
    normal = np.stack([scene.normal(i) for i in range(count)]) if task == "normal" else None
    video = EvalVideo(
        scene.path.name,
        np.stack([scene.rgb(i) for i in range(count)]),
        np.where(valid, depth, 0.0),
        normal,
        valid,
        scene.fps,
    )
    if scene.has_sensor:
        video.raw_depth = np.stack([scene.raw_depth(i) for i in range(count)]).astype(np.float32)
    for region in regions:
        if region != "all":
            video.regions[region] = np.isin(masks, region_ids(scene.objects, region))
    if flow_mode != "none" and count > 1:
        video.flows = []
        for i in range(count - 1):
            flow = scene.flow(i) if flow_mode in ("auto", "rendered") else None
            if flow is None and flow_mode in ("auto", "geometry"):
                flow = forward_flow(
                    depth[i],
                    masks[i],
                    scene.K,
                    scene.world_to_camera[i],
                    scene.world_to_camera[i + 1],
                    object_motions({o.instance_id: o.object_to_world for o in scene.objects}, i),
                )
            video.flows.append(flow)
    return video


def dataset_regions(dataset, regions: Sequence[str] | None) -> list[str]:
    """The regions to evaluate on ``dataset``: those asked for (each must exist there), or by
    default every region the dataset can give (render: all, transparent, reflective; a dataset
    with a transparent label: all, transparent; else all)."""
    from transphy3d.datasets.render import RenderDataset

    if isinstance(dataset, RenderDataset):
        return list(regions) if regions else ["all", "transparent", "reflective"]
    sequences = dataset.sequences()
    labelled = bool(sequences) and len(sequences[0]) > 0 and sequences[0].frame(0).has("transparent")
    available = ["all", "transparent"] if labelled else ["all"]
    if regions is None:
        return available
    missing = [r for r in regions if r not in available]
    if missing:
        raise UserError(
            f"{dataset.kind} data has no {', '.join(missing)} region; allowed here: {', '.join(available)}",
            path=str(dataset.root),
            field="--regions",
        )
    return list(regions)


def sequence_video(sequence, regions: Sequence[str], max_frames: int | None, flow_mode: str, task: str) -> EvalVideo:
    """An ``EvalVideo`` of any dataset sequence (not a render scene: ``scene_video`` reads those)."""
    count = len(sequence) if max_frames is None else min(max_frames, len(sequence))
    frames = [sequence.frame(i) for i in range(count)]
    depth = np.stack([f.depth for f in frames]).astype(np.float32)
    valid = depth > 0
    normal = None
    if task == "normal":
        if any(f.normal is None for f in frames):
            raise UserError("this dataset has no normals; use --task depth", path=sequence.name, field="--task")
        normal = np.stack([f.normal for f in frames])
    raw = [f.raw_depth for f in frames]
    video = EvalVideo(
        sequence.name,
        np.stack([f.rgb for f in frames]),
        depth,
        normal,
        valid,
        15.0,
        raw_depth=None if any(r is None for r in raw) else np.stack(raw).astype(np.float32),
        frame_ids=[f.id for f in frames],
        independent=not sequence.is_video,
    )
    if "transparent" in regions:
        video.regions["transparent"] = np.stack([f.transparent for f in frames])
    poses = [f.camera_from_world for f in frames]
    if sequence.is_video and flow_mode in ("auto", "geometry") and count > 1 and all(p is not None for p in poses):
        video.flows = [forward_flow(depth[i], None, frames[i].K, poses[i], poses[i + 1]) for i in range(count - 1)]
    return video


def ground_truth(
    paths: Sequence[str | Path],
    regions: Sequence[str] | None,
    max_frames: int | None,
    flow_mode: str,
    task: str,
    subset: str | None = None,
    cache_dir: Path | None = None,
) -> Iterator[EvalVideo]:
    """Every held-out sequence of the datasets ``paths`` (``[KIND:]PATH``; ``subset`` for ClearPose)."""
    from transphy3d.datasets import open_dataset
    from transphy3d.datasets.render import RenderSequence

    for path in paths:
        dataset = open_dataset(path, cache_dir=cache_dir, **({"subset": subset} if subset else {}))
        chosen = dataset_regions(dataset, regions)
        for sequence in dataset.sequences():
            if isinstance(sequence, RenderSequence):
                yield scene_video(sequence.scene, chosen, max_frames, flow_mode, task)
            else:
                yield sequence_video(sequence, chosen, max_frames, flow_mode, task)


def load_prediction(pred_dir: Path, video: EvalVideo, task: str) -> np.ndarray:
    """The saved prediction of ``video``, checked against its frames and size."""
    name = "disparity.npy" if task == "depth" else "normal.npy"
    path = pred_dir / video.name / name
    if not path.is_file():
        raise UserError(
            f"no prediction for video {video.name} (expected {name}; write it with infer-dkt)",
            path=str(path),
            field="--pred",
        )
    try:
        pred = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise UserError(f"unreadable prediction ({error})", path=str(path), field="--pred") from None
    count, h, w = video.depth.shape
    if pred.shape[0] < count or pred.shape[1:3] != (h, w):
        raise UserError(
            f"shape {pred.shape}; the ground truth has {count} frames of {w}x{h}",
            path=str(path),
            field="--pred",
        )
    return pred[:count]


def in_range(depth: np.ndarray, valid: np.ndarray, depth_range: tuple[float, float] | None) -> np.ndarray:
    """``valid`` restricted to ground-truth depths within ``depth_range`` (metres, inclusive)."""
    if depth_range is None:
        return valid
    lo, hi = depth_range
    return valid & (depth >= lo) & (depth <= hi)


def parse_depth_range(text: str | None) -> tuple[float, float] | None:
    """``clearpose`` (0.3 to 1.5 m), ``MIN,MAX`` in metres, or None (also for ``none``)."""
    if text is None or text.strip().lower() == "none":
        return None
    if text.strip().lower() == "clearpose":
        return metrics.CLEARPOSE_RANGE
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise UserError(
            f"{text!r}; allowed: clearpose or MIN,MAX in metres (e.g. 0.3,1.5)", field="--depth-range"
        ) from None
    if not 0 <= lo < hi:
        raise UserError(f"{text!r}: need 0 <= MIN < MAX", field="--depth-range")
    return lo, hi


def evaluate(
    videos: Iterator[EvalVideo],
    predict: Callable[[EvalVideo], np.ndarray],
    task: str,
    log: Callable[[str], None] = print,
    protocol: metrics.Protocol = "official",
    depth_range: tuple[float, float] | None = None,
) -> dict:
    """Per-video metrics, their means and the protocol that made them (see ``metrics``)."""
    per_video = {}
    for whole in videos:
        pred_all = predict(whole)
        for video, pred in split_frames(whole, pred_all) if whole.independent else [(whole, pred_all)]:
            result = evaluate_one(video, pred, task, protocol, depth_range)
            if result is None:
                log(f"{video.name}: no valid ground-truth pixel, skipped")
                continue
            per_video[video.name] = result
            row = result.get("all") or {}
            log(f"{video.name}: " + ", ".join(f"{k}={v:.4f}" for k, v in row.items()))
    if not per_video:
        raise UserError("no video to evaluate")
    summary = metrics.mean_over_videos(list(per_video.values()))
    record = metrics.protocol_record(protocol, depth_range) if task == "depth" else {"name": "angular error"}
    return {"protocol": record, "summary": summary, "videos": per_video}


def split_frames(video: EvalVideo, pred: np.ndarray) -> Iterator[tuple[EvalVideo, np.ndarray]]:
    """Each frame of a group of independent frames as a one-frame video named ``<group>/<frame id>``."""
    for i, frame_id in enumerate(video.frame_ids):
        one = EvalVideo(
            f"{video.name}/{frame_id}",
            video.rgb[i : i + 1],
            video.depth[i : i + 1],
            None if video.normal is None else video.normal[i : i + 1],
            video.valid[i : i + 1],
            video.fps,
            {k: v[i : i + 1] for k, v in video.regions.items()},
            raw_depth=None if video.raw_depth is None else video.raw_depth[i : i + 1],
            frame_ids=[frame_id],
        )
        yield one, pred[i : i + 1]


def evaluate_one(
    video: EvalVideo,
    pred: np.ndarray,
    task: str,
    protocol: metrics.Protocol,
    depth_range: tuple[float, float] | None,
) -> dict | None:
    """The metrics of one video (None when it has no valid ground-truth pixel)."""
    if task == "depth":
        valid = in_range(video.depth, video.valid, depth_range)
        if not valid.any():
            return None
        return metrics.evaluate_depth_video(pred, video.depth, valid, video.regions, video.flows, protocol)
    valid = video.valid & (np.abs(video.normal).sum(-1) > 0)
    result = {"all": metrics.normal_errors(pred, video.normal, valid)}
    result.update({k: metrics.normal_errors(pred, video.normal, valid & m) for k, m in video.regions.items()})
    return result


def default_depth_range(data: str) -> tuple[float, float] | None:
    """The benchmark's own depth range for ``[KIND:]PATH``: ClearPose's [0.3, 1.5] m, else none."""
    from transphy3d.datasets import detect_kind
    from transphy3d.datasets.spec import split_spec

    kind, path = split_spec(data)
    return metrics.CLEARPOSE_RANGE if (kind or detect_kind(path)) == "clearpose" else None


def write_results(out_dir: str | Path, results: dict) -> tuple[Path, Path]:
    """``metrics.json`` and ``metrics.md`` (the paper's table, then each subset's full figures)
    under ``out_dir``; ``results["subsets"]`` maps a subset (or dataset) name to ``evaluate``'s
    result."""
    from transphy3d.files import write_json

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "metrics.json", results)
    subsets = results["subsets"]
    parts = [metrics.paper_table({name: r["summary"] for name, r in subsets.items()})]
    parts.append(
        "REL = AbsRel and RMSE (metres) as fractions; δ in %; TE = temporal error in disparity (1/m), "
        "'-' where the data has no flow."
    )
    for name, result in subsets.items():
        protocol = result["protocol"]
        parts.append(f"## {name}\n\nprotocol: {protocol}\n\n" + metrics.format_table(result["summary"]))
    note = "abs_rel, delta_* and within_* in %; rmse in metres; opw in disparity units (1/m)."
    (out / "metrics.md").write_text("\n\n".join(parts) + "\n\n" + note + "\n", encoding="utf-8")
    return out / "metrics.json", out / "metrics.md"
