"""The per-frame files of a scene (docs/format.md): how each array is encoded.

- depth: float32 EXR channel ``Z``, planar metres along the camera's +z, 0 = no surface;
- normal: half-float EXR channels ``X, Y, Z``, unit normals in the camera frame, 0 = no surface;
- flow: half-float EXR channels ``X, Y``, forward flow in pixels (frame t -> t+1);
- mask: 16-bit greyscale PNG of instance ids, 0 = environment;
- rgb: 8-bit sRGB PNG (written by Blender);
- raw_depth: the simulated depth camera's depth on the RGB grid, encoded as depth (0 = no return);
- ir_left, ir_right: 8-bit greyscale PNGs of the depth camera's IR imagers;
- colour triples (nocs, albedo): half-float EXR channels ``R, G, B``.

Which folder holds which encoding is the channel table's (``transphy3d.output.channels``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from transphy3d.errors import UnreadableFileError
from transphy3d.output.exr import read_exr, write_exr
from transphy3d.output.png import (
    read_grey_png,
    read_mask_png,
    read_rgb_png,
    write_grey_png,
    write_mask_png,
    write_rgb_png,
)

DEPTH_CHANNEL = "Z"
NORMAL_CHANNELS = ("X", "Y", "Z")
FLOW_CHANNELS = ("X", "Y")
COLOUR_CHANNELS = ("R", "G", "B")


def _channels(path: str | Path, names: tuple[str, ...]) -> list[np.ndarray]:
    """Channels ``names`` of EXR ``path``; a file lacking one is an error naming the file."""
    channels = read_exr(path)
    missing = [name for name in names if name not in channels]
    if missing:
        raise UnreadableFileError(f"EXR lacks channel(s) {missing}; it has {sorted(channels)}", path=str(path))
    return [channels[name] for name in names]


def write_depth(path: str | Path, depth: np.ndarray, compression: str = "zip") -> None:
    """Planar depth in metres along the camera's +z, float32, 0 where no surface was hit."""
    write_exr(path, {DEPTH_CHANNEL: np.asarray(depth, dtype=np.float32)}, compression)


def read_depth(path: str | Path) -> np.ndarray:
    return _channels(path, (DEPTH_CHANNEL,))[0].astype(np.float32)


def _write_half(path: str | Path, array: np.ndarray, names: tuple[str, ...], compression: str) -> None:
    """(H, W, k) values as k half-float EXR channels ``names``."""
    array = np.asarray(array, dtype=np.float16)
    write_exr(path, {c: array[..., i] for i, c in enumerate(names)}, compression)


def _read_stacked(path: str | Path, names: tuple[str, ...]) -> np.ndarray:
    """EXR channels ``names`` as one (H, W, k) float32 array."""
    return np.stack(_channels(path, names), axis=-1).astype(np.float32)


def write_normal(path: str | Path, normal: np.ndarray, compression: str = "zip") -> None:
    """Unit normals (H, W, 3) in the camera frame, stored as half floats X, Y, Z; 0 = no surface."""
    _write_half(path, normal, NORMAL_CHANNELS, compression)


def read_normal(path: str | Path) -> np.ndarray:
    return _read_stacked(path, NORMAL_CHANNELS)


def write_flow(path: str | Path, flow: np.ndarray, compression: str = "zip") -> None:
    """Forward optical flow (H, W, 2) in pixels, frame t -> t+1, as half floats (0.03 px steps
    below 64 px); 0 off-surface."""
    _write_half(path, flow, FLOW_CHANNELS, compression)


def read_flow(path: str | Path) -> np.ndarray:
    return _read_stacked(path, FLOW_CHANNELS)


def write_colour(path: str | Path, colour: np.ndarray, compression: str = "zip") -> None:
    """An (H, W, 3) triple per pixel (NOCS coordinates, linear albedo) as half floats R, G, B."""
    _write_half(path, colour, COLOUR_CHANNELS, compression)


def read_colour(path: str | Path) -> np.ndarray:
    return _read_stacked(path, COLOUR_CHANNELS)


def write_rgb(path: str | Path, rgb: np.ndarray, compression: str = "zip") -> None:
    """An (H, W, 3) uint8 sRGB PNG (the renderer's own are written by Blender)."""
    write_rgb_png(path, rgb)


def write_mask(path: str | Path, mask: np.ndarray, compression: str = "zip") -> None:
    write_mask_png(path, mask)


def write_ir(path: str | Path, grey: np.ndarray, compression: str = "zip") -> None:
    write_grey_png(path, grey)


write_raw_depth = write_depth
read_raw_depth = read_depth
read_ir = read_grey_png
read_mask = read_mask_png
read_rgb = read_rgb_png
