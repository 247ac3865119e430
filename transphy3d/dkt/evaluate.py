"""``eval-dkt``: metrics of predictions on held-out videos, written as JSON and a Markdown table.

Ground truth comes from render output (scene directories: depth, normals, instance masks,
objects.json materials, rendered flow when present) or published TransPhy3D tars. Predictions are
read from ``--pred DIR`` (``DIR/<video>/disparity.npy`` or ``normal.npy`` as ``infer-dkt``
writes them) or made on the fly from ``--lora CKPT --base PATH`` (and then saved under
``<out>/predictions/<video>/``). Regions: ``all`` valid pixels, ``transparent`` / ``reflective``
(objects whose material carries that flag in objects.json; without flags, classes glass and
plastic are transparent, metal and ceramic reflective), or any material class name (``glass``).
Temporal figures use the rendered flow when the scene has it, else flow computed from depth,
camera and object poses (``flow.py``); published tars get camera-only geometric flow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from transphy3d.dkt import metrics
from transphy3d.errors import UserError
from transphy3d.geometry.flow import forward_flow, object_motions

FALLBACK_CLASSES = {"transparent": {"glass", "plastic"}, "reflective": {"metal", "ceramic"}}


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


RAW_SENSOR = "raw-sensor"  # --pred value: evaluate the scenes' own simulated depth camera


def raw_sensor_prediction(video: EvalVideo) -> np.ndarray:
    """The raw sensor depth of ``video`` as the disparity the protocol expects (1 / depth; 0 where
    the sensor returned nothing, so holes never count as predictions)."""
    if video.raw_depth is None:
        raise UserError(f"video {video.name} has no raw_depth/ (render it with sensor.enabled: true)", field="--pred")
    raw = video.raw_depth.astype(np.float64)
    return np.where(raw > 0, 1.0 / np.where(raw > 0, raw, 1.0), 0.0)


def region_ids(objects, region: str) -> list[int]:
    """Instance ids of ``objects`` in ``region`` (a material flag or a material class)."""
    ids = []
    for obj in objects:
        material = obj.material or {}
        if region in FALLBACK_CLASSES:
            flag = material.get(region)
            inside = bool(flag) if flag is not None else obj.material_class in FALLBACK_CLASSES[region]
        else:
            inside = obj.material_class == region
        if inside:
            ids.append(obj.instance_id)
    return ids


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


def published_videos(path: str | Path, max_frames: int | None, flow_mode: str, task: str) -> Iterator[EvalVideo]:
    """``EvalVideo``s of published tars (no masks: only the ``all`` region)."""
    from transphy3d.dkt.published import index_tars, tar_paths

    sequences, _ = index_tars(tar_paths(path))
    for sequence in sequences:
        count = len(sequence) if max_frames is None else min(max_frames, len(sequence))
        frames = [sequence.read(i, with_normal=task == "normal") for i in range(count)]
        depth = np.stack([f.depth for f in frames])
        valid = np.isfinite(depth) & (depth > 0)
        video = EvalVideo(
            sequence.sequence_id,
            np.stack([f.rgb for f in frames]),
            depth,
            np.stack([f.normal for f in frames]) if task == "normal" else None,
            valid,
            15.0,
        )
        if flow_mode in ("auto", "geometry") and count > 1:
            video.flows = [
                forward_flow(depth[i], None, frames[i].K, frames[i].camera_from_world, frames[i + 1].camera_from_world)
                for i in range(count - 1)
            ]
        yield video


def ground_truth(
    paths: Sequence[str | Path], regions: Sequence[str], max_frames: int | None, flow_mode: str, task: str
) -> Iterator[EvalVideo]:
    """Every held-out video under ``paths`` (render output, scene dirs or published tars)."""
    from transphy3d.dkt.sources import detect_kind
    from transphy3d.output.reader import iter_scenes

    for path in paths:
        kind = detect_kind(Path(path))
        if kind == "render":
            for scene in iter_scenes(path):
                yield scene_video(scene, regions, max_frames, flow_mode, task)
        elif kind == "published":
            if any(r != "all" for r in regions):
                raise UserError(
                    "published tars carry no instance masks; use --regions all",
                    path=str(path),
                    field="--regions",
                )
            yield from published_videos(path, max_frames, flow_mode, task)
        else:
            raise UserError(
                "eval-dkt needs videos: render output or published tars, not an image folder", path=str(path)
            )


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
    """``clearpose`` (0.3 to 1.5 m), ``MIN,MAX`` in metres, or None."""
    if text is None:
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
    for video in videos:
        pred = predict(video)
        if task == "depth":
            valid = in_range(video.depth, video.valid, depth_range)
            if not valid.any():
                log(f"{video.name}: no valid ground-truth pixel, skipped")
                continue
            result = metrics.evaluate_depth_video(pred, video.depth, valid, video.regions, video.flows, protocol)
        else:
            valid = video.valid & (np.abs(video.normal).sum(-1) > 0)
            result = {"all": metrics.normal_errors(pred, video.normal, valid)}
            result.update({k: metrics.normal_errors(pred, video.normal, valid & m) for k, m in video.regions.items()})
        per_video[video.name] = result
        row = result.get("all") or {}
        log(f"{video.name}: " + ", ".join(f"{k}={v:.4f}" for k, v in row.items()))
    if not per_video:
        raise UserError("no video to evaluate")
    summary = metrics.mean_over_videos(list(per_video.values()))
    record = metrics.protocol_record(protocol, depth_range) if task == "depth" else {"name": "angular error"}
    return {"protocol": record, "summary": summary, "videos": per_video}


def write_results(out_dir: str | Path, results: dict) -> tuple[Path, Path]:
    """``metrics.json`` and ``metrics.md`` under ``out_dir``."""
    from transphy3d.files import write_json

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "metrics.json", results)
    table = metrics.format_table(results["summary"])
    note = "\n\nabs_rel, delta_* and within_* in %; rmse in metres; opw in disparity units (1/m).\n"
    (out / "metrics.md").write_text(table + note, encoding="utf-8")
    return out / "metrics.json", out / "metrics.md"
