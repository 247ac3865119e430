"""Camera math: intrinsics, conventions, the orbit path and keeping objects in view."""

from __future__ import annotations

import math

import numpy as np
import pytest

from transphy3d.geometry import camera as cam


def test_intrinsics_centre_convention() -> None:
    K = cam.intrinsics(832, 480, focal_length_mm=36.0, sensor_width_mm=36.0)
    assert K[0, 0] == K[1, 1] == 832.0
    assert (K[0, 2], K[1, 2]) == (415.5, 239.5)  # centre of the top-left pixel is (0, 0)


def test_look_at_is_opencv() -> None:
    eye, target = np.array([0.0, -2.0, 1.0]), np.array([0.0, 0.0, 1.0])
    c2w = cam.look_at(eye, target)
    R = c2w[:3, :3]
    np.testing.assert_allclose(R.T @ R, np.eye(3), atol=1e-12)
    assert np.linalg.det(R) == pytest.approx(1.0)
    np.testing.assert_allclose(R[:, 2], [0, 1, 0], atol=1e-12)  # z forward
    np.testing.assert_allclose(R[:, 1], [0, 0, -1], atol=1e-12)  # y down (world up is -y)
    np.testing.assert_allclose(R[:, 0], [1, 0, 0], atol=1e-12)  # x right


def test_project_and_unproject_round_trip() -> None:
    K = cam.intrinsics(64, 48, 30.0, 36.0)
    w2c = cam.invert_rigid(cam.look_at(np.array([1.0, -1.5, 0.8]), np.array([0.1, 0.0, 0.2])))
    rng = np.random.default_rng(0)
    depth = rng.uniform(0.5, 3.0, size=(48, 64))
    points_cam = cam.unproject(depth, K)
    c2w = cam.invert_rigid(w2c)
    world = points_cam.reshape(-1, 3) @ c2w[:3, :3].T + c2w[:3, 3]
    uv, z = cam.project(K, w2c, world)
    v, u = np.mgrid[0:48, 0:64]
    np.testing.assert_allclose(uv[:, 0], u.ravel(), atol=1e-9)
    np.testing.assert_allclose(uv[:, 1], v.ravel(), atol=1e-9)
    np.testing.assert_allclose(z, depth.ravel(), atol=1e-12)


def test_blender_camera_looks_down_its_minus_z() -> None:
    c2w = cam.look_at(np.array([0.0, 0.0, 2.0]), np.array([0.0, 0.0, 0.0]))
    blender = cam.opencv_to_blender_camera_to_world(c2w)
    np.testing.assert_allclose(-blender[:3, 2], [0, 0, -1], atol=1e-12)


def make_orbit(**kw) -> cam.Orbit:
    zero = cam.Wave(0.0, 1.0, 0.0)
    args = dict(
        radius=2.0,
        height=1.0,
        start_azimuth=0.0,
        sweep=math.pi,
        direction=1,
        radius_wave=zero,
        height_wave=zero,
        look_waves=(zero, zero, zero),
    )
    args.update(kw)
    return cam.Orbit(**args)


def test_unperturbed_orbit_is_a_circle_looking_at_the_centre() -> None:
    centre = np.array([0.3, -0.2, 0.8])
    eyes, targets = make_orbit().eyes_and_targets(centre, 9)
    np.testing.assert_allclose(np.linalg.norm(eyes[:, :2] - centre[:2], axis=1), 2.0, atol=1e-12)
    np.testing.assert_allclose(eyes[:, 2], centre[2] + 1.0, atol=1e-12)
    np.testing.assert_allclose(targets, np.broadcast_to(centre, targets.shape), atol=1e-12)
    azimuth = np.unwrap(np.arctan2(eyes[:, 1] - centre[1], eyes[:, 0] - centre[0]))
    np.testing.assert_allclose(azimuth, np.linspace(0, math.pi, 9), atol=1e-12)
    w2c = make_orbit().world_to_camera(centre, 9)
    _, z = cam.project(np.eye(3), w2c[4], centre[None])
    assert z[0] == pytest.approx(math.hypot(2.0, 1.0))


def test_sinusoidal_perturbations() -> None:
    centre = np.zeros(3)
    orbit = make_orbit(radius_wave=cam.Wave(0.1, 2.0, 0.0), height_wave=cam.Wave(0.2, 1.0, math.pi / 2), direction=-1)
    eyes, _ = orbit.eyes_and_targets(centre, 5)
    t = cam.clip_times(5)
    np.testing.assert_allclose(
        np.linalg.norm(eyes[:, :2], axis=1), 2.0 * (1 + 0.1 * np.sin(4 * math.pi * t)), atol=1e-12
    )
    np.testing.assert_allclose(eyes[:, 2], 1.0 + 0.2 * np.cos(2 * math.pi * t), atol=1e-12)
    azimuth = np.unwrap(np.arctan2(eyes[:, 1], eyes[:, 0]))
    assert azimuth[-1] == pytest.approx(-math.pi)


def test_fit_distance_keeps_points_in_view() -> None:
    K = cam.intrinsics(64, 48, 35.0, 36.0)
    rng = np.random.default_rng(1)
    points = rng.uniform(-0.5, 0.5, size=(200, 3))
    orbit = make_orbit(radius=0.4, height=0.3)
    assert not cam.points_in_view(K, orbit.world_to_camera(np.zeros(3), 10), points, 64, 48, 0.05)
    scale = cam.fit_distance_scale(orbit, np.zeros(3), points, K, 64, 48, 10, 0.05)
    assert scale > 1.0
    assert cam.points_in_view(K, orbit.world_to_camera(np.zeros(3), 10, scale), points, 64, 48, 0.05)
    assert not cam.points_in_view(K, orbit.world_to_camera(np.zeros(3), 10, scale / 1.05), points, 64, 48, 0.05)


def test_framing_on_hull_vertices_decides_as_on_all_points() -> None:
    """camera_path.hull_vertices keeps a few points; the frustum test on them agrees with the test
    on every point for cameras that cut through the cloud at every distance."""
    from transphy3d.scene.camera_path import hull_vertices

    rng = np.random.default_rng(3)
    points = rng.normal(size=(4000, 3)) * (0.3, 0.2, 0.1)
    hull = hull_vertices(points)
    assert len(hull) < 200 and np.isin(hull, points).all()
    K = cam.intrinsics(160, 120, 35.0, 36.0)
    decisions = []
    for distance in np.linspace(0.4, 4.0, 40):
        eye = rng.normal(size=3)
        eye *= distance / np.linalg.norm(eye)
        w2c = cam.invert_rigid(cam.look_at(eye, rng.normal(size=3) * 0.1))
        full = cam.points_in_view(K, w2c, points, 160, 120, 0.05)
        assert cam.points_in_view(K, w2c, hull, 160, 120, 0.05) == full
        decisions.append(full)
    assert any(decisions) and not all(decisions)
    flat = points * (1, 1, 0)  # a flat cloud has no 3-D hull: every point is kept
    np.testing.assert_array_equal(hull_vertices(flat), flat)
