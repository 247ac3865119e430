"""Warnings for what artists get wrong, computed from a rendered preview (masks, objects.json,
meshes, camera): objects out of view or hidden, the camera inside an object, all objects of one
material, nothing transparent in view. Pure numpy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from transphy3d.geometry.camera import invert_rigid, project
from transphy3d.scene.visibility import visible

# Three fixed, generic ray directions for the inside test (majority vote of ray parities).
_RAY_DIRECTIONS = np.array([[0.5773, 0.5774, 0.5775], [-0.8017, 0.2672, 0.5345], [0.2182, -0.8729, -0.4364]])


@dataclass(frozen=True)
class Solid:
    """An object or environment part: a closed mesh in its own frame (the preview passes convex
    hulls) and per-frame object_to_world."""

    instance_id: int  # 0 for environment parts
    name: str
    material_class: str
    transparent: bool
    vertices: np.ndarray  # (V, 3)
    faces: np.ndarray  # (T, 3)
    poses: np.ndarray  # (F, 4, 4) for every frame of the path

    @property
    def label(self) -> str:
        return f"{self.name} ({self.material_class})" if self.material_class else self.name


def _frames_text(frames: Sequence[int]) -> str:
    return "frame " + str(frames[0]) if len(frames) == 1 else "frames " + ", ".join(str(f) for f in frames)


def _ray_hits(origin: np.ndarray, direction: np.ndarray, triangles: np.ndarray) -> int:
    """Number of triangles (T, 3, 3) a ray crosses at t > 0 (Moller-Trumbore)."""
    v0, e1, e2 = triangles[:, 0], triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0]
    p = np.cross(direction, e2)
    det = np.einsum("ij,ij->i", e1, p)
    ok = np.abs(det) > 1e-12
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    s = origin - v0
    u = np.einsum("ij,ij->i", s, p) * inv
    q = np.cross(s, e1)
    v = (q @ direction) * inv
    t = np.einsum("ij,ij->i", e2, q) * inv
    return int(np.count_nonzero(ok & (u >= 0) & (v >= 0) & (u + v <= 1) & (t > 1e-9)))


def point_inside(point: np.ndarray, vertices: np.ndarray, faces: np.ndarray) -> bool:
    """True if ``point`` lies inside the closed mesh (ray parity, majority of three rays)."""
    point = np.asarray(point, dtype=np.float64)
    vertices = np.asarray(vertices, dtype=np.float64)
    if len(faces) == 0 or np.any(point < vertices.min(axis=0)) or np.any(point > vertices.max(axis=0)):
        return False
    triangles = vertices[np.asarray(faces)]
    votes = sum(_ray_hits(point, d / np.linalg.norm(d), triangles) % 2 for d in _RAY_DIRECTIONS)
    return votes >= 2


def camera_inside_warnings(solids: Sequence[Solid], world_to_camera: np.ndarray, frames: Sequence[int]) -> list[str]:
    """The camera centre inside an object or environment part in any previewed frame."""
    eyes = invert_rigid(np.asarray(world_to_camera, dtype=np.float64))[:, :3, 3]
    out = []
    for solid in solids:
        inside = []
        for frame in frames:
            to_object = invert_rigid(solid.poses[frame])
            local = to_object[:3, :3] @ eyes[frame] + to_object[:3, 3]
            if point_inside(local, solid.vertices, solid.faces):
                inside.append(frame)
        if inside:
            out.append(f"the camera is inside {solid.label} in {_frames_text(inside)}")
    return out


def view_fractions(
    solid: Solid, K: np.ndarray, world_to_camera: np.ndarray, frames: Sequence[int], width: int, height: int
) -> list[float]:
    """Per previewed frame, the fraction of the solid's vertices that project into the image
    (in front of the camera)."""
    out = []
    for frame in frames:
        points = solid.vertices @ solid.poses[frame][:3, :3].T + solid.poses[frame][:3, 3]
        uv, z = project(K, world_to_camera[frame], points)
        inside = (
            (z > 0) & (uv[:, 0] >= -0.5) & (uv[:, 0] <= width - 0.5) & (uv[:, 1] >= -0.5) & (uv[:, 1] <= height - 0.5)
        )
        out.append(float(inside.mean()) if len(inside) else 0.0)
    return out


def visibility_warnings(
    objects: Sequence[Solid],
    masks: Sequence[np.ndarray],
    K: np.ndarray,
    world_to_camera: np.ndarray,
    frames: Sequence[int],
    whole_in_view: bool = True,
) -> list[str]:
    """Objects never visible in the previewed frames (out of view, or hidden), objects visible
    in only some of them, and, when the config keeps objects ``whole_in_view`` (``camera.fill``
    0), objects cut by the image border. Visible: as in the data-quality figures
    (``transphy3d.output.quality.visible``)."""
    height, width = np.asarray(masks[0]).shape
    out = []
    for obj in objects:
        fractions = view_fractions(obj, K, world_to_camera, frames, width, height)
        shown = [
            f
            for f, m in zip(frames, masks, strict=True)
            if visible(np.count_nonzero(np.asarray(m) == obj.instance_id), m.size)
        ]
        if not shown:
            where = "out of view" if max(fractions) == 0 else "hidden (by other objects or the environment)"
            out.append(f"{obj.label} is {where} in every previewed frame")
            continue
        if len(shown) < len(frames):
            missing = [f for f in frames if f not in shown]
            out.append(f"{obj.label} cannot be seen in {_frames_text(missing)}")
        cut = [f for f, fraction in zip(frames, fractions, strict=True) if fraction < 1.0]
        if cut and whole_in_view:
            out.append(f"{obj.label} is partly out of view in {_frames_text(cut)}")
    return out


def material_warnings(objects: Sequence[Solid], masks: Sequence[np.ndarray]) -> list[str]:
    """All objects of one material class; no transparent object in view."""
    out = []
    classes = {o.material_class for o in objects}
    if len(objects) >= 2 and len(classes) == 1:
        out.append(f"all {len(objects)} objects are {classes.pop()} (objects.materials)")
    transparent = [o.instance_id for o in objects if o.transparent]
    if not transparent:
        out.append("no transparent object in the scene (objects.materials drew none)")
    elif not any(np.isin(np.asarray(m), transparent).any() for m in masks):
        out.append("no transparent object is visible in any previewed frame")
    return out


def preview_warnings(
    objects: Sequence[Solid],
    environment: Sequence[Solid],
    masks: Sequence[np.ndarray],
    K: np.ndarray,
    world_to_camera: np.ndarray,
    frames: Sequence[int],
    whole_in_view: bool = True,
) -> list[str]:
    """Every warning for one previewed scene; ``masks`` are the previewed frames' masks."""
    return (
        camera_inside_warnings([*objects, *environment], world_to_camera, frames)
        + visibility_warnings(objects, masks, K, world_to_camera, frames, whole_in_view)
        + material_warnings(objects, masks)
    )
