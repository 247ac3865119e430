"""One frame of the simulated sensor, from the two rendered IR images to the contract's files:
8-bit IR pair, stereo matching, depth registered to the RGB camera, ``raw_depth/`` (and
``ir_left/``, ``ir_right/`` with ``keep_ir``); figures against the exact depth for meta.json."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from transphy3d.geometry.camera import invert_rigid
from transphy3d.output.channels import DEPTH, IR_LEFT, IR_RIGHT, MASK, RAW_DEPTH, Made, Switches, channel, channels_of
from transphy3d.output.exr import read_exr
from transphy3d.rng import stream
from transphy3d.scene.camera_path import spec_intrinsics
from transphy3d.scene.spec import SceneSpec
from transphy3d.sensor.agreement import REGIONS, material_regions, raw_depth_figures
from transphy3d.sensor.ir import ir_pair
from transphy3d.sensor.register import register_depth
from transphy3d.sensor.stereo import disparity, disparity_to_depth


def read_radiance(path: Path) -> np.ndarray:
    """The single (grey) channel of a Cycles IR render."""
    channels = read_exr(path)
    return next(iter(channels.values())).astype(np.float32)


def raw_depth_of_pair(left: np.ndarray, right: np.ndarray, spec: SceneSpec) -> np.ndarray:
    """The raw depth on the RGB camera's grid from an 8-bit IR pair."""
    sensor = spec.sensor
    depth_ir = disparity_to_depth(disparity(left, right, sensor), sensor)
    left_to_rgb = invert_rigid(sensor.rgb_to_part("left"))
    r = spec.render
    return register_depth(depth_ir, sensor.K(), left_to_rgb, spec_intrinsics(spec), r.width, r.height)


class SensorConverter:
    """Turns one scene's IR renders into ``raw_depth/`` (and the IR PNGs), frame by frame."""

    def __init__(self, spec: SceneSpec, out_dir: Path):
        if spec.sensor is None:
            raise ValueError("the scene has no sensor")
        self.spec = spec
        self.out_dir = Path(out_dir)
        self.transparent_ids = [o.instance_id for o in spec.objects if o.material.transparent]
        self.channels = channels_of(Switches.from_spec(spec), Made.SENSOR)
        for row in self.channels:
            (self.out_dir / row.folder).mkdir(parents=True, exist_ok=True)
        self.figures: list[dict[str, dict[str, float]]] = []

    def convert(self, frame: int, left_exr: Path, right_exr: Path) -> np.ndarray:
        """Writes frame ``frame``'s files (its depth/ and mask/ must exist); returns the raw depth."""
        sensor = self.spec.sensor
        rng = stream(self.spec.seed, "sensor_noise", frame)
        left, right = ir_pair(read_radiance(left_exr), read_radiance(right_exr), sensor.noise_std, rng)
        raw = raw_depth_of_pair(left, right, self.spec)
        made = {RAW_DEPTH: raw, IR_LEFT: left, IR_RIGHT: right}
        for row in self.channels:
            row.write(row.path(self.out_dir, frame), made[row.name], self.spec.output.exr_compression)
        depth = channel(DEPTH).read(channel(DEPTH).path(self.out_dir, frame))
        mask = channel(MASK).read(channel(MASK).path(self.out_dir, frame))
        depths = (sensor.min_depth_m(), sensor.ideal_max_depth_m, sensor.max_depth_m)
        regions = material_regions(mask, depth, self.transparent_ids, depths)
        self.figures.append(raw_depth_figures(raw, depth, regions))
        return raw

    def summary(self) -> dict[str, dict[str, float]]:
        """Per region, pixel-weighted over the converted frames: pixels, coverage, within_2pct, failed."""
        out = {}
        for name in REGIONS:
            rows = [f[name] for f in self.figures if f[name]["pixels"]]
            pixels = sum(r["pixels"] for r in rows)
            covered = sum(r["coverage"] * r["pixels"] for r in rows)
            good = sum((1 - r["failed"]) * r["pixels"] for r in rows)
            out[name] = {
                "pixels": pixels,
                "coverage": round(covered / pixels, 5) if pixels else 0.0,
                "within_2pct": round(good / covered, 5) if covered else 0.0,
                "failed": round(1 - good / pixels, 5) if pixels else 0.0,
            }
        return out
