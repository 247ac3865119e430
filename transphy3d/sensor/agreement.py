"""How the simulated sensor's raw depth compares with the exact depth, per material region:
the share of pixels with a return (coverage), of returns within 2 % of the true depth, and of
pixels where the sensor fails (no return, or off by more than 2 %)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

TOLERANCE = 0.02  # relative depth error that still counts as agreeing


def region_figures(raw: np.ndarray, depth: np.ndarray, region: np.ndarray) -> dict[str, float]:
    """``pixels``, ``coverage``, ``within_2pct`` (of the returns) and ``failed`` (of the pixels)
    over ``region`` & true depth > 0."""
    region = region & (depth > 0)
    pixels = int(region.sum())
    if pixels == 0:
        return {"pixels": 0, "coverage": 0.0, "within_2pct": 0.0, "failed": 0.0}
    returned = region & (raw > 0)
    error = np.abs(raw - depth) / np.where(depth > 0, depth, 1.0)
    good = returned & (error <= TOLERANCE)
    covered = int(returned.sum())
    return {
        "pixels": pixels,
        "coverage": covered / pixels,
        "within_2pct": int(good.sum()) / covered if covered else 0.0,
        "failed": 1.0 - int(good.sum()) / pixels,
    }


def raw_depth_figures(
    raw: np.ndarray, depth: np.ndarray, regions: Mapping[str, np.ndarray]
) -> dict[str, dict[str, float]]:
    """``region_figures`` for every named region."""
    return {name: region_figures(raw, depth, mask) for name, mask in regions.items()}


REGIONS = ("opaque", "transparent", "opaque_far")


def material_regions(
    mask: np.ndarray, depth: np.ndarray, transparent_ids: list[int], depths: tuple[float, float, float]
) -> dict[str, np.ndarray]:
    """``opaque`` (environment and opaque objects) and ``transparent`` pixels within the sensor's
    ideal range (``depths``: min-Z .. ideal far end, metres), and ``opaque_far`` between the ideal
    far end and the farthest depth it returns (the far walls of a room: dim pattern, coarse
    disparities)."""
    lo, ideal, hi = depths
    near = (depth >= lo) & (depth <= ideal)
    far = (depth > ideal) & (depth <= hi)
    transparent = np.isin(mask, transparent_ids)
    return {"opaque": near & ~transparent, "transparent": near & transparent, "opaque_far": far & ~transparent}
