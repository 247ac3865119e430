"""An independent oracle for the ground truth: ray-cast the exported meshes with the exported
cameras and poses (trimesh, Embree when installed) and compare with the rendered depth, normals
and masks. Uses only the data contract (``transphy3d.output.reader``), never the renderer's code."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh

from transphy3d.geometry.camera import invert_rigid, pixel_rays
from transphy3d.output.reader import Scene

FLAT_TOLERANCE_DEG = 1.0
SHARP_ANGLE_DEG = 30.0  # the renderer shades smooth across edges below this angle


@dataclass
class OracleFrame:
    depth: np.ndarray  # (H, W) planar depth, 0 = miss
    normal: np.ndarray  # (H, W, 3) camera frame, facing the camera, 0 = miss
    instance: np.ndarray  # (H, W) instance id, 0 = environment or miss
    flat: np.ndarray  # (H, W) the hit face lies in a planar neighbourhood
    nocs: np.ndarray  # (H, W, 3) normalized object coordinates of the hit, 0 = environment or miss


def _flat_faces(mesh: trimesh.Trimesh) -> np.ndarray:
    """Faces whose vertices touch only faces parallel to them (within 1 degree) or across a
    sharp angle (30 degrees or more): there the shading normal equals the face normal."""
    normals = mesh.face_normals
    vertex_faces = mesh.vertex_faces  # (V, k), padded with -1
    flat = np.ones(len(mesh.faces), dtype=bool)
    cos_tol = np.cos(np.radians(FLAT_TOLERANCE_DEG))
    cos_sharp = np.cos(np.radians(SHARP_ANGLE_DEG + 0.5))
    for corner in range(3):
        neighbours = vertex_faces[mesh.faces[:, corner]]  # (F, k)
        valid = neighbours >= 0
        dots = np.einsum("fj,fkj->fk", normals, normals[np.where(valid, neighbours, 0)])
        flat &= np.all(~valid | (dots >= cos_tol) | (dots <= cos_sharp), axis=1)
    return flat


def _scene_mesh(scene: Scene, frame: int) -> tuple[trimesh.Trimesh, np.ndarray, np.ndarray, dict]:
    """The scene's meshes (liquids with their containers' ids) posed at ``frame`` as one mesh, each
    face's instance id and flatness, and per object the (centre, diagonal) of its exported mesh's
    axis-aligned box."""
    parts, instances, flats, boxes = [], [], [], {}
    for obj in [*scene.objects, *scene.environment]:
        mesh = obj.load_mesh()
        lo, hi = mesh.bounds
        boxes[obj.instance_id] = ((lo + hi) / 2.0, float(np.linalg.norm(hi - lo)))
        for part in (mesh, obj.load_liquid_mesh()):
            if part is None:
                continue
            flats.append(_flat_faces(part))
            part.apply_transform(obj.object_to_world[frame])
            parts.append(part)
            instances.append(np.full(len(part.faces), obj.instance_id, dtype=np.int64))
    combined = trimesh.util.concatenate(parts)
    return combined, np.concatenate(instances), np.concatenate(flats), boxes


def raycast(scene: Scene, frame: int) -> OracleFrame:
    """Depth, normals, instance ids and face flatness of frame ``frame`` by ray casting."""
    mesh, face_instance, face_flat, boxes = _scene_mesh(scene, frame)
    h, w = scene.height, scene.width
    c2w = invert_rigid(scene.world_to_camera[frame])
    rays_cam = pixel_rays(scene.K, w, h).reshape(-1, 3)
    directions = rays_cam @ c2w[:3, :3].T
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    origins = np.broadcast_to(c2w[:3, 3], directions.shape).copy()
    tri, ray, loc = mesh.ray.intersects_id(origins, directions, multiple_hits=False, return_locations=True)
    depth = np.zeros(h * w)
    normal = np.zeros((h * w, 3))
    instance = np.zeros(h * w, dtype=np.int64)
    flat = np.zeros(h * w, dtype=bool)
    w2c = scene.world_to_camera[frame]
    depth[ray] = (loc @ w2c[:3, :3].T + w2c[:3, 3])[:, 2]
    n = mesh.face_normals[tri] @ w2c[:3, :3].T
    n[np.sum(n * rays_cam[ray], axis=1) > 0] *= -1
    normal[ray] = n
    instance[ray] = face_instance[tri]
    flat[ray] = face_flat[tri]
    nocs = np.zeros((h * w, 3))
    for obj in scene.objects:
        hits = face_instance[tri] == obj.instance_id
        world_to_object = invert_rigid(obj.object_to_world[frame])
        local = loc[hits] @ world_to_object[:3, :3].T + world_to_object[:3, 3]
        centre, diagonal = boxes[obj.instance_id]
        nocs[ray[hits]] = (local - centre) / diagonal + 0.5
    return OracleFrame(
        depth.reshape(h, w), normal.reshape(h, w, 3), instance.reshape(h, w), flat.reshape(h, w), nocs.reshape(h, w, 3)
    )


def silhouettes(oracle: OracleFrame, relative_jump: float = 0.02) -> np.ndarray:
    """Pixels next to a change of instance, a hit/miss boundary or a depth jump (3x3)."""
    d, inst = oracle.depth, oracle.instance
    edge = np.zeros(d.shape, dtype=bool)
    h, w = d.shape
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy == dx == 0:
                continue
            shifted_d = np.full_like(d, np.nan)
            shifted_i = np.full_like(inst, -1)
            ys, yd = slice(max(dy, 0), h + min(dy, 0)), slice(max(-dy, 0), h + min(-dy, 0))
            xs, xd = slice(max(dx, 0), w + min(dx, 0)), slice(max(-dx, 0), w + min(-dx, 0))
            shifted_d[yd, xd] = d[ys, xs]
            shifted_i[yd, xd] = inst[ys, xs]
            jump = np.abs(shifted_d - d) > relative_jump * np.maximum(d, 1e-6)
            edge |= (shifted_i != inst) | ((shifted_d > 0) != (d > 0)) | jump
    return edge


@dataclass
class Agreement:
    """How well a rendered frame matches the oracle, away from silhouettes."""

    pixels: int
    depth_within_1mm: float  # fraction of surface pixels
    hit_agreement: float  # fraction of pixels where both agree on surface vs sky
    mask_agreement: float  # fraction of surface pixels with the same instance id
    flat_pixels: int
    normal_within_2deg: float  # fraction of flat-surface pixels
    max_depth_error_p99: float  # metres


def nocs_error(scene: Scene, frame: int) -> tuple[int, float]:
    """(pixels compared, largest absolute error) of the scene's ``nocs/`` against the oracle's on
    interior pixels (away from silhouettes) where both see the same object."""
    oracle = raycast(scene, frame)
    nocs, mask = scene.nocs(frame), scene.mask(frame)
    both = ~silhouettes(oracle) & (oracle.instance > 0) & (mask == oracle.instance)
    error = np.abs(nocs - oracle.nocs)[both]
    return int(both.sum()), float(error.max()) if error.size else 0.0


def compare(scene: Scene, frame: int) -> Agreement:
    oracle = raycast(scene, frame)
    interior = ~silhouettes(oracle)
    depth, normal, mask = scene.depth(frame), scene.normal(frame), scene.mask(frame)
    both = interior & (oracle.depth > 0) & (depth > 0)
    error = np.abs(depth - oracle.depth)[both]
    flat = both & oracle.flat
    cos = np.sum(normal * oracle.normal, axis=-1)[flat] / np.maximum(np.linalg.norm(normal[flat], axis=-1), 1e-9)
    return Agreement(
        pixels=int(both.sum()),
        depth_within_1mm=float(np.mean(error < 1e-3)) if error.size else 0.0,
        hit_agreement=float(np.mean(((oracle.depth > 0) == (depth > 0))[interior])),
        mask_agreement=float(np.mean(mask[both] == oracle.instance[both])) if both.any() else 0.0,
        flat_pixels=int(flat.sum()),
        normal_within_2deg=float(np.mean(cos > np.cos(np.radians(2.0)))) if flat.any() else 0.0,
        max_depth_error_p99=float(np.quantile(error, 0.99)) if error.size else 0.0,
    )
