"""Forward optical flow from geometry, for scenes rendered without the flow pass.

A pixel of frame t with depth d is unprojected (``transphy3d.camera``), moved to the world,
carried by its object's motion when it belongs to an instance (object_to_world of t+1 times the
inverse of t's), and projected into frame t+1: flow = its pixel there minus its pixel in t. This
is the renderer's own definition (docs/format.md: occlusions not handled, 0 where no surface).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from transphy3d.camera import invert_rigid, unproject


def geometric_flow(
    depth: np.ndarray,
    K: np.ndarray,
    world_to_camera: np.ndarray,
    world_to_camera_next: np.ndarray,
    mask: np.ndarray | None = None,
    motions: Mapping[int, np.ndarray] | None = None,
) -> np.ndarray:
    """Flow (H, W, 2) in pixels from frame t to t+1; ``motions[id]`` maps world points of instance
    ``id`` at t to t+1 (4x4); pixels not in ``motions`` are static in the world."""
    h, w = depth.shape
    valid = np.isfinite(depth) & (depth > 0)
    points = unproject(np.where(valid, depth, 0.0), K)  # camera frame of t
    cam_to_world = invert_rigid(np.asarray(world_to_camera, dtype=np.float64))
    world = points @ cam_to_world[:3, :3].T + cam_to_world[:3, 3]
    if mask is not None and motions:
        for instance, motion in motions.items():
            sel = valid & (mask == instance)
            if sel.any():
                world[sel] = world[sel] @ motion[:3, :3].T + motion[:3, 3]
    nxt = np.asarray(world_to_camera_next, dtype=np.float64)
    cam_next = world @ nxt[:3, :3].T + nxt[:3, 3]
    z = cam_next[..., 2]
    ok = valid & (z > 1e-9)
    pixels = cam_next @ np.asarray(K, dtype=np.float64).T
    u = np.where(ok, pixels[..., 0] / np.where(ok, z, 1.0), 0.0)
    v = np.where(ok, pixels[..., 1] / np.where(ok, z, 1.0), 0.0)
    cols, rows = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    flow = np.stack([np.where(ok, u - cols, 0.0), np.where(ok, v - rows, 0.0)], axis=-1)
    return flow.astype(np.float32)


def object_motions(objects, frame: int) -> dict[int, np.ndarray]:
    """World-space motion t -> t+1 (4x4) of every object (``transphy3d.dataset.SceneObject``) that moves."""
    motions = {}
    for obj in objects:
        poses = obj.object_to_world
        if frame + 1 >= len(poses):
            continue
        motion = poses[frame + 1] @ invert_rigid(poses[frame])
        if not np.allclose(motion, np.eye(4), atol=1e-12):
            motions[obj.instance_id] = motion
    return motions
