"""Forward optical flow from geometry: where each pixel's surface point lands in the next frame,
given depth, instance mask, cameras and object poses (rigid motion, occlusions ignored). The
renderer writes it as ``flow/`` (docs/format.md); evaluation computes it for scenes without."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from transphy3d.geometry.camera import invert_rigid, unproject


def forward_flow(
    depth: np.ndarray,
    mask: np.ndarray | None,
    K: np.ndarray,
    world_to_camera_t: np.ndarray,
    world_to_camera_next: np.ndarray,
    object_motion: Mapping[int, np.ndarray] | None = None,
) -> np.ndarray:
    """(H, W, 2) flow in pixels from frame t to t+1; 0 where there is no surface (depth 0 or not
    finite) or the point moves behind the camera.

    ``object_motion[i]`` is the 4x4 world-space motion of instance ``i`` between the frames,
    ``pose_next @ inverse(pose_t)``; instances not listed (and id 0, the environment) are static.
    """
    h, w = depth.shape
    valid = np.isfinite(depth) & (depth > 0)
    points = unproject(np.where(valid, depth, 0.0), K)[valid]
    c2w = invert_rigid(np.asarray(world_to_camera_t, dtype=np.float64))
    world = points @ c2w[:3, :3].T + c2w[:3, 3]
    if mask is not None and object_motion:
        ids = mask[valid]
        for instance_id, motion in object_motion.items():
            sel = ids == instance_id
            if np.any(sel):
                world[sel] = world[sel] @ motion[:3, :3].T + motion[:3, 3]
    nxt = np.asarray(world_to_camera_next, dtype=np.float64)
    cam_next = world @ nxt[:3, :3].T + nxt[:3, 3]
    projected = cam_next @ np.asarray(K, dtype=np.float64).T
    in_front = projected[:, 2] > 1e-9
    uv_next = projected[:, :2] / np.where(in_front, projected[:, 2], 1.0)[:, None]
    v, u = np.nonzero(valid)
    flow = np.zeros((h, w, 2), dtype=np.float32)
    flow[v, u, 0] = np.where(in_front, uv_next[:, 0] - u, 0.0)
    flow[v, u, 1] = np.where(in_front, uv_next[:, 1] - v, 0.0)
    return flow


def object_motions(poses: Mapping[int, np.ndarray], frame: int) -> dict[int, np.ndarray]:
    """Per-instance world motion from ``frame`` to ``frame + 1`` of the instances that move
    (``poses[i]``: (F, 4, 4) object_to_world)."""
    out = {}
    for instance_id, track in poses.items():
        if frame + 1 >= len(track):
            continue
        a, b = track[frame], track[frame + 1]
        if not np.array_equal(a, b):
            out[instance_id] = b @ invert_rigid(a)
    return out
