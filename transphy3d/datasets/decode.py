"""Decoders shared by the adapters: images, EXR channels, bounded text, invalid depth to 0,
normals to OpenCV's camera frame, intrinsics from a field of view."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from transphy3d.datasets.frames import CorruptData
from transphy3d.output.exr import read_exr

MAX_TEXT_BYTES = 16 * 2**20  # a metadata text, JSON or YAML file of a dataset
MAX_MAT_BYTES = 256 * 2**20  # a ClearPose metadata.mat (poses of a whole scene)
MAX_PIXELS = 8192 * 8192  # Pillow's own bomb limit is lower than a stranger's file may claim


def read_rgb(path: Path) -> np.ndarray:
    """uint8 (H, W, 3) of a PNG or JPEG."""
    with Image.open(path) as image:
        if image.width * image.height > MAX_PIXELS:
            raise CorruptData(path, f"{image.width}x{image.height} pixels; at most {MAX_PIXELS}")
        return np.asarray(image.convert("RGB"))


def read_image(path: Path) -> np.ndarray:
    """The image's own values (a 16-bit PNG stays uint16, a label PNG its ids)."""
    with Image.open(path) as image:
        if image.width * image.height > MAX_PIXELS:
            raise CorruptData(path, f"{image.width}x{image.height} pixels; at most {MAX_PIXELS}")
        return np.asarray(image)


def resize_rgb(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``rgb`` area-averaged to (H, W): the exact mean of each k x k block, rounded, when the sizes
    differ by whole factors (DREDS: 2), else Pillow's box filter; unchanged when already that size."""
    if rgb.shape[:2] == tuple(size):
        return rgb
    (h, w), (out_h, out_w) = rgb.shape[:2], size
    if h % out_h == 0 and w % out_w == 0:
        blocks = rgb.reshape(out_h, h // out_h, out_w, w // out_w, rgb.shape[2]).astype(np.float64)
        return np.rint(blocks.mean(axis=(1, 3))).astype(np.uint8)
    return np.asarray(Image.fromarray(rgb).resize((size[1], size[0]), Image.Resampling.BOX))


def exr_channel(path: Path, names: Sequence[str] = ("R", "Y", "Z")) -> np.ndarray:
    """float32 (H, W) of the first of ``names`` the EXR has, else its only channel (half floats
    widened)."""
    channels = read_exr(path)
    name = next((n for n in names if n in channels), None)
    if name is None and len(channels) == 1:
        name = next(iter(channels))
    if name is None:
        raise CorruptData(path, f"no channel among {list(names)}; the file has {sorted(channels)}")
    return np.asarray(channels[name], dtype=np.float32)


def exr_vectors(path: Path, names: Sequence[str] = ("R", "G", "B")) -> np.ndarray:
    """float32 (H, W, 3) of three named EXR channels."""
    channels = read_exr(path)
    missing = [n for n in names if n not in channels]
    if missing:
        raise CorruptData(path, f"no channels {missing}; the file has {sorted(channels)}")
    return np.stack([np.asarray(channels[n], dtype=np.float32) for n in names], axis=-1)


def valid_depth(depth: np.ndarray, max_depth: float = math.inf) -> np.ndarray:
    """float32 metres with 0 wherever the value is not finite, <= 0 or above ``max_depth``."""
    depth = np.asarray(depth, dtype=np.float32)
    ok = np.isfinite(depth) & (depth > 0) & (depth <= max_depth)
    return np.where(ok, depth, np.float32(0.0))


def unit_normals(normal: np.ndarray, flip: tuple[float, float, float]) -> np.ndarray:
    """Normals times ``flip`` per axis (to OpenCV: x right, y down, z forward), unit length, 0 where
    the vector is 0 or not finite."""
    normal = np.nan_to_num(np.asarray(normal, dtype=np.float32) * np.asarray(flip, dtype=np.float32))
    norm = np.linalg.norm(normal, axis=-1, keepdims=True)
    return np.where(norm > 1e-6, normal / np.maximum(norm, 1e-6), np.float32(0.0)).astype(np.float32)


def read_text(path: Path, limit: int = MAX_TEXT_BYTES) -> str:
    """A small text file, refused above ``limit`` bytes."""
    size = path.stat().st_size
    if size > limit:
        raise CorruptData(path, f"{size} bytes; a metadata file of at most {limit} is expected")
    return path.read_text(encoding="utf-8", errors="replace")


def intrinsics_from_fov(width: int, height: int, fov_x: float, fov_y: float | None = None) -> np.ndarray:
    """Pixel intrinsics of a centred pinhole with horizontal (and vertical; else square pixels)
    field of view in radians; the principal point at the image centre, (W - 1) / 2."""
    fx = width / 2.0 / math.tan(fov_x / 2.0)
    fy = fx if fov_y is None else height / 2.0 / math.tan(fov_y / 2.0)
    return centred_intrinsics(width, height, fx, fy)


def centred_intrinsics(width: int, height: int, fx: float, fy: float) -> np.ndarray:
    """K with focal lengths ``fx``, ``fy`` and the principal point at W / 2 - 0.5, H / 2 - 0.5."""
    return np.array([[fx, 0.0, width / 2.0 - 0.5], [0.0, fy, height / 2.0 - 0.5], [0.0, 0.0, 1.0]])


def scaled_intrinsics(K: np.ndarray, from_size: tuple[int, int], to_size: tuple[int, int]) -> np.ndarray:
    """``K`` of an image of (H, W) ``from_size`` for the same view at ``to_size`` (pixel centres kept)."""
    sy, sx = to_size[0] / from_size[0], to_size[1] / from_size[1]
    K = np.asarray(K, dtype=np.float64)
    return np.array(
        [
            [K[0, 0] * sx, K[0, 1] * sx, (K[0, 2] + 0.5) * sx - 0.5],
            [0.0, K[1, 1] * sy, (K[1, 2] + 0.5) * sy - 0.5],
            [0.0, 0.0, 1.0],
        ]
    )
