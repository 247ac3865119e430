"""``transphy3d.scene.camera_path``: the orbit anchored on settled objects (one still cup, no
waves) is centred on them, just fits them in the image at ``framing`` 1, scales with
``framing``, keeps its elevation and distance in every frame, and the per-frame cameras follow it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import at_rest

from transphy3d.geometry import camera as cam
from transphy3d.scene.camera_path import (
    MIN_DISTANCE_RADII,
    anchor_camera_path,
    object_points,
    spec_intrinsics,
    spec_world_to_camera,
)


def _anchored(**overrides):
    spec = at_rest({"camera.framing": 1.0, "camera.elevation_deg": 30.0, **overrides})
    return spec.model_copy(update={"camera_path": anchor_camera_path(spec)})


@pytest.fixture(scope="module")
def anchored():
    return _anchored()


def test_the_intrinsics_are_those_of_the_render_size(anchored) -> None:
    K = spec_intrinsics(anchored)
    c, r = anchored.camera, anchored.render
    assert (r.width, r.height) == (104, 60)
    assert K[0, 0] == K[1, 1] == pytest.approx(c.focal_length_mm / c.sensor_width_mm * 104)
    assert (K[0, 2], K[1, 2]) == (51.5, 29.5)


def test_the_path_is_centred_on_the_objects(anchored) -> None:
    points = object_points(anchored)
    path = anchored.camera_path
    centre = (points.min(axis=0) + points.max(axis=0)) / 2
    np.testing.assert_allclose(path.centre, centre, atol=1e-12)
    assert path.bound_radius == pytest.approx(np.linalg.norm(points - centre, axis=1).max())
    assert path.distance >= MIN_DISTANCE_RADII * path.bound_radius and path.distance_scale == 1.0


def test_every_frame_looks_at_the_centre_from_the_orbit(anchored) -> None:
    path, frames = anchored.camera_path, anchored.render.frames
    w2c = spec_world_to_camera(anchored)
    assert w2c.shape == (frames, 4, 4)
    eyes = cam.invert_rigid(w2c)[:, :3, 3]
    offsets = eyes - np.asarray(path.centre)
    np.testing.assert_allclose(np.linalg.norm(offsets, axis=1), path.distance, rtol=1e-9)
    np.testing.assert_allclose(offsets[:, 2], path.distance * math.sin(math.radians(30.0)), rtol=1e-9)
    uv, _ = cam.project(spec_intrinsics(anchored), w2c[0], np.asarray([path.centre]))
    np.testing.assert_allclose(uv[0], [51.5, 29.5], atol=1e-9)
    azimuths = np.unwrap(np.arctan2(offsets[:, 1], offsets[:, 0]))
    sweep = math.radians(anchored.camera.sweep_deg) * anchored.camera.direction
    np.testing.assert_allclose(azimuths[-1] - azimuths[0], sweep, atol=1e-9)


def test_at_framing_one_the_objects_just_fit(anchored) -> None:
    """In view with the margin in every frame at the anchored distance, not 2 % closer."""
    points, K, r = object_points(anchored), spec_intrinsics(anchored), anchored.render
    margin = anchored.camera.keep_in_view_margin
    assert cam.points_in_view(K, spec_world_to_camera(anchored), points, r.width, r.height, margin)
    path = anchored.camera_path
    closer = anchored.model_copy(update={"camera_path": path.model_copy(update={"distance": path.distance * 0.98})})
    assert not cam.points_in_view(K, spec_world_to_camera(closer), points, r.width, r.height, margin)


def test_framing_scales_the_distance(anchored) -> None:
    wider = _anchored(**{"camera.framing": 1.5}).camera_path
    assert wider.distance == pytest.approx(1.5 * anchored.camera_path.distance, rel=1e-9)
    assert wider.centre == anchored.camera_path.centre


def test_a_wide_lens_stops_at_the_minimum_distance() -> None:
    path = _anchored(**{"camera.focal_length_mm": 5.0}).camera_path
    assert path.distance == pytest.approx(MIN_DISTANCE_RADII * path.bound_radius, rel=1e-9)


def test_a_spec_before_physics_has_no_cameras() -> None:
    with pytest.raises(ValueError, match="anchored after physics"):
        spec_world_to_camera(at_rest({}))
