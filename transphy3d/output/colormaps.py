"""The project's colour maps, for the preview, the report and the trainer's videos: depth (a
viridis-like map on inverse depth, invertible), scalars, normals, instance ids, colour triples,
and ``show_channel``, which draws any channel as its row of the channel table says. All functions
take and return numpy arrays; no surface is black.

Depth is coloured on an inverse-depth (disparity) scale, as depth estimators are usually shown:
near surfaces get most of the colours, the far floor and walls few. Near is yellow, far purple.
"""

from __future__ import annotations

import colorsys
from collections.abc import Iterable

import numpy as np

from transphy3d.output.channels import Show

# matplotlib's viridis at 10 evenly spaced points; the map interpolates linearly between them.
_VIRIDIS_ANCHORS = ("440154", "482878", "3e4989", "31688e", "26828e", "1f9e89", "35b779", "6ece58", "b5de2b", "fde725")
LEVELS = 256


def _depth_lut() -> np.ndarray:
    anchors = np.array([[int(h[i : i + 2], 16) for i in (0, 2, 4)] for h in _VIRIDIS_ANCHORS], dtype=np.float64)
    t = np.linspace(0.0, 1.0, LEVELS)
    at = np.linspace(0.0, 1.0, len(anchors))
    lut = np.stack([np.interp(t, at, anchors[:, c]) for c in range(3)], axis=-1).round().astype(np.int64)
    # Rounding can give two neighbouring levels the same colour: nudge blue by one so that every
    # level has its own colour and the map decodes exactly.
    for level in range(1, LEVELS):
        if (lut[level] == lut[level - 1]).all():
            lut[level, 2] += -1 if lut[level, 2] > 0 else 1
    assert len({tuple(c) for c in lut}) == LEVELS
    return lut.astype(np.uint8)


DEPTH_LUT = _depth_lut()  # (256, 3) uint8: level 0 (far, purple) to 255 (near, yellow)
NO_SURFACE = np.zeros(3, dtype=np.uint8)
ENVIRONMENT_COLOR = (64, 64, 64)


def depth_range(
    depths: Iterable[np.ndarray], low_percent: float = 1.0, high_percent: float = 99.0
) -> tuple[float, float]:
    """The depth range (metres) a colour map spans: percentiles of the valid (> 0) depths of all
    ``depths`` together, so every frame uses the same colours. (1, 2) if nothing was hit."""
    valid = [np.asarray(d, dtype=np.float64)[np.asarray(d) > 0] for d in depths]
    values = np.concatenate(valid) if valid else np.zeros(0)
    if values.size == 0:
        return 1.0, 2.0
    lo, hi = (float(v) for v in np.percentile(values, [low_percent, high_percent]))
    return lo, max(hi, lo * 1.001)


def depth_to_unit(depth: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Position on the colour map: 0 at ``hi`` (far) to 1 at ``lo`` (near), linear in 1/depth;
    depths outside [lo, hi] are clipped."""
    d = np.clip(np.asarray(depth, dtype=np.float64), lo, hi)
    return (1.0 / d - 1.0 / hi) / (1.0 / lo - 1.0 / hi)


def unit_to_depth(t: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Inverse of ``depth_to_unit``."""
    return 1.0 / (1.0 / hi + np.asarray(t, dtype=np.float64) * (1.0 / lo - 1.0 / hi))


def depth_levels(depth: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Depth quantised to colour-map levels 0 (far) .. 255 (near)."""
    return np.rint(depth_to_unit(np.maximum(depth, lo), lo, hi) * (LEVELS - 1)).astype(np.int64)


def colorize_depth(depth: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """(H, W, 3) uint8: the depth colour map over [lo, hi] metres (0 < lo < hi), black where
    depth is 0."""
    rgb = DEPTH_LUT[depth_levels(depth, lo, hi)]
    rgb[~(np.asarray(depth) > 0)] = NO_SURFACE
    return rgb


def decode_depth(rgb: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Depth (metres, clipped to [lo, hi]) from a colour-mapped image: the nearest map colour's
    level; 0 for black."""
    pixels = np.asarray(rgb, dtype=np.int64).reshape(-1, 3)
    lut = DEPTH_LUT.astype(np.int64)
    levels = np.empty(len(pixels), dtype=np.int64)
    for start in range(0, len(pixels), 4096):  # bounded memory: 4096 x 256 distances at a time
        chunk = pixels[start : start + 4096]
        levels[start : start + 4096] = ((chunk[:, None, :] - lut[None]) ** 2).sum(axis=-1).argmin(axis=1)
    depth = unit_to_depth(levels / (LEVELS - 1), lo, hi)
    depth[(pixels == 0).all(axis=1)] = 0.0
    return depth.reshape(np.asarray(rgb).shape[:2])


def colorize_normal(normal: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 of camera-frame (OpenCV) unit normals, shown as the usual normal map:
    RGB = (n + 1) / 2 with x right, y up and z towards the camera; black where the normal is 0."""
    n = np.asarray(normal, dtype=np.float64) * np.array([1.0, -1.0, -1.0])
    rgb = np.rint(np.clip((n + 1.0) / 2.0, 0.0, 1.0) * 255).astype(np.uint8)
    rgb[~(np.abs(n).sum(axis=-1) > 0)] = NO_SURFACE
    return rgb


def instance_color(instance_id: int) -> tuple[int, int, int]:
    """A stable, bright colour per instance id (golden-ratio hues); grey for 0 (environment)."""
    if instance_id == 0:
        return ENVIRONMENT_COLOR
    hue = (instance_id * 0.6180339887498949) % 1.0
    saturation = 0.55 + 0.35 * ((instance_id * 7) % 3) / 2
    r, g, b = colorsys.hsv_to_rgb(hue, saturation, 0.95)
    return round(r * 255), round(g * 255), round(b * 255)


def colorize_mask(mask: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 of an instance mask, one ``instance_color`` per id."""
    mask = np.asarray(mask)
    ids, inverse = np.unique(mask, return_inverse=True)
    palette = np.array([instance_color(int(i)) for i in ids], dtype=np.uint8).reshape(-1, 3)
    return palette[inverse.reshape(mask.shape)]


def colorize_scalar(values: np.ndarray, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """uint8 RGB (..., 3) of scalar ``values`` on the depth map's colours, linear in value: ``lo``
    dark, ``hi`` bright (defaults: the finite values' min and max); NaN counts as ``lo``."""
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    lo = float(finite.min()) if lo is None and finite.size else (lo or 0.0)
    hi = float(finite.max()) if hi is None and finite.size else (hi if hi is not None else 1.0)
    t = np.clip((np.nan_to_num(values, nan=lo) - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
    return DEPTH_LUT[np.rint(t * (LEVELS - 1)).astype(np.int64)]


def colorize_unit_cube(values: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 of triples in [0, 1] (normalized object coordinates) as RGB."""
    return np.rint(np.clip(np.nan_to_num(np.asarray(values, dtype=np.float64)), 0.0, 1.0) * 255).astype(np.uint8)


def colorize_linear(values: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 sRGB of linear colour (albedo), clipped to [0, 1]."""
    linear = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float64)), 0.0, 1.0)
    srgb = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.rint(srgb * 255).astype(np.uint8)


def show_channel(show: Show, array: np.ndarray, depth_scale: tuple[float, float]) -> np.ndarray:
    """(H, W, 3) uint8 picture of a channel's array as its table row's ``show`` says; depth-like
    channels share ``depth_scale`` (near, far metres), so one colour means one depth."""
    if show == Show.DEPTH:
        return colorize_depth(array, *depth_scale)
    drawers = {
        Show.IMAGE: lambda a: np.asarray(a, dtype=np.uint8),
        Show.NORMAL: colorize_normal,
        Show.INSTANCES: colorize_mask,
        Show.UNIT_CUBE: colorize_unit_cube,
        Show.LINEAR: colorize_linear,
    }
    return drawers[show](array)
