"""How good a scene is as training data, as numbers: how much of each frame the objects (and the
transparent ones) cover, whether each object can be seen, the depth range, and the facts of the
scene a dataset is balanced on (environment, world, materials, families, camera, physics).

The figures are counted from the instance masks while the scene is written (``MaskTally``) and
stored in ``meta.json`` as ``quality``, so ``transphy3d report`` over 11,000 scenes reads only small
files. ``measure_scene`` counts them again from a finished scene directory (older runs, tests).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from transphy3d.output import contract
from transphy3d.output.channels import DEPTH, MASK, channel
from transphy3d.output.contract import DepthRange, ObjectQuality, SceneQuality
from transphy3d.scene.recorded import load_spec
from transphy3d.scene.spec import SceneSpec
from transphy3d.scene.visibility import VISIBLE_SHARE as VISIBLE_SHARE  # the report reads it here
from transphy3d.scene.visibility import visible

DEPTH_SAMPLES_PER_FRAME = 2048  # object-pixel depths kept per frame for the percentiles
PERCENTILES = (0, 5, 50, 95, 100)


class MaskTally:
    """Per-frame pixel counts of every instance id, and a sample of object-pixel depths, fed one
    frame at a time while a scene is written."""

    def __init__(self, instance_ids: Iterable[int]):
        self.instance_ids = sorted(int(i) for i in instance_ids)
        self.counts: dict[int, np.ndarray] = {}
        self.image_pixels = 0
        self._depths: dict[int, np.ndarray] = {}
        self.liquid: dict[int, int] = {}  # liquid pixels per frame (only when the data pass told them apart)

    def add(
        self, frame: int, mask: np.ndarray, depth: np.ndarray | None = None, liquid: np.ndarray | None = None
    ) -> None:
        """Count ``mask`` (uint16 instance ids) of ``frame``; ``depth`` gives the depth sample,
        ``liquid`` (bool) the pixels whose first surface is a liquid's."""
        mask = np.asarray(mask)
        self.image_pixels = mask.size
        if liquid is not None:
            self.liquid[frame] = int(np.count_nonzero(liquid))
        size = max(self.instance_ids, default=0) + 1
        counts = np.bincount(mask.ravel(), minlength=size)[:size]
        self.counts[frame] = counts
        if depth is not None:
            values = np.asarray(depth)[(mask > 0) & (np.asarray(depth) > 0)]
            step = max(1, math.ceil(values.size / DEPTH_SAMPLES_PER_FRAME))
            self._depths[frame] = values[::step].astype(np.float64)

    def depth_range(self) -> DepthRange | None:
        values = np.concatenate(list(self._depths.values())) if self._depths else np.zeros(0)
        if values.size == 0:
            return None
        p = np.percentile(values, PERCENTILES)
        return DepthRange(**{k: round(float(v), 4) for k, v in zip(DepthRange.model_fields, p, strict=True)})


def tilt_deg(object_to_world: np.ndarray) -> float:
    """Degrees between the z axis of a pose and world up: about 0 standing, 180 on its top."""
    return round(math.degrees(math.acos(float(np.clip(object_to_world[2, 2], -1.0, 1.0)))), 2)


def _liquid_share(spec: SceneSpec, tally: MaskTally, frames: list[int], pixels: int) -> list[float] | None:
    """Per frame, the share of pixels whose first surface is a liquid: zeros without liquid; None
    when the data pass did not tell (a scene with liquid counted again from its files)."""
    if not any(o.filled for o in spec.objects):
        return [0.0] * len(frames)
    if len(tally.liquid) != len(frames):
        return None
    return [round(tally.liquid[f] / pixels, 5) for f in frames]


def scene_quality(spec: SceneSpec, tally: MaskTally) -> SceneQuality:
    """The quality figures of ``spec`` (a settled SceneSpec) from its masks' ``tally``."""
    frames = sorted(tally.counts)
    n = max(tally.image_pixels, 1)
    transparent = [o.instance_id for o in spec.objects if o.material.transparent]
    ids = [o.instance_id for o in spec.objects]
    object_share, transparent_share, without = [], [], 0
    seen = dict.fromkeys(ids, 0)
    share_sum = dict.fromkeys(ids, 0.0)
    for frame in frames:
        counts = tally.counts[frame]
        pixels = {i: int(counts[i]) if i < len(counts) else 0 for i in ids}
        object_share.append(round(sum(pixels.values()) / n, 5))
        transparent_share.append(round(sum(pixels[i] for i in transparent) / n, 5))
        shown = [i for i in ids if visible(pixels[i], n)]
        without += not shown
        for i in ids:
            seen[i] += i in shown
            share_sum[i] += pixels[i] / n
    path = spec.camera_path
    final = {i: poses[-1] for i, poses in spec.object_poses().items()} if spec.is_settled else {}
    return SceneQuality(
        frames=len(frames),
        object_share=object_share,
        transparent_share=transparent_share,
        frames_without_visible_object=without,
        visible_pairs=sum(seen.values()),
        pairs=len(ids) * len(frames),
        object_depth=tally.depth_range(),
        environment=spec.environment.type,
        world=spec.world.label,
        elevation_deg=round(spec.camera.elevation_deg, 3),
        distance_m=round(path.distance * path.distance_scale, 4) if path else 0.0,
        focal_length_mm=round(spec.camera.focal_length_mm, 3),
        camera_kept=spec.camera_check.camera if spec.camera_check else None,
        camera_check_passed=spec.camera_check.passed if spec.camera_check else None,
        physics_attempts=len(spec.placement),
        dropped_objects=len(spec.dropped),
        liquid_share=_liquid_share(spec, tally, frames, n),
        objects=[
            ObjectQuality(
                instance_id=o.instance_id,
                kind=getattr(o.source, "family", "static"),
                asset_id=getattr(o.source, "asset_id", None),
                material_class=o.material.class_name,
                preset=o.material.preset,
                transparent=o.material.transparent,
                reflective=o.material.reflective,
                rest_pose=o.rest_pose,
                tilt_deg=tilt_deg(final[o.instance_id]) if o.instance_id in final else None,
                visible_frames=seen[o.instance_id],
                mean_share=round(share_sum[o.instance_id] / max(len(frames), 1), 5),
                liquid=o.liquid.type if o.filled else None,
            )
            for o in spec.objects
        ],
    )


def measure_scene(scene_dir: str | Path) -> SceneQuality:
    """The quality figures of a finished scene directory, counted from its files (its masks,
    depth maps and scene.yaml): what the writer stores in meta.json, for scenes written before
    (but ``liquid_share``, which only the data pass tells, is None for a scene with liquid)."""
    scene_dir = Path(scene_dir)
    spec = load_spec(scene_dir / contract.SCENE_SPEC_FILE)
    tally = MaskTally(o.instance_id for o in spec.objects)
    masks, depths = channel(MASK), channel(DEPTH)
    for path in sorted((scene_dir / masks.folder).glob(f"*{masks.suffix}")):
        frame = int(path.stem)
        tally.add(frame, masks.read(path), depths.read(depths.path(scene_dir, frame)))
    return scene_quality(spec, tally)
