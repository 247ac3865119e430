"""Can the camera see the objects? Before anything is rendered, the settled scene (objects and
the environment's table, legs and bin) is ray cast at low resolution along the camera path, and
each (object, frame) pair counts as visible when the object's first-hit pixels reach
VISIBLE_SHARE of the image, the same measure the report counts on the rendered masks. When the
environment hides the objects, the pre-drawn camera alternatives of the spec are tried in turn
and the first that passes (or else the best) is kept. Room walls stand beyond the camera path,
so they cannot hide an object and are left out."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import trimesh

from transphy3d.geometry import camera as cam
from transphy3d.geometry.transforms import transform_points
from transphy3d.scene.camera_path import MIN_DISTANCE_RADII, anchor_camera_path, spec_world_to_camera
from transphy3d.scene.environment import part_mesh, part_pose
from transphy3d.scene.meshes import object_mesh
from transphy3d.scene.spec import CameraAlternative, CameraCheck, SceneSpec

# An object is visible in a frame when its mask covers at least this share of the image
# (4 pixels at 104x60, 200 at 832x480): a few stray pixels do not make an object seen.
VISIBLE_SHARE = 5e-4
CHECK_WIDTH = 128  # pixels across the ray-cast image (the height keeps the render's aspect)
CHECK_FRAMES = 16  # frames checked, spread evenly over the clip (first and last included)
APPROACH_STEPS = 8  # bisection steps of the distance that fills ``camera.fill`` of the image


def visible(pixels: int | np.ndarray, image_pixels: int) -> bool | np.ndarray:
    """Whether ``pixels`` mask pixels of an object in an image of ``image_pixels`` make it visible."""
    return np.asarray(pixels) >= VISIBLE_SHARE * image_pixels


def check_frames(frames: int) -> np.ndarray:
    """The frame indices the check looks at."""
    return np.unique(np.linspace(0, frames - 1, min(frames, CHECK_FRAMES)).round().astype(int))


# A first-hit ray caster built for one mesh: (origins, unit directions) -> the index of the
# triangle each ray hits first, -1 for a miss.
FirstHit = Callable[[np.ndarray, np.ndarray], np.ndarray]


def trimesh_first_hit(mesh: trimesh.Trimesh) -> FirstHit:
    """trimesh's ray casting: fast with Embree (``embreex``), very slow without it (the renderer
    then casts with Blender's BVH tree, ``transphy3d.blender.raycast``)."""
    return mesh.ray.intersects_first


class SceneRays:
    """The settled scene's triangles with the instance id of each (0: environment), per frame
    when the fall is rendered, built once and cast from any camera with ``caster``."""

    def __init__(
        self, spec: SceneSpec, frames: np.ndarray, caster: Callable[[trimesh.Trimesh], FirstHit] = trimesh_first_hit
    ):
        meshes = {o.instance_id: object_mesh(o) for o in spec.objects}
        poses = spec.object_poses()
        environment = []
        for part in spec.environment.parts:
            mesh = part_mesh(part)
            environment.append(trimesh.Trimesh(transform_points(part_pose(part), mesh.vertices), mesh.faces))
        moving = any(o.trajectory for o in spec.objects)
        self.instance_ids = np.array([o.instance_id for o in spec.objects], dtype=np.int64)
        self._scenes: dict[int, tuple[FirstHit, np.ndarray]] = {}
        for frame in frames if moving else frames[:1]:
            parts = list(environment)
            ids = [np.zeros(len(m.faces), dtype=np.int64) for m in environment]
            for instance_id, mesh in meshes.items():
                parts.append(trimesh.Trimesh(transform_points(poses[instance_id][frame], mesh.vertices), mesh.faces))
                ids.append(np.full(len(mesh.faces), instance_id, dtype=np.int64))
            self._scenes[int(frame)] = (caster(trimesh.util.concatenate(parts)), np.concatenate(ids))
        self._moving = moving

    def pixel_counts(
        self, K: np.ndarray, world_to_camera: np.ndarray, width: int, height: int, frame: int
    ) -> np.ndarray:
        """First-hit pixels of each object (in ``instance_ids`` order) seen by one camera."""
        first_hit, face_ids = self._scenes[frame] if self._moving else next(iter(self._scenes.values()))
        c2w = cam.invert_rigid(world_to_camera)
        directions = cam.pixel_rays(K, width, height).reshape(-1, 3) @ c2w[:3, :3].T
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        origins = np.broadcast_to(c2w[:3, 3], directions.shape).copy()
        triangles = np.asarray(first_hit(origins, directions))
        hits = face_ids[triangles[triangles >= 0]]
        counts = np.bincount(hits, minlength=int(self.instance_ids.max(initial=0)) + 1)
        return counts[self.instance_ids]


def check_camera(spec: SceneSpec, rays: SceneRays, frames: np.ndarray, camera: int = 0) -> CameraCheck:
    """The visibility of ``spec``'s objects from its anchored camera path."""
    r = spec.render
    width = min(CHECK_WIDTH, r.width)
    height = max(1, round(width * r.height / r.width))
    K = cam.intrinsics(width, height, spec.camera.focal_length_mm, spec.camera.sensor_width_mm)
    w2c = spec_world_to_camera(spec)
    counts = np.array([rays.pixel_counts(K, w2c[f], width, height, int(f)) for f in frames])
    counts = counts.reshape(len(frames), len(rays.instance_ids))
    seen = visible(counts, width * height)
    pairs = float(seen.mean()) if seen.size else 1.0
    empty = int((~seen.any(axis=1)).sum()) if seen.size else 0
    return CameraCheck(
        camera=camera,
        visible_pairs=pairs,
        frames_without_visible_object=empty,
        object_share=round(float(np.median(counts.sum(axis=1))) / (width * height), 5),
        passed=pairs >= spec.camera.min_visible_pairs and empty == 0,
    )


def with_camera(spec: SceneSpec, alternative: CameraAlternative) -> SceneSpec:
    """``spec`` seen from ``alternative`` (elevation, start azimuth, framing), its path anchored again."""
    camera = spec.camera.model_copy(update=alternative.model_dump())
    moved = spec.model_copy(update={"camera": camera})
    return moved.model_copy(update={"camera_path": anchor_camera_path(moved)})


def approach(spec: SceneSpec, rays: SceneRays, frames: np.ndarray, check: CameraCheck) -> tuple[SceneSpec, CameraCheck]:
    """Bring the camera closer along its orbit until the objects cover ``camera.fill`` of the
    image (the median over the checked frames), as long as the check still passes and the
    camera stays MIN_DISTANCE_RADII bounding radii away: objects at the edges may then leave
    the frame now and then, the way a hand-held camera crops them. Bisection on the distance."""
    path = spec.camera_path
    fill = spec.camera.fill
    if fill <= 0 or check.object_share >= fill or not check.passed:
        return spec, check

    def closer(scale: float) -> tuple[SceneSpec, CameraCheck]:
        moved = spec.model_copy(update={"camera_path": path.model_copy(update={"distance": path.distance * scale})})
        return moved, check_camera(moved, rays, frames, camera=check.camera)

    def short(result: CameraCheck) -> bool:  # still passes and still short of the fill
        return result.passed and result.object_share < fill

    low = min(1.0, MIN_DISTANCE_RADII * path.bound_radius / (path.distance * path.distance_scale))
    best = closer(low)
    if short(best[1]):
        return best
    best, high = (spec, check), 1.0  # short at ``high``, not at ``low``
    for _ in range(APPROACH_STEPS):
        middle = math.sqrt(low * high)
        result = closer(middle)
        if short(result[1]):
            best, high = result, middle
        else:
            low = middle
    return best


def choose_camera(spec: SceneSpec, caster: Callable[[trimesh.Trimesh], FirstHit] = trimesh_first_hit) -> SceneSpec:
    """The settled ``spec`` with its path anchored on the first camera (the sampled one, then
    the alternatives) from which the objects are visible, or the best one when none passes,
    brought closer to fill ``camera.fill`` of the image (``approach``), and the check's figures
    in ``camera_check``. A spec without a check (``min_visible_pairs`` 0) only gets its path
    anchored."""
    spec = spec.model_copy(update={"camera_path": anchor_camera_path(spec)})
    if spec.camera.min_visible_pairs <= 0 or not spec.objects:
        return spec
    frames = check_frames(spec.render.frames)
    rays = SceneRays(spec, frames, caster)
    best, best_check = spec, check_camera(spec, rays, frames)
    for index, alternative in enumerate(spec.camera.alternatives, start=1):
        if best_check.passed:
            break
        candidate = with_camera(spec, alternative)
        check = check_camera(candidate, rays, frames, camera=index)
        key = (check.frames_without_visible_object, -check.visible_pairs)
        if check.passed or key < (best_check.frames_without_visible_object, -best_check.visible_pairs):
            best, best_check = candidate, check
    best, best_check = approach(best, rays, frames, best_check)
    return best.model_copy(update={"camera_check": best_check})
