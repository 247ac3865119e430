"""Rigid-body simulation in a scratch Blender scene: drop, collide, settle.

Objects are convex hulls (Bullet's robust dynamic shape), the open container a concave mesh, the
floor and table boxes. The simulation steps frame by frame and stops once every object has been
slower than the thresholds for ``settle_frames`` frames (or at ``max_seconds``).
"""

from __future__ import annotations

from dataclasses import dataclass

import bpy
import numpy as np
import trimesh

from transphy3d.blender.meshes import mesh_object, set_matrix
from transphy3d.blender.session import reset
from transphy3d.geometry.transforms import rotation_angle
from transphy3d.scene.environment import part_mesh, part_pose
from transphy3d.scene.spec import EnvironmentPart, ObjectSpec, PhysicsSpec


@dataclass
class SimulationResult:
    final_poses: dict[int, np.ndarray]  # instance id -> 4x4
    trajectory: dict[int, np.ndarray] | None  # instance id -> (F, 4, 4) when the fall is rendered
    simulated_seconds: float
    settled: bool


def _add_rigid_body(obj: bpy.types.Object, kind: str, shape: str) -> None:
    with bpy.context.temp_override(
        object=obj, active_object=obj, selected_objects=[obj], selected_editable_objects=[obj]
    ):
        bpy.ops.rigidbody.object_add(type=kind)
    obj.rigid_body.collision_shape = shape


def _matrix(obj: bpy.types.Object) -> np.ndarray:
    return np.array(obj.matrix_world, dtype=np.float64)


def _passive_parts(scene: bpy.types.Scene, parts: list[EnvironmentPart], physics: PhysicsSpec) -> None:
    """The environment parts that collide, as passive rigid bodies."""
    for part in parts:
        if not part.collision:
            continue
        obj = mesh_object(f"phys_{part.name}", part_mesh(part), scene.collection, smooth=False)
        set_matrix(obj, part_pose(part))
        _add_rigid_body(obj, "PASSIVE", "BOX" if part.shape == "box" else "MESH")
        obj.rigid_body.friction = 0.8
        obj.rigid_body.use_margin = True
        obj.rigid_body.collision_margin = physics.collision_margin


def _active_bodies(
    scene: bpy.types.Scene,
    objects: list[ObjectSpec],
    meshes: dict[int, trimesh.Trimesh],
    starts: dict[int, np.ndarray],
    physics: PhysicsSpec,
) -> dict[int, bpy.types.Object]:
    """The objects as active rigid bodies (convex hulls) at their start poses, by instance id."""
    bodies: dict[int, bpy.types.Object] = {}
    for spec in objects:
        mesh = meshes[spec.instance_id]
        obj = mesh_object(f"phys_{spec.name}", mesh, scene.collection, smooth=False)
        set_matrix(obj, starts[spec.instance_id])
        _add_rigid_body(obj, "ACTIVE", "CONVEX_HULL")
        rb = obj.rigid_body
        volume = mesh.volume if mesh.is_watertight else mesh.convex_hull.volume  # static assets may be open
        rb.mass = max(float(spec.density * abs(volume)), 1e-4)
        rb.friction = spec.friction
        rb.restitution = spec.restitution
        rb.linear_damping = physics.linear_damping
        rb.angular_damping = physics.angular_damping
        rb.use_margin = True
        rb.collision_margin = physics.collision_margin
        bodies[spec.instance_id] = obj
    return bodies


def _step(
    scene: bpy.types.Scene, bodies: dict[int, bpy.types.Object], physics: PhysicsSpec, fps: float, max_frames: int,
    fall: bool,
) -> SimulationResult:  # fmt: skip
    """Step the simulation frame by frame until the bodies have been calm for ``settle_frames``
    (after ``min_seconds``), or to ``max_frames``; a fall records every frame's poses."""
    scene.frame_set(1)
    previous = {i: _matrix(o) for i, o in bodies.items()}
    trajectory = {i: [m] for i, m in previous.items()} if fall else None
    calm_frames, settled, frame = 0, False, 1
    min_frames = int(np.ceil(physics.min_seconds * fps))
    for frame in range(2, max_frames + 1):
        scene.frame_set(frame)
        current = {i: _matrix(o) for i, o in bodies.items()}
        linear = max((np.linalg.norm(current[i][:3, 3] - previous[i][:3, 3]) * fps for i in current), default=0.0)
        angular = max((rotation_angle(previous[i][:3, :3], current[i][:3, :3]) * fps for i in current), default=0.0)
        if trajectory is not None:
            for i, m in current.items():
                trajectory[i].append(m)
        previous = current
        calm_frames = (
            calm_frames + 1 if (linear < physics.settle_linear_speed and angular < physics.settle_angular_speed) else 0
        )
        if calm_frames >= physics.settle_frames and frame >= min_frames:
            settled = True
            if not fall:
                break
    return SimulationResult(
        final_poses=previous,
        trajectory={i: np.stack(t) for i, t in trajectory.items()} if trajectory is not None else None,
        simulated_seconds=(frame - 1) / fps,
        settled=settled,
    )


def simulate(
    objects: list[ObjectSpec],
    meshes: dict[int, trimesh.Trimesh],
    starts: dict[int, np.ndarray],
    parts: list[EnvironmentPart],
    physics: PhysicsSpec,
    render_frames: int | None = None,
    render_fps: float | None = None,
) -> SimulationResult:
    """Drop ``objects`` from ``starts`` onto the environment ``parts``.

    With ``render_frames`` (the fall is rendered) the simulation runs at the render frame rate
    and records every object's pose at each rendered frame; otherwise it runs at ``physics.fps``
    until settled.
    """
    scene = reset()  # a fresh session per attempt: nothing carries over between attempts
    bpy.ops.rigidbody.world_add()
    world = scene.rigidbody_world
    fall = render_frames is not None
    fps = float(render_fps) if fall else float(physics.fps)
    scene.render.fps = max(1, round(fps))
    scene.render.fps_base = scene.render.fps / fps
    # Keep the physical time step of `physics.fps * substeps` whatever the frame rate.
    world.substeps_per_frame = max(1, round(physics.substeps * physics.fps / fps))
    world.solver_iterations = physics.solver_iterations
    max_frames = int(render_frames) if fall else int(np.ceil(physics.max_seconds * fps)) + 1
    world.point_cache.frame_start = 1
    world.point_cache.frame_end = max_frames + 1
    scene.frame_start, scene.frame_end = 1, max_frames + 1
    _passive_parts(scene, parts, physics)
    bodies = _active_bodies(scene, objects, meshes, starts, physics)
    return _step(scene, bodies, physics, fps, max_frames, fall)
