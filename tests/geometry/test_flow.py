"""Forward optical flow from geometry: camera motion and moving objects."""

from __future__ import annotations

import numpy as np

from transphy3d.geometry import camera as cam
from transphy3d.geometry.flow import forward_flow


def test_flow_of_a_sideways_camera_move() -> None:
    """A camera moving by dx along its x sees a plane at depth d move by -f dx / d pixels."""
    K = cam.intrinsics(32, 24, 36.0, 36.0)
    c2w_a = cam.look_at(np.array([0.0, -2.0, 0.0]), np.array([0.0, 0.0, 0.0]))
    c2w_b = c2w_a.copy()
    c2w_b[:3, 3] += c2w_a[:3, 0] * 0.01
    depth = np.full((24, 32), 2.0, np.float32)
    flow = forward_flow(depth, np.zeros((24, 32), np.uint16), K, cam.invert_rigid(c2w_a), cam.invert_rigid(c2w_b), {})
    np.testing.assert_allclose(flow[..., 0], -K[0, 0] * 0.01 / 2.0, atol=1e-9)
    np.testing.assert_allclose(flow[..., 1], 0.0, atol=1e-9)


def test_flow_follows_moving_objects() -> None:
    K = cam.intrinsics(16, 12, 36.0, 36.0)
    w2c = cam.invert_rigid(cam.look_at(np.array([0.0, -2.0, 0.0]), np.zeros(3)))
    depth = np.full((12, 16), 2.0, np.float32)
    mask = np.zeros((12, 16), np.uint16)
    mask[:, 8:] = 3
    motion = np.eye(4)
    motion[:3, 3] = [0.02, 0.0, 0.0]  # object 3 moves 2 cm along world x = camera x
    flow = forward_flow(depth, mask, K, w2c, w2c, {3: motion})
    np.testing.assert_allclose(flow[:, :8], 0.0, atol=1e-9)
    np.testing.assert_allclose(flow[:, 8:, 0], K[0, 0] * 0.02 / 2.0, atol=1e-9)
