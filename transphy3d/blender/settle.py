"""Physics with bounded re-sampling: simulate, reject objects that left the support or
interpenetrate, give them new start poses, and try again; record every attempt in the spec."""

from __future__ import annotations

from typing import Any

from transphy3d.blender.physics import simulate
from transphy3d.blender.raycast import fastest_first_hit
from transphy3d.errors import UserError
from transphy3d.rng import stream
from transphy3d.scene.meshes import object_mesh
from transphy3d.scene.placement import Body, check_resting_poses, drop_pose, footprint
from transphy3d.scene.spec import AttemptRecord, ObjectSpec, Pose, Rejection, SceneSpec
from transphy3d.scene.visibility import choose_camera


def _drop_again(
    spec: SceneSpec, objects: list[ObjectSpec], meshes: dict[int, Any], bad: set[int], attempt: int
) -> list[ObjectSpec]:
    """``objects`` with new drop poses (placement stream of ``attempt``) for the ``bad`` ones,
    placed among the others' footprints."""
    support = spec.environment.support
    placed = [
        footprint(Body(o.instance_id, meshes[o.instance_id]), o.initial_pose)
        for o in objects
        if o.instance_id not in bad
    ]
    renewed = []
    for o in objects:
        if o.instance_id in bad:
            rng = stream(spec.seed, "placement", attempt, o.instance_id)
            body = Body(o.instance_id, meshes[o.instance_id])
            pose = drop_pose(body, support, o.drop_height, placed, rng, rest_pose=o.rest_pose)
            o = o.model_copy(update={"initial_pose": pose})
        renewed.append(o)
    return renewed


def settle(spec: SceneSpec) -> SceneSpec:
    """The spec with settled poses (and the fall's trajectory when it is rendered), placement
    attempts, dropped objects and the camera path anchored on the result, from a camera that
    sees the objects (``choose_camera``)."""
    physics = spec.physics
    objects = list(spec.objects)
    meshes = {o.instance_id: object_mesh(o) for o in objects}
    parts = spec.environment.parts
    support = spec.environment.support
    fall = physics.mode == "fall"
    attempts: list[AttemptRecord] = []
    dropped: list[Rejection] = []
    while True:
        attempt = len(attempts)
        starts = {o.instance_id: o.initial_pose.matrix() for o in objects}
        result = simulate(
            objects,
            meshes,
            starts,
            parts,
            physics,
            render_frames=spec.render.frames if fall else None,
            render_fps=spec.render.fps if fall else None,
        )
        bodies = [Body(o.instance_id, meshes[o.instance_id]) for o in objects]
        rejected = check_resting_poses(bodies, result.final_poses, support, physics.max_penetration)
        attempts.append(
            AttemptRecord(
                attempt=attempt, simulated_seconds=result.simulated_seconds, settled=result.settled, rejected=rejected
            )
        )
        if not rejected:
            break
        bad = {r.instance_id for r in rejected}
        if attempt + 1 >= physics.max_attempts:
            dropped = rejected
            objects = [o for o in objects if o.instance_id not in bad]
            if not objects:
                raise UserError(
                    f"no object came to rest after {physics.max_attempts} attempts: {rejected[0].reason}",
                    field="physics.max_attempts",
                )
            # The remaining objects were placed with the dropped ones present: simulate them alone.
            continue
        objects = _drop_again(spec, objects, meshes, bad, attempt + 1)

    settled_objects = []
    for o in objects:
        update = {"settled_pose": Pose.from_matrix(result.final_poses[o.instance_id])}
        if result.trajectory is not None:
            update["trajectory"] = [Pose.from_matrix(m) for m in result.trajectory[o.instance_id]]
        settled_objects.append(o.model_copy(update=update))
    spec = spec.model_copy(update={"objects": settled_objects, "placement": attempts, "dropped": dropped})
    return choose_camera(spec, caster=fastest_first_hit)
