"""Environment geometry (floor, table, container, room walls) as data and as meshes, no bpy."""

from __future__ import annotations

import math

import manifold3d as mf
import numpy as np
import trimesh

from transphy3d.geometry.camera import invert_rigid
from transphy3d.scene.camera_path import spec_world_to_camera
from transphy3d.scene.procedural.solids import to_trimesh
from transphy3d.scene.spec import EnvironmentPart, MaterialSpec, RoomSpec, SceneSpec

FLOOR_THICKNESS = 0.1
LEG_SIZE = 0.05
LEG_INSET = 0.06
WALL_THICKNESS = 0.1


def part_pose(part: EnvironmentPart) -> np.ndarray:
    """object_to_world of a part's mesh frame: the frame's origin is the centre of the part's
    bounding box (Blender's box collision shapes are centred on the object origin), so the pose
    is a rotation about z and a translation to ``position`` raised by half the height."""
    angle = math.radians(part.rotation_z_deg)
    pose = np.eye(4)
    pose[:2, :2] = [[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]
    pose[:3, 3] = (part.position[0], part.position[1], part.position[2] + part.size[2] / 2)
    return pose


def part_mesh(part: EnvironmentPart) -> trimesh.Trimesh:
    """The part's mesh in its own frame, centred on its bounding box."""
    sx, sy, sz = part.size
    if part.shape == "box":
        return trimesh.creation.box(extents=(sx, sy, sz))
    w = part.wall
    outer = mf.Manifold.cube((sx, sy, sz), center=True)
    inner = mf.Manifold.cube((sx - 2 * w, sy - 2 * w, sz), center=True).translate((0.0, 0.0, w))
    return to_trimesh(outer - inner)


def floor_part(size: float, material: MaterialSpec) -> EnvironmentPart:
    return EnvironmentPart(
        name="env_floor",
        shape="box",
        size=(size, size, FLOOR_THICKNESS),
        position=(0.0, 0.0, -FLOOR_THICKNESS),
        material=material,
    )


def table_parts(
    size_x: float, size_y: float, height: float, thickness: float, material: MaterialSpec
) -> list[EnvironmentPart]:
    """A table top and four legs; the top surface is at ``height``."""
    parts = [
        EnvironmentPart(
            name="env_table_top",
            shape="box",
            size=(size_x, size_y, thickness),
            position=(0.0, 0.0, height - thickness),
            material=material,
        )
    ]
    leg_height = height - thickness
    for i, (sx, sy) in enumerate(((-1, -1), (1, -1), (1, 1), (-1, 1))):
        parts.append(
            EnvironmentPart(
                name=f"env_table_leg_{i}",
                shape="box",
                size=(LEG_SIZE, LEG_SIZE, leg_height),
                position=(sx * (size_x / 2 - LEG_INSET), sy * (size_y / 2 - LEG_INSET), 0.0),
                material=material,
            )
        )
    return parts


def container_part(size_x: float, size_y: float, height: float, wall: float, material: MaterialSpec) -> EnvironmentPart:
    return EnvironmentPart(
        name="env_container",
        shape="open_box",
        size=(size_x, size_y, height),
        wall=wall,
        position=(0.0, 0.0, 0.0),
        material=material,
    )


def room_walls(room: RoomSpec, centre: np.ndarray, camera_positions: np.ndarray) -> list[EnvironmentPart]:
    """Four walls around ``centre``, ``room.margin`` beyond the farthest camera position, so the
    camera never leaves the room. No collision: they stand far from the objects."""
    horizontal = np.abs(camera_positions[:, :2] - centre[:2]).max()
    half = float(horizontal + room.margin)
    parts = []
    for i, angle in enumerate((0.0, 90.0, 180.0, 270.0)):
        a = math.radians(angle)
        parts.append(
            EnvironmentPart(
                name=f"env_wall_{i}",
                shape="box",
                size=(2 * half + 2 * WALL_THICKNESS, WALL_THICKNESS, room.height),
                position=(
                    float(centre[0] + (half + WALL_THICKNESS / 2) * -math.sin(a)),
                    float(centre[1] + (half + WALL_THICKNESS / 2) * math.cos(a)),
                    0.0,
                ),
                rotation_z_deg=angle,
                material=room.material,
                collision=False,
            )
        )
    return parts


def environment_parts(spec: SceneSpec) -> list[EnvironmentPart]:
    """The environment's parts, with the room walls placed around the camera path."""
    parts = list(spec.environment.parts)
    if spec.environment.room is not None and spec.camera_path is not None:
        eyes = invert_rigid(spec_world_to_camera(spec))[:, :3, 3]
        parts += room_walls(spec.environment.room, np.asarray(spec.camera_path.centre), eyes)
    return parts
