"""The camera of a SceneSpec by pure computation: the orbit anchored on the settled objects,
the intrinsics and the per-frame world_to_camera. Shared by the renderer, the writer and the
tests, so all three see the same numbers."""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial import ConvexHull, QhullError

from transphy3d.geometry import camera as cam
from transphy3d.geometry.transforms import transform_points
from transphy3d.scene.meshes import object_mesh
from transphy3d.scene.spec import CameraPathSpec, SceneSpec

MIN_DISTANCE_RADII = 1.3  # the orbit never comes closer to the centre than this many bounding radii
FIT_STEPS = 12  # bisection steps of the just-fit distance (relative precision under 1 %)


def spec_intrinsics(spec: SceneSpec) -> np.ndarray:
    """The 3x3 K of the scene's camera at the render size."""
    r = spec.render
    return cam.intrinsics(r.width, r.height, spec.camera.focal_length_mm, spec.camera.sensor_width_mm)


def orbit(spec: SceneSpec, path: CameraPathSpec) -> cam.Orbit:
    """The camera orbit in metres, from the sampled camera and the anchored path."""
    c = spec.camera
    elevation = math.radians(c.elevation_deg)
    d = path.distance

    def wave(w, scale: float) -> cam.Wave:
        return cam.Wave(w.amplitude * scale, w.frequency, w.phase)

    return cam.Orbit(
        radius=d * math.cos(elevation),
        height=d * math.sin(elevation),
        start_azimuth=math.radians(c.start_azimuth_deg),
        sweep=math.radians(c.sweep_deg),
        direction=c.direction,
        radius_wave=wave(c.radius_wave, 1.0),
        height_wave=wave(c.height_wave, d),
        look_waves=tuple(wave(w, path.bound_radius) for w in c.look_waves),  # type: ignore[arg-type]
    )


def object_points(spec: SceneSpec, frame_poses: dict[int, np.ndarray] | None = None) -> np.ndarray:
    """World-space vertices of the convex hull of every object over all frames (for framing).

    Only the hull's vertices: a view frustum is convex, so the points are all in view exactly when
    these are, and their extent and farthest distance from any point are the same."""
    poses = frame_poses or spec.object_poses()
    points = []
    for obj in spec.objects:
        hull = object_mesh(obj).convex_hull.vertices
        frames = poses[obj.instance_id]
        for pose in frames[:: max(1, len(frames) // 8)] if len(frames) > 1 else frames:
            points.append(transform_points(pose, hull))
        points.append(transform_points(frames[-1], hull))
    if not points:
        return np.zeros((0, 3))
    return hull_vertices(np.concatenate(points))


def hull_vertices(points: np.ndarray) -> np.ndarray:
    """The points that are vertices of their convex hull (all of them when the hull is flat)."""
    try:
        return points[np.sort(ConvexHull(points).vertices)]
    except (QhullError, ValueError):  # fewer than 4 points, or all in a plane
        return points


def _fits(spec: SceneSpec, path: CameraPathSpec, points: np.ndarray, scale: float) -> bool:
    r = spec.render
    w2c = orbit(spec, path).world_to_camera(np.asarray(path.centre), r.frames, scale)
    return cam.points_in_view(spec_intrinsics(spec), w2c, points, r.width, r.height, spec.camera.keep_in_view_margin)


def anchor_camera_path(spec: SceneSpec) -> CameraPathSpec:
    """Centre the orbit on the settled objects and set its distance from what the camera sees:
    ``framing`` times the distance at which the objects' projected extent just fits the image
    (less ``keep_in_view_margin``) in every frame, never closer than MIN_DISTANCE_RADII bounding
    radii. ``distance_scale`` then widens the path where the waves still push an object out."""
    points = object_points(spec)
    if len(points) == 0:
        s = spec.environment.support
        points = np.array([[sum(s.x_range) / 2, sum(s.y_range) / 2, s.z]])
    lo, hi = points.min(axis=0), points.max(axis=0)
    centre = (lo + hi) / 2
    bound_radius = max(float(np.linalg.norm(points - centre, axis=1).max()), 0.02)
    r = spec.render
    K = spec_intrinsics(spec)
    half_fov = min(math.atan(r.width / 2 / K[0, 0]), math.atan(r.height / 2 / K[1, 1]))
    sphere_fit = bound_radius / math.sin(half_fov)  # the bounding sphere just fits: an upper bound
    unit = CameraPathSpec(
        centre=tuple(float(v) for v in centre), bound_radius=bound_radius, distance=sphere_fit, distance_scale=1.0
    )
    low, high = MIN_DISTANCE_RADII * bound_radius / sphere_fit, 1.0
    if _fits(spec, unit, points, low):
        high = low
    else:  # bisection on "the projected objects fit": false at ``low``, true (almost always) at 1
        while not _fits(spec, unit, points, high) and high < 4.0:
            high *= 1.25
        for _ in range(FIT_STEPS):
            middle = math.sqrt(low * high)
            low, high = (low, middle) if _fits(spec, unit, points, middle) else (middle, high)
    path = unit.model_copy(update={"distance": sphere_fit * high * spec.camera.framing})
    scale = cam.fit_distance_scale(
        orbit(spec, path), centre, points, K, r.width, r.height, r.frames, spec.camera.keep_in_view_margin
    )
    return path.model_copy(update={"distance_scale": float(scale)})


def spec_world_to_camera(spec: SceneSpec) -> np.ndarray:
    """(F, 4, 4) world_to_camera (OpenCV) of every rendered frame."""
    if spec.camera_path is None:
        raise ValueError("the camera path is anchored after physics; this spec has none yet")
    path = spec.camera_path
    return orbit(spec, path).world_to_camera(np.asarray(path.centre), spec.render.frames, path.distance_scale)
