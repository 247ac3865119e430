"""What a preview renders: which frames of the camera path, at which size and quality. Pure
functions on the SceneSpec; the scene itself (objects, poses, camera path) is never changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from transphy3d.scene.quality import QUALITY_PRESETS

if TYPE_CHECKING:  # the CLI imports this module at start-up: keep it light
    from transphy3d.scene.spec import SceneSpec

MIN_WIDTH = 16


@dataclass(frozen=True)
class PreviewSettings:
    """Preview quality: ``frames`` spread over the whole camera path, ``width`` pixels wide (the
    config's aspect ratio; never wider than the config), ``samples`` per pixel (the ``draft``
    quality preset otherwise)."""

    frames: int = 6
    width: int = 256
    samples: int = QUALITY_PRESETS["draft"]["samples"]


def preview_frames(num_frames: int, count: int) -> list[int]:
    """``count`` frame indices spread evenly over 0..num_frames-1, first and last included."""
    if num_frames < 1 or count < 1:
        raise ValueError(f"need at least one frame, got num_frames={num_frames}, count={count}")
    if count >= num_frames:
        return list(range(num_frames))
    if count == 1:
        return [0]
    return sorted({round(i * (num_frames - 1) / (count - 1)) for i in range(count)})


def preview_resolution(width: int, height: int, max_width: int) -> tuple[int, int]:
    """(width, height) scaled down to at most ``max_width`` wide, keeping the aspect ratio."""
    if width <= max_width:
        return width, height
    w = max(MIN_WIDTH, int(max_width))
    return w, max(8, round(height * w / width))


def preview_spec(spec: SceneSpec, settings: PreviewSettings) -> SceneSpec:
    """The spec rendered by the preview: same scene, preview size, the ``draft`` quality preset
    with the preview's samples, the ``.blend`` kept, no optical flow."""
    r = spec.render
    width, height = preview_resolution(r.width, r.height, settings.width)
    quality = {**QUALITY_PRESETS["draft"], "quality": "draft", "samples": settings.samples}
    render = r.model_copy(update={"width": width, "height": height, **quality})
    output = spec.output.model_copy(update={"keep_blend": True, "flow": False})
    return spec.model_copy(update={"render": render, "output": output})
