"""Depth of one camera carried onto another camera's pixel grid, as RealSense aligns depth to
colour: each depth pixel's square is projected into the target image and fills the target
pixels whose centres it covers, nearest surface first (a z-buffer); 0 where nothing lands."""

from __future__ import annotations

import numpy as np

from transphy3d.geometry.camera import unproject

MAX_FOOTPRINT = 6  # target pixels one source pixel may span per axis (larger ones are clipped)


def register_depth(
    depth: np.ndarray, K_src: np.ndarray, src_to_dst: np.ndarray, K_dst: np.ndarray, width: int, height: int
) -> np.ndarray:
    """``depth`` (H, W, planar metres in the source camera, 0 = none) on the target's (height,
    width) grid: planar depth in the target camera, 0 where no source pixel lands."""
    out = np.full((height, width), np.inf)
    valid = depth > 0
    if not valid.any():
        return np.zeros((height, width), np.float32)
    vs, us = np.nonzero(valid)
    z_src = depth[valid].astype(np.float64)
    corners = []
    for du, dv in ((-0.5, -0.5), (0.5, 0.5)):
        rays = np.linalg.solve(K_src, np.stack([us + du, vs + dv, np.ones_like(z_src)]))
        points = (rays * z_src).T @ src_to_dst[:3, :3].T + src_to_dst[:3, 3]
        with np.errstate(divide="ignore", invalid="ignore"):
            pix = (points @ K_dst.T)[:, :2] / points[:, 2:3]
        corners.append(pix)
    centre = unproject(depth, K_src)[valid] @ src_to_dst[:3, :3].T + src_to_dst[:3, 3]
    z = centre[:, 2]
    lo = np.minimum(corners[0], corners[1])
    hi = np.maximum(corners[0], corners[1])
    keep = (z > 0) & np.all(np.isfinite(lo) & np.isfinite(hi), axis=1)
    lo, hi, z = lo[keep], hi[keep], z[keep]
    first = np.ceil(lo - 1e-9).astype(np.int64)  # first target pixel centre inside the square
    last = np.floor(hi + 1e-9).astype(np.int64)
    for dy in range(MAX_FOOTPRINT):
        for dx in range(MAX_FOOTPRINT):
            x, y = first[:, 0] + dx, first[:, 1] + dy
            inside = (x <= last[:, 0]) & (y <= last[:, 1]) & (x >= 0) & (y >= 0) & (x < width) & (y < height)
            if not inside.any():
                continue
            np.minimum.at(out, (y[inside], x[inside]), z[inside])
    return np.where(np.isfinite(out), out, 0.0).astype(np.float32)
