"""The report's figures: plain numbers aggregated over the scenes of a run, written to
``report.json``. Shares are of image pixels; "pairs" are (object, frame) pairs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

from transphy3d.output.channels import CHANNELS, present_in
from transphy3d.output.quality import VISIBLE_SHARE
from transphy3d.report.collect import RunFigures

# What the default config should reach (docs/benchmarks.md, "Data quality"), shown next to the measured figures.
TARGETS = {
    "object_share.median": (">=", 0.15),
    "transparent_share.mean": (">=", 0.06),
    "visibility.frames_without_visible_object": ("==", 0),
    "visibility.visible_pairs": (">=", 0.95),
}


def stats(values: Iterable[float]) -> dict[str, float] | None:
    """mean, min, p10, median, p90 and max of ``values`` (None if empty)."""
    array = np.asarray(list(values), dtype=np.float64)
    if array.size == 0:
        return None
    p = np.percentile(array, [0, 10, 50, 90, 100])
    keys = ("min", "p10", "median", "p90", "max")
    return {"mean": round(float(array.mean()), 5), **{k: round(float(v), 5) for k, v in zip(keys, p, strict=True)}}


def _counts(values: Iterable[Any]) -> dict[str, int]:
    return dict(Counter(str(v) for v in values).most_common())


def _posture(tilt_deg: float) -> str:
    """How an object lies at rest, from the tilt of its z axis: standing within 15 degrees of
    upright, on its top within 15 degrees of upside down, otherwise on its side."""
    return "standing" if tilt_deg <= 15 else "on its top" if tilt_deg >= 165 else "on its side"


def sensor_figures(run: RunFigures) -> dict[str, Any] | None:
    """The simulated depth camera over the run, per region (``opaque``, ``transparent``): pixels,
    coverage and failed (shares of the region's pixels), within_2pct (share of the returns);
    None when no scene has a sensor."""
    with_sensor = [s.meta.sensor for s in run.scenes if s.meta.sensor]
    if not with_sensor:
        return None
    out: dict[str, Any] = {"scenes": len(with_sensor)}
    for region in sorted({r for figures in with_sensor for r in figures}):
        rows = [figures[region] for figures in with_sensor if region in figures]
        pixels = sum(r["pixels"] for r in rows)
        returns = sum(r["coverage"] * r["pixels"] for r in rows)
        out[region] = {
            "pixels": int(pixels),
            "coverage": round(returns / pixels, 5) if pixels else None,
            "within_2pct": round(sum(r["within_2pct"] * r["coverage"] * r["pixels"] for r in rows) / returns, 5)
            if returns
            else None,
            "failed": round(sum(r["failed"] * r["pixels"] for r in rows) / pixels, 5) if pixels else None,
        }
    return out


def liquid_figures(scenes: list) -> dict[str, Any]:
    """Liquids over the run: scenes with a filled container (count and share), filled containers
    and their types, and the per-frame share of pixels whose first surface is a liquid (over the
    frames of scenes whose meta.json counted it)."""
    filled = [[o.liquid for o in q.objects if o.liquid] for q in scenes]
    with_liquid = sum(bool(f) for f in filled)
    return {
        "scenes": with_liquid,
        "scene_share": round(with_liquid / len(scenes), 5) if scenes else None,
        "containers": sum(len(f) for f in filled),
        "types": _counts(t for f in filled for t in f),
        "pixel_share": stats(share for q in scenes for share in q.liquid_share or []),
    }


def channel_counts(run: RunFigures) -> dict[str, int]:
    """Per channel (in table order), how many of the run's scenes hold it."""
    held = [{c.name for c in present_in(s.path)} for s in run.scenes]
    return {c.name: n for c in CHANNELS if (n := sum(c.name in h for h in held))}


def render_cost(run: RunFigures) -> list[dict[str, Any]]:
    """What the run cost: per device and ``render.quality`` preset (``custom`` for a scene that set
    its own render keys), the scenes and their render seconds per frame."""
    groups: dict[tuple[str, str], list[float]] = {}
    for scene in run.scenes:
        key = (scene.meta.device.type, scene.meta.render_quality or "custom")
        groups.setdefault(key, []).append(scene.meta.seconds_per_frame)
    return [
        {"device": device, "quality": quality, "scenes": len(values), "seconds_per_frame": stats(values)}
        for (device, quality), values in sorted(groups.items())
    ]


def summarize(run: RunFigures) -> dict[str, Any]:
    """Every figure of the report as a JSON-ready dict."""
    scenes = [s.quality for s in run.scenes]
    objects = [o for q in scenes for o in q.objects]
    per_frame = [share for q in scenes for share in q.object_share]
    transparent = [share for q in scenes for share in q.transparent_share]
    pairs = sum(q.pairs for q in scenes)
    measured_frames = sum(q.frames for q in scenes)
    no_object = sum(q.frames_without_visible_object for q in scenes)
    seconds = [s.meta.seconds_per_frame for s in run.scenes]
    figures: dict[str, Any] = {
        "run": str(run.root),
        "scenes": len(run.scenes),
        "frames": measured_frames,
        "objects": len(objects),
        "counted_from_files": run.counted_from_files,
        "unreadable": run.unreadable,
        "object_share": stats(per_frame),
        "transparent_share": stats(transparent),
        "visibility": {
            "visible_share_threshold": VISIBLE_SHARE,
            "visible_pairs": round(sum(q.visible_pairs for q in scenes) / pairs, 5) if pairs else None,
            "frames_without_visible_object": no_object,
            "frames_without_visible_object_share": round(no_object / measured_frames, 5) if measured_frames else None,
            "per_object_visible_frames": stats(
                o.visible_frames / q.frames for q in scenes for o in q.objects if q.frames
            ),
            "scenes_below_95": sum(1 for q in scenes if q.pairs and q.visible_fraction < 0.95),
        },
        "materials": {
            "classes": _counts(o.material_class for o in objects),
            "presets": _counts(f"{o.material_class}/{o.preset}" for o in objects),
            "transparent_objects": round(sum(o.transparent for o in objects) / len(objects), 5) if objects else None,
            "reflective_objects": round(sum(o.reflective for o in objects) / len(objects), 5) if objects else None,
        },
        "kinds": _counts(o.kind for o in objects),
        "static_assets": {
            "objects": sum(o.kind == "static" for o in objects),
            "distinct": len({o.asset_id for o in objects if o.asset_id}),
        },
        "liquids": liquid_figures(scenes),
        "rest_poses": _counts(o.rest_pose for o in objects if o.rest_pose),
        "at_rest": _counts(_posture(o.tilt_deg) for o in objects if o.tilt_deg is not None),
        "environments": _counts(q.environment for q in scenes),
        "worlds": _counts(q.world for q in scenes),
        "objects_per_scene": stats(len(q.objects) for q in scenes),
        "object_depth_median_m": stats(q.object_depth.p50 for q in scenes if q.object_depth),
        "object_depth_range_m": [
            min((q.object_depth.min for q in scenes if q.object_depth), default=None),
            max((q.object_depth.max for q in scenes if q.object_depth), default=None),
        ],
        "camera": {
            "elevation_deg": stats(q.elevation_deg for q in scenes),
            "distance_m": stats(q.distance_m for q in scenes),
            "focal_length_mm": stats(q.focal_length_mm for q in scenes),
            "kept": {  # by the visibility check: the sampled camera or an alternative
                "sampled": sum(q.camera_kept == 0 for q in scenes),
                "alternative": sum((q.camera_kept or 0) > 0 for q in scenes),
            },
            "visibility_check_failed": sum(q.camera_check_passed is False for q in scenes),
        },
        "physics": {
            "attempts": _counts(q.physics_attempts for q in scenes),
            "dropped_objects": sum(q.dropped_objects for q in scenes),
        },
        "seconds_per_frame": stats(seconds),
        "render_cost": render_cost(run),
        "devices": _counts(s.meta.device.type for s in run.scenes),
        "resolutions": _counts(f"{s.meta.resolution[0]}x{s.meta.resolution[1]}" for s in run.scenes),
        "failures": {"scenes": len(run.failures), "by_status": _counts(str(f.status) for f in run.failures)},
    }
    figures["channels"] = channel_counts(run)
    sensor = sensor_figures(run)
    if sensor is not None:
        figures["sensor"] = sensor
    figures["targets"] = check_targets(figures)
    return figures


def lookup(figures: dict[str, Any], dotted: str) -> Any:
    """``figures["a"]["b"]`` for ``"a.b"`` (None when a part is missing)."""
    value: Any = figures
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def check_targets(figures: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each default-config target with the measured value and whether it is met."""
    out = {}
    for key, (op, target) in TARGETS.items():
        value = lookup(figures, key)
        met = None if value is None else (value >= target if op == ">=" else value == target)
        out[key] = {"value": value, "target": f"{op} {target}", "met": met}
    return out
