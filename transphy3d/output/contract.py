"""The on-disk layout of one rendered scene (see docs/format.md): names, writers, checks.

Everything that knows a file name of the data contract lives here, so the renderer, the reader,
the validator and the tests agree by construction.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from transphy3d.output.exr import read_exr, write_exr
from transphy3d.output.png import read_mask_png, read_rgb_png, write_mask_png

FORMAT_VERSION = 1
CAMERA_CONVENTION = (
    "OpenCV camera frame: x right, y down, z forward (viewing direction). Pixel (u, v) = (column, row); "
    "the centre of the top-left pixel is (0, 0), so the image spans [-0.5, W-0.5] x [-0.5, H-0.5]. "
    "World frame: z up, metres. world_to_camera maps world points to this camera frame."
)

SCENE_SPEC_FILE = "scene.yaml"
CAMERA_FILE = "camera.json"
OBJECTS_FILE = "objects.json"
META_FILE = "meta.json"
MESH_DIR = "meshes"
RGB_DIR = "rgb"
DEPTH_DIR = "depth"
NORMAL_DIR = "normal"
MASK_DIR = "mask"
FLOW_DIR = "flow"
PER_FRAME_DIRS = {RGB_DIR: ".png", DEPTH_DIR: ".exr", NORMAL_DIR: ".exr", MASK_DIR: ".png"}
DEPTH_CHANNEL = "Z"
NORMAL_CHANNELS = ("X", "Y", "Z")
FLOW_CHANNELS = ("X", "Y")


def frame_name(frame: int, suffix: str) -> str:
    """File name of ``frame`` (0-based) with ``suffix``: ``000042.png``."""
    return f"{frame:06d}{suffix}"


def frame_path(scene_dir: str | Path, kind: str, frame: int) -> Path:
    """Path of one per-frame file: ``kind`` is rgb, depth, normal, mask or flow."""
    suffix = ".exr" if kind == FLOW_DIR else PER_FRAME_DIRS[kind]
    return Path(scene_dir) / kind / frame_name(frame, suffix)


def write_json(path: str | Path, data: Any) -> None:
    """Write JSON atomically (temporary file in the same directory, then rename)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, allow_nan=False)
        handle.write("\n")
    os.replace(tmp, path)


def read_json(path: str | Path) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def matrix_list(matrix: np.ndarray) -> list[list[float]]:
    """A 4x4 (or 3x3) matrix as nested lists of Python floats (exact repr in JSON)."""
    return [[float(v) for v in row] for row in np.asarray(matrix, dtype=np.float64)]


def camera_json(
    width: int,
    height: int,
    fps: float,
    K: np.ndarray,
    world_to_camera: Sequence[np.ndarray],
    clip_near: float,
    clip_far: float,
) -> dict[str, Any]:
    """The content of ``camera.json``."""
    return {
        "format_version": FORMAT_VERSION,
        "convention": CAMERA_CONVENTION,
        "width": int(width),
        "height": int(height),
        "fps": float(fps),
        "num_frames": len(world_to_camera),
        "K": matrix_list(K),
        "clip_near": float(clip_near),
        "clip_far": float(clip_far),
        "world_to_camera": [matrix_list(m) for m in world_to_camera],
    }


def write_depth(path: str | Path, depth: np.ndarray, compression: str = "zip") -> None:
    """Planar depth in metres along the camera's +z, float32, 0 where no surface was hit."""
    write_exr(path, {DEPTH_CHANNEL: np.asarray(depth, dtype=np.float32)}, compression)


def read_depth(path: str | Path) -> np.ndarray:
    return read_exr(path)[DEPTH_CHANNEL].astype(np.float32)


def write_normal(path: str | Path, normal: np.ndarray, compression: str = "zip") -> None:
    """Unit normals (H, W, 3) in the camera frame, stored as half floats X, Y, Z; 0 = no surface."""
    normal = np.asarray(normal, dtype=np.float16)
    write_exr(path, {c: normal[..., i] for i, c in enumerate(NORMAL_CHANNELS)}, compression)


def read_normal(path: str | Path) -> np.ndarray:
    channels = read_exr(path)
    return np.stack([channels[c] for c in NORMAL_CHANNELS], axis=-1).astype(np.float32)


def write_flow(path: str | Path, flow: np.ndarray, compression: str = "zip") -> None:
    """Forward optical flow (H, W, 2) in pixels, frame t -> t+1, as half floats (0.03 px steps
    below 64 px); 0 off-surface."""
    flow = np.asarray(flow, dtype=np.float16)
    write_exr(path, {c: flow[..., i] for i, c in enumerate(FLOW_CHANNELS)}, compression)


def read_flow(path: str | Path) -> np.ndarray:
    channels = read_exr(path)
    return np.stack([channels[c] for c in FLOW_CHANNELS], axis=-1).astype(np.float32)


write_mask = write_mask_png
read_mask = read_mask_png
read_rgb = read_rgb_png


def expected_files(num_frames: int, with_flow: bool = False) -> list[str]:
    """Relative paths every complete scene directory holds (meshes excluded)."""
    files = [SCENE_SPEC_FILE, CAMERA_FILE, OBJECTS_FILE, META_FILE]
    for kind, suffix in PER_FRAME_DIRS.items():
        files += [f"{kind}/{frame_name(f, suffix)}" for f in range(num_frames)]
    if with_flow:
        files += [f"{FLOW_DIR}/{frame_name(f, '.exr')}" for f in range(max(num_frames - 1, 0))]
    return files
