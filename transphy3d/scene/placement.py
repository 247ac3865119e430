"""Where objects start their fall, and whether their resting poses are acceptable (pure Python)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import manifold3d as mf
import numpy as np
import trimesh

from transphy3d.geometry.transforms import matrix_to_quaternion, pose_matrix, random_quaternion, transform_points
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


MIN_TIPPING_DEG = 12.0  # a set-down object must tilt this far before it falls (4x the largest tilt)
CONTACT_BAND = 0.002  # metres: the vertices this close to the end it stands on carry it


def tipping_angle_deg(mesh: trimesh.Trimesh, upside_down: bool) -> float:
    """How far an object standing on its base (or top) tilts before it falls over: the angle
    whose tangent is the radius of the ring it stands on over the height of its centre of mass
    (a bottle on its neck: about 5 degrees; a cup on its rim: 30 and more)."""
    vertices = mesh.vertices * (-1.0 if upside_down else 1.0)  # the end it stands on at the bottom
    centre = (mesh.center_mass if mesh.is_watertight else mesh.bounds.mean(axis=0)) * (-1.0 if upside_down else 1.0)
    bottom = vertices[:, 2].min()
    ring = vertices[vertices[:, 2] <= bottom + CONTACT_BAND]
    radius = float(np.linalg.norm(ring[:, :2] - centre[:2], axis=1).max())
    return float(np.degrees(np.arctan2(radius, max(centre[2] - bottom, 1e-6))))


def stable_rest_pose(mesh: trimesh.Trimesh, asked: RestPose) -> RestPose:
    """``asked``, or what the object can do instead: upside down -> upright -> dropped, where it
    would tip over at less than MIN_TIPPING_DEG."""
    if asked == "upside_down" and tipping_angle_deg(mesh, upside_down=True) >= MIN_TIPPING_DEG:
        return asked
    if asked != "random" and tipping_angle_deg(mesh, upside_down=False) >= MIN_TIPPING_DEG:
        return "upright"
    return "random"


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


@dataclass(frozen=True)
class Footprint:
    """The space a placed body takes: a vertical cylinder around its world vertices."""

    centre: np.ndarray  # (2,) x/y
    radius: float
    z_low: float
    z_high: float

    @classmethod
    def of(cls, vertices: np.ndarray) -> Footprint:
        lo, hi = vertices.min(axis=0), vertices.max(axis=0)
        centre = (lo[:2] + hi[:2]) / 2
        radius = float(np.linalg.norm(vertices[:, :2] - centre, axis=1).max())
        return cls(centre, radius, float(lo[2]), float(hi[2]))

    def clashes(self, other: Footprint) -> bool:
        """Whether the two cylinders overlap."""
        apart = np.linalg.norm(self.centre - other.centre) >= self.radius + other.radius
        return not apart and self.z_low < other.z_high and other.z_low < self.z_high


def footprint(body: Body, pose: Pose) -> Footprint:
    """Where ``body`` stands in ``pose``."""
    return Footprint.of(transform_points(pose.matrix(), body.mesh.vertices))


def drop_pose(
    body: Body,
    support: SupportSpec,
    drop_height: float,
    placed: list[Footprint],
    rng: np.random.Generator,
    tries: int = 64,
    rest_pose: RestPose = "random",
) -> Pose:
    """A start pose above the support. ``random``: a uniformly random rotation, the lowest point
    ``drop_height`` above the surface. ``upright``/``upside_down``: stood on its base or top
    (``standing_rotation``), the lowest point at most PLACE_HEIGHT above it. x/y is uniform over
    the drop region (shrunk by the footprint's radius); of up to ``tries`` draws the first whose
    footprint clears every body placed so far (``placed``, extended here) is taken, else the one
    needing the least lift, raised just above the bodies it would touch (and so dropped)."""
    if rest_pose == "random":
        rotation, lift = _random_rotation(rng), drop_height
    else:
        rotation, lift = standing_rotation(rng, upside_down=rest_pose == "upside_down"), min(drop_height, PLACE_HEIGHT)
    turned = body.mesh.vertices @ rotation.T
    shape = Footprint.of(turned)  # centred on the body's origin
    base_z = support.z + lift - shape.z_low
    best_xy, best_z = None, np.inf
    for _ in range(tries):
        xy = np.empty(2)
        for axis, (lo, hi) in enumerate((support.drop_x_range, support.drop_y_range)):
            centre, half = (lo + hi) / 2, max((hi - lo) / 2 - shape.radius, 0.0)
            xy[axis] = centre + rng.uniform(-half, half) - shape.centre[axis]
        z = base_z
        for _ in range(len(placed) + 1):  # raising the body may make it touch a higher one
            here = Footprint(xy + shape.centre, shape.radius, z + shape.z_low, z + shape.z_high)
            touching = [other.z_high for other in placed if here.clashes(other)]
            if not touching:
                break
            z = max(touching) + 0.005 - shape.z_low
        if z < best_z:
            best_xy, best_z = xy, z
        if z == base_z:
            break
    position = np.array([best_xy[0], best_xy[1], best_z])
    placed.append(Footprint(best_xy + shape.centre, shape.radius, best_z + shape.z_low, best_z + shape.z_high))
    quaternion = matrix_to_quaternion(rotation)
    return Pose(position=tuple(float(v) for v in position), quaternion=tuple(float(v) for v in quaternion))


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    return pose_matrix(np.zeros(3), random_quaternion(rng))[:3, :3]


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
