"""``transphy3d.scene.placement`` on simple solids with known answers: tipping angles, the rest
pose an object can hold, standing rotations, footprints, drop poses and the checks of resting
poses (leaving the support, sinking, interpenetrating)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import trimesh

from transphy3d.geometry.transforms import pose_matrix, transform_points
from transphy3d.scene.placement import (
    MIN_TIPPING_DEG,
    PLACE_HEIGHT,
    UPRIGHT_TILT_DEG,
    Body,
    Footprint,
    check_resting_poses,
    drop_pose,
    footprint,
    stable_rest_pose,
    standing_rotation,
    tipping_angle_deg,
)
from transphy3d.scene.spec import Pose, SupportSpec

SUPPORT = SupportSpec(
    kind="tabletop",
    x_range=(-0.5, 0.5),
    y_range=(-0.3, 0.3),
    z=0.75,
    drop_x_range=(-0.2, 0.2),
    drop_y_range=(-0.1, 0.1),
)


def _box(x: float, y: float, z: float) -> trimesh.Trimesh:
    return trimesh.creation.box(extents=(x, y, z))


def _cone(radius: float, height: float) -> trimesh.Trimesh:
    """A cone standing on its base, its origin at the centre of its bounding box."""
    cone = trimesh.creation.cone(radius=radius, height=height, sections=64)
    cone.apply_translation((0, 0, -height / 2))
    return cone


def _at(x: float, y: float, z: float) -> np.ndarray:
    return pose_matrix(np.array([x, y, z]), np.array([1.0, 0, 0, 0]))


def test_tipping_angles_of_known_solids() -> None:
    """A box 10 x 10 x 20 cm tips over its corner at atan(7.07 / 10); a cone of radius 3 cm and
    height 12 cm upright at atan(3 / 3) (its centre of mass a quarter up), on its apex at 0."""
    box = _box(0.1, 0.1, 0.2)
    assert tipping_angle_deg(box, upside_down=False) == pytest.approx(
        math.degrees(math.atan(0.05 * math.sqrt(2) / 0.1))
    )
    assert tipping_angle_deg(box, upside_down=True) == pytest.approx(tipping_angle_deg(box, upside_down=False))
    cone = _cone(0.03, 0.12)
    assert tipping_angle_deg(cone, upside_down=False) == pytest.approx(45.0, abs=0.5)
    assert tipping_angle_deg(cone, upside_down=True) < 1.0


def test_the_rest_pose_falls_back_to_what_the_object_can_hold() -> None:
    box, cone, pencil = _box(0.1, 0.1, 0.2), _cone(0.03, 0.12), trimesh.creation.cylinder(radius=0.005, height=0.2)
    assert tipping_angle_deg(pencil, upside_down=False) < MIN_TIPPING_DEG
    assert stable_rest_pose(box, "upside_down") == "upside_down"
    assert stable_rest_pose(cone, "upside_down") == "upright"  # it would fall off its apex
    assert stable_rest_pose(pencil, "upright") == "random" and stable_rest_pose(pencil, "upside_down") == "random"
    assert stable_rest_pose(box, "random") == "random"


@pytest.mark.parametrize("upside_down", [False, True])
def test_standing_rotations_tilt_at_most_three_degrees(upside_down: bool) -> None:
    rng = np.random.default_rng(0)
    rotations = [standing_rotation(rng, upside_down) for _ in range(400)]
    for r in rotations:
        np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(r) == pytest.approx(1.0)
    z_up = np.array([r[2, 2] for r in rotations]) * (-1 if upside_down else 1)
    tilts = np.degrees(np.arccos(np.clip(z_up, -1, 1)))
    assert tilts.max() <= UPRIGHT_TILT_DEG + 1e-9 and tilts.max() > 0.8 * UPRIGHT_TILT_DEG
    yaws = np.arctan2([r[1, 0] for r in rotations], [r[0, 0] for r in rotations])
    assert np.histogram(yaws, bins=4, range=(-math.pi, math.pi))[0].min() > 70  # turned uniformly


def test_footprints_are_cylinders_that_clash_when_they_overlap() -> None:
    body = Body(1, _box(0.2, 0.2, 0.1))
    here = footprint(body, Pose(position=(1.0, 2.0, 0.8), quaternion=(1.0, 0, 0, 0)))
    np.testing.assert_allclose(here.centre, [1.0, 2.0])
    assert here.radius == pytest.approx(0.1 * math.sqrt(2)) and (here.z_low, here.z_high) == pytest.approx((0.75, 0.85))
    near = Footprint(np.array([1.2, 2.0]), 0.1, 0.8, 0.9)  # 0.2 apart, radii 0.141 + 0.1
    assert here.clashes(near) and near.clashes(here)
    assert not here.clashes(Footprint(np.array([1.2, 2.0]), 0.1, 0.86, 0.9))  # above it
    assert not here.clashes(Footprint(np.array([1.25, 2.0]), 0.1, 0.8, 0.9))  # 0.25 apart: beside it


def test_a_random_drop_starts_at_the_drop_height_inside_the_drop_region() -> None:
    rng, body, placed = np.random.default_rng(3), Body(1, _box(0.04, 0.06, 0.1)), []
    for _ in range(20):
        placed.clear()
        pose = drop_pose(body, SUPPORT, 0.3, placed, rng)
        world = transform_points(pose.matrix(), body.mesh.vertices)
        assert world[:, 2].min() == pytest.approx(SUPPORT.z + 0.3)
        centre = (world.min(axis=0) + world.max(axis=0))[:2] / 2
        assert -0.2 <= centre[0] <= 0.2 and -0.1 <= centre[1] <= 0.1
        assert len(placed) == 1 and placed[0].z_low == pytest.approx(SUPPORT.z + 0.3)


def test_a_set_down_object_stands_just_above_the_surface() -> None:
    rng, body = np.random.default_rng(4), Body(1, _box(0.05, 0.05, 0.12))
    pose = drop_pose(body, SUPPORT, 0.3, [], rng, rest_pose="upright")
    world = transform_points(pose.matrix(), body.mesh.vertices)
    assert world[:, 2].min() == pytest.approx(SUPPORT.z + PLACE_HEIGHT)
    assert pose.matrix()[2, 2] >= math.cos(math.radians(UPRIGHT_TILT_DEG))


def test_a_body_with_no_free_place_is_raised_above_the_others() -> None:
    """A drop region as small as a point: the second body lands on the first's footprint and is
    lifted 5 mm above its top."""
    point = SUPPORT.model_copy(update={"drop_x_range": (0.0, 0.0), "drop_y_range": (0.0, 0.0)})
    rng, body, placed = np.random.default_rng(5), Body(1, _box(0.05, 0.05, 0.1)), []
    drop_pose(body, point, 0.0, placed, rng, tries=4, rest_pose="upright")
    second = drop_pose(Body(2, _box(0.05, 0.05, 0.1)), point, 0.0, placed, rng, tries=4, rest_pose="upright")
    low = transform_points(second.matrix(), body.mesh.vertices)[:, 2].min()
    assert low == pytest.approx(placed[0].z_high + 0.005) and len(placed) == 2


def test_resting_poses_on_the_support_pass() -> None:
    bodies = [Body(1, _box(0.1, 0.1, 0.1)), Body(2, _box(0.1, 0.1, 0.1))]
    poses = {1: _at(-0.2, 0, 0.8), 2: _at(0.2, 0, 0.8)}
    assert check_resting_poses(bodies, poses, SUPPORT, max_penetration=0.01) == []


def test_objects_off_the_support_or_below_it_are_rejected() -> None:
    bodies = [Body(i, _box(0.1, 0.1, 0.1)) for i in (1, 2, 3)]
    poses = {1: _at(0.6, 0, 0.8), 2: _at(0, 0, 0.7), 3: _at(0.2, 0.3 + 0.009, 0.8)}  # 3: within the tolerance
    rejected = check_resting_poses(bodies, poses, SUPPORT, max_penetration=0.01)
    assert [(r.instance_id, r.reason) for r in rejected] == [
        (1, "left the support area"),
        (2, "below the support surface"),
    ]


def test_interpenetration_rejects_the_later_object_by_its_share() -> None:
    """Two 10 cm cubes overlapping by half: 50 % of the smaller volume."""
    bodies = [Body(1, _box(0.1, 0.1, 0.1)), Body(2, _box(0.1, 0.1, 0.1))]
    poses = {1: _at(0, 0, 0.8), 2: _at(0.05, 0, 0.8)}
    (rejection,) = check_resting_poses(bodies, poses, SUPPORT, max_penetration=0.01)
    assert rejection.instance_id == 2 and rejection.reason == "interpenetrates object 1 (50.0% of the smaller volume)"
    assert check_resting_poses(bodies, poses, SUPPORT, max_penetration=0.6) == []
