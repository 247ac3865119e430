"""Forward optical flow from geometry: where each pixel's surface point lands in the next frame,
given depth, instance mask, cameras and object poses (rigid motion, occlusions ignored)."""

from __future__ import annotations

import numpy as np

from transphy3d.camera import invert_rigid, unproject


def forward_flow(
    depth: np.ndarray,
    mask: np.ndarray,
    K: np.ndarray,
    world_to_camera_t: np.ndarray,
    world_to_camera_next: np.ndarray,
    object_motion: dict[int, np.ndarray],
) -> np.ndarray:
    """(H, W, 2) flow in pixels from frame t to t+1; 0 where depth is 0.

    ``object_motion[i]`` is the 4x4 world-space motion of instance ``i`` between the frames,
    ``pose_next @ inverse(pose_t)``; instances not listed (and id 0, the environment) are static.
    """
    h, w = depth.shape
    valid = depth > 0
    points = unproject(depth, K)[valid]
    world = points @ invert_rigid(world_to_camera_t)[:3, :3].T + invert_rigid(world_to_camera_t)[:3, 3]
    ids = mask[valid]
    for instance_id, motion in object_motion.items():
        sel = ids == instance_id
        if np.any(sel):
            world[sel] = world[sel] @ motion[:3, :3].T + motion[:3, 3]
    cam_next = world @ world_to_camera_next[:3, :3].T + world_to_camera_next[:3, 3]
    projected = cam_next @ K.T
    uv_next = projected[:, :2] / np.maximum(projected[:, 2:3], 1e-9)
    v, u = np.nonzero(valid)
    flow = np.zeros((h, w, 2), dtype=np.float32)
    flow[v, u, 0] = uv_next[:, 0] - u
    flow[v, u, 1] = uv_next[:, 1] - v
    return flow


def object_motions(poses: dict[int, np.ndarray], frame: int) -> dict[int, np.ndarray]:
    """Per-instance world motion from ``frame`` to ``frame + 1`` (only instances that move)."""
    out = {}
    for instance_id, track in poses.items():
        a, b = track[frame], track[frame + 1]
        if not np.array_equal(a, b):
            out[instance_id] = b @ np.linalg.inv(a)
    return out
