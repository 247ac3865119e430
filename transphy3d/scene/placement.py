"""Where objects start their fall, and whether their resting poses are acceptable (pure Python)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import manifold3d as mf
import numpy as np
import trimesh

from transphy3d.geometry.transforms import matrix_to_quaternion, random_quaternion, transform_points
from transphy3d.scene.spec import Pose, Rejection, RestPose, SupportSpec


@dataclass(frozen=True)
class Body:
    """An object as placement sees it: its mesh (object frame) and bounding radius."""

    instance_id: int
    mesh: trimesh.Trimesh

    @property
    def radius(self) -> float:
        return float(np.linalg.norm(self.mesh.vertices, axis=1).max())

    @property
    def solid(self) -> trimesh.Trimesh:
        """The mesh when it is watertight, else its convex hull (what physics collides with):
        static assets may be open surfaces without a volume."""
        return self.mesh if self.mesh.is_watertight else self.mesh.convex_hull


PLACE_HEIGHT = 0.005  # metres: upright and upside-down objects are set down, not dropped
UPRIGHT_TILT_DEG = 3.0  # the largest tilt of a set-down object (a real hand is not exact)


def standing_rotation(rng: np.random.Generator, upside_down: bool) -> np.ndarray:
    """A 3x3 rotation that stands an object on its base (z up) or its top, turned uniformly about
    z and tilted by at most UPRIGHT_TILT_DEG about a random horizontal axis."""
    yaw, axis_angle, tilt = (
        rng.uniform(0, 2 * np.pi),
        rng.uniform(0, 2 * np.pi),
        np.radians(rng.uniform(0, UPRIGHT_TILT_DEG)),
    )
    flip = np.diag([1.0, -1.0, -1.0]) if upside_down else np.eye(3)  # 180 degrees about x
    axis = np.array([np.cos(axis_angle), np.sin(axis_angle), 0.0])
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    tilted = np.eye(3) + np.sin(tilt) * k + (1 - np.cos(tilt)) * k @ k  # Rodrigues
    c, s = np.cos(yaw), np.sin(yaw)
    return tilted @ np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ flip


def drop_pose(
    body: Body,
    support: SupportSpec,
    drop_height: float,
    placed: list[tuple[np.ndarray, float]],
    rng: np.random.Generator,
    tries: int = 16,
    rest_pose: RestPose = "random",
) -> Pose:
    """A start pose above the support: x/y uniform over the drop region (shrunk by the body's
    radius). ``random``: a uniformly random rotation, centre ``drop_height`` above the surface plus
    the body's radius. ``upright``/``upside_down``: stood on its base or top (``standing_rotation``),
    its lowest point at most PLACE_HEIGHT above the surface. Of up to ``tries`` x/y draws the first
    whose bounding sphere clears every earlier body is taken; if none does, the one needing the
    least lift, raised above the bodies it would touch. ``placed`` collects (centre, radius) of the
    bodies placed so far."""
    r = body.radius
    rotation = None
    if rest_pose == "random":
        base_z = support.z + drop_height + r
    else:
        rotation = standing_rotation(rng, upside_down=rest_pose == "upside_down")
        lowest = float((body.mesh.vertices @ rotation.T)[:, 2].min())
        base_z = support.z + min(drop_height, PLACE_HEIGHT) - lowest
    best_xy, best_z = None, np.inf
    for _ in range(tries):
        xy = np.empty(2)
        for axis, (lo, hi) in enumerate((support.drop_x_range, support.drop_y_range)):
            centre, half = (lo + hi) / 2, max((hi - lo) / 2 - r, 0.0)
            xy[axis] = centre + rng.uniform(-half, half)
        z = base_z
        for other_position, other_radius in placed:
            if np.linalg.norm(xy - other_position[:2]) < r + other_radius:
                z = max(z, other_position[2] + other_radius + r + 0.005)
        if z < best_z:
            best_xy, best_z = xy, z
        if z == base_z:
            break
    quaternion = random_quaternion(rng) if rotation is None else matrix_to_quaternion(rotation)
    position = np.array([best_xy[0], best_xy[1], best_z])
    placed.append((position.copy(), r))
    return Pose(position=tuple(float(v) for v in position), quaternion=tuple(float(v) for v in quaternion))


def _manifold(mesh: trimesh.Trimesh, pose: np.ndarray) -> mf.Manifold:
    vertices = transform_points(pose, mesh.vertices).astype(np.float32)
    return mf.Manifold(mf.Mesh(vert_properties=vertices, tri_verts=np.asarray(mesh.faces, dtype=np.uint32)))


def check_resting_poses(
    bodies: list[Body],
    poses: dict[int, np.ndarray],
    support: SupportSpec,
    max_penetration: float,
    tolerance: float = 0.01,
) -> list[Rejection]:
    """Objects that left the support area or interpenetrate another object by more than
    ``max_penetration`` of the smaller one's volume."""
    rejected: dict[int, str] = {}
    world_vertices = {b.instance_id: transform_points(poses[b.instance_id], b.mesh.vertices) for b in bodies}
    for body in bodies:
        v = world_vertices[body.instance_id]
        centre = v.mean(axis=0)
        (x0, x1), (y0, y1) = support.x_range, support.y_range
        if not (x0 - tolerance <= centre[0] <= x1 + tolerance and y0 - tolerance <= centre[1] <= y1 + tolerance):
            rejected[body.instance_id] = "left the support area"
        elif v[:, 2].min() < support.z - tolerance:
            rejected[body.instance_id] = "below the support surface"
    boxes = {i: (v.min(axis=0), v.max(axis=0)) for i, v in world_vertices.items()}
    for a, b in itertools.combinations(bodies, 2):
        if a.instance_id in rejected or b.instance_id in rejected:
            continue
        (amin, amax), (bmin, bmax) = boxes[a.instance_id], boxes[b.instance_id]
        if np.any(amax < bmin) or np.any(bmax < amin):
            continue
        overlap = (_manifold(a.solid, poses[a.instance_id]) ^ _manifold(b.solid, poses[b.instance_id])).volume()
        smaller = min(a.solid.volume, b.solid.volume)
        if overlap > max_penetration * smaller:
            loser = max(a.instance_id, b.instance_id)
            other = min(a.instance_id, b.instance_id)
            rejected[loser] = f"interpenetrates object {other} ({overlap / smaller:.1%} of the smaller volume)"
    return [Rejection(instance_id=i, reason=r) for i, r in sorted(rejected.items())]
