"""Stereo matching again on a rendered scene's kept IR images (``sensor.keep_ir``), with other
matcher settings: the raw depth a differently tuned camera would have returned, without
rendering again. With the recorded settings it is the scene's ``raw_depth/`` exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from transphy3d.output import contract
from transphy3d.output.channels import IR_LEFT, IR_RIGHT, channel
from transphy3d.scene.recorded import load_spec
from transphy3d.scene.sensor import SensorSpec
from transphy3d.sensor.convert import raw_depth_of_pair

# What the IR images do not fix: the matcher's settings and the depth it keeps.
MATCHER_FIELDS = (
    "disparities",
    "block_size",
    "uniqueness_ratio",
    "lr_max_diff",
    "speckle_window",
    "speckle_range",
    "max_depth_m",
)


def rematch(scene_dir: str | Path, frame: int, **changes: Any) -> np.ndarray:
    """Raw depth (H, W) on the RGB grid of ``frame`` matched from its kept IR pair with the
    scene's sensor settings changed by ``changes`` (any of ``MATCHER_FIELDS``)."""
    scene_dir = Path(scene_dir)
    unknown = sorted(set(changes) - set(MATCHER_FIELDS))
    if unknown:
        raise ValueError(f"{', '.join(unknown)}: not a matcher setting; allowed: {', '.join(MATCHER_FIELDS)}")
    spec = load_spec(scene_dir / contract.SCENE_SPEC_FILE)
    if spec.sensor is None:
        raise ValueError(f"{scene_dir}: the scene has no simulated depth camera (sensor.enabled)")
    left, right = (channel(name).path(scene_dir, frame) for name in (IR_LEFT, IR_RIGHT))
    if not (left.is_file() and right.is_file()):
        raise ValueError(f"{left.parent.parent}: no IR images of frame {frame}; render with sensor.keep_ir: true")
    sensor = SensorSpec.model_validate({**spec.sensor.model_dump(), **changes})
    return raw_depth_of_pair(
        channel(IR_LEFT).read(left), channel(IR_RIGHT).read(right), spec.model_copy(update={"sensor": sensor})
    )
