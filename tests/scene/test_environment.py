"""``transphy3d.scene.environment``: the parts' poses and meshes (boxes and open boxes with known
volumes), a table whose top is at its height on four legs, and room walls that close a square
around the camera path, ``margin`` beyond its farthest point."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from helpers import at_rest

from transphy3d.geometry.camera import invert_rigid
from transphy3d.scene.camera_path import anchor_camera_path, spec_world_to_camera
from transphy3d.scene.environment import (
    FLOOR_THICKNESS,
    LEG_SIZE,
    WALL_THICKNESS,
    container_part,
    environment_parts,
    floor_part,
    part_mesh,
    part_pose,
    room_walls,
    table_parts,
)
from transphy3d.scene.spec import EnvironmentPart, RoomSpec


@pytest.fixture(scope="module")
def material():
    return at_rest({}).objects[0].material


def _world(part: EnvironmentPart) -> trimesh.Trimesh:
    return part_mesh(part).apply_transform(part_pose(part))


def test_a_part_is_posed_by_its_bottom_centre_and_turn(material) -> None:
    part = EnvironmentPart(name="p", shape="box", size=(0.4, 0.2, 0.1), position=(1.0, 2.0, 0.5),
                           rotation_z_deg=90.0, material=material)  # fmt: skip
    pose = part_pose(part)
    np.testing.assert_allclose(pose[:3, 3], [1.0, 2.0, 0.55])
    np.testing.assert_allclose(pose[:3, :3], [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-12)
    np.testing.assert_allclose(_world(part).bounds, [[0.9, 1.8, 0.5], [1.1, 2.2, 0.6]], atol=1e-12)


def test_an_open_box_has_walls_and_a_floor_of_its_wall_thickness(material) -> None:
    """Volume: the outer box less the hollow above the 2 cm floor."""
    bin_ = container_part(0.4, 0.3, 0.2, 0.02, material)
    mesh = part_mesh(bin_)
    assert mesh.is_watertight
    np.testing.assert_allclose(mesh.extents, [0.4, 0.3, 0.2], atol=1e-6)
    assert mesh.volume == pytest.approx(0.4 * 0.3 * 0.2 - 0.36 * 0.26 * 0.18, rel=1e-5)
    inside = np.array([[0.0, 0.0, -0.1 + 0.02 + 0.01]])  # just above its floor, in its own frame
    assert not mesh.contains(inside)[0] and mesh.contains(np.array([[0.0, 0.0, -0.09]]))[0]


def test_the_floor_top_is_at_zero(material) -> None:
    floor = floor_part(6.0, material)
    np.testing.assert_allclose(_world(floor).bounds, [[-3, -3, -FLOOR_THICKNESS], [3, 3, 0]], atol=1e-12)


def test_a_table_stands_on_four_legs_with_its_top_at_its_height(material) -> None:
    top, *legs = table_parts(1.2, 0.8, 0.75, 0.04, material)
    assert _world(top).bounds[1, 2] == pytest.approx(0.75) and _world(top).bounds[0, 2] == pytest.approx(0.71)
    assert len(legs) == 4
    for leg in legs:
        lo, hi = _world(leg).bounds
        assert lo[2] == pytest.approx(0.0) and hi[2] == pytest.approx(0.71)  # floor to the top's underside
        assert hi[0] - lo[0] == pytest.approx(LEG_SIZE)
        assert abs(lo[0] + hi[0]) / 2 == pytest.approx(0.6 - 0.06) and abs(lo[1] + hi[1]) / 2 == pytest.approx(
            0.4 - 0.06
        )


def test_room_walls_close_a_square_margin_beyond_the_cameras(material) -> None:
    room = RoomSpec(margin=0.5, height=2.5, material=material)
    centre = np.array([0.2, -0.1, 0.8])
    cameras = np.array([[1.2, -0.1, 1.5], [0.2, 0.6, 1.4], [-0.3, -0.4, 1.6]])  # farthest: 1.0 along x
    walls = room_walls(room, centre, cameras)
    assert [w.name for w in walls] == [f"env_wall_{i}" for i in range(4)] and not any(w.collision for w in walls)
    boxes = [_world(w).bounds for w in walls]
    half = 1.0 + 0.5
    inner = [  # each wall's face towards the centre
        boxes[0][0, 1] - centre[1],
        centre[0] - boxes[1][1, 0],
        centre[1] - boxes[2][1, 1],
        boxes[3][0, 0] - centre[0],
    ]
    np.testing.assert_allclose(inner, half, atol=1e-9)
    for box in boxes:
        np.testing.assert_allclose([box[0, 2], box[1, 2]], [0.0, 2.5])
        assert np.sort(box[1, :2] - box[0, :2]).tolist() == pytest.approx(
            [WALL_THICKNESS, 2 * half + 2 * WALL_THICKNESS]
        )


def test_the_spec_gets_its_walls_once_the_camera_is_anchored() -> None:
    spec = at_rest({"environment.room.probability": 1.0})
    assert spec.environment.room is not None and environment_parts(spec) == spec.environment.parts
    anchored = spec.model_copy(update={"camera_path": anchor_camera_path(spec)})
    parts = environment_parts(anchored)
    assert (
        parts[: len(spec.environment.parts)] == spec.environment.parts and len(parts) == len(spec.environment.parts) + 4
    )
    eyes = invert_rigid(spec_world_to_camera(anchored))[:, :3, 3]
    lo, hi = trimesh.util.concatenate([_world(p) for p in parts[-4:]]).bounds
    inner_lo, inner_hi = lo[:2] + WALL_THICKNESS, hi[:2] - WALL_THICKNESS  # the room's inside
    centre = np.asarray(anchored.camera_path.centre)[:2]
    np.testing.assert_allclose((inner_lo + inner_hi) / 2, centre, atol=1e-9)
    farthest = np.abs(eyes[:, :2] - centre).max()
    np.testing.assert_allclose(inner_hi - centre, farthest + spec.environment.room.margin, atol=1e-9)
