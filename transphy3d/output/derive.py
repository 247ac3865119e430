"""The channels computed from a frame's data pass (Cycles' ``Depth.Z``, world ``Normal`` and
``IndexOB`` at the pixel centres): one function per channel. Each takes the scene's geometry, the
frame, the data pass and the arrays of the channels it needs (``Step.needs`` in the channel
table), and returns its array, or None where the channel has no file for that frame."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from transphy3d.geometry.camera import invert_rigid, pixel_rays, unproject
from transphy3d.geometry.flow import forward_flow, object_motions
from transphy3d.scene.camera_path import spec_intrinsics, spec_world_to_camera
from transphy3d.scene.meshes import object_mesh
from transphy3d.scene.spec import SceneSpec

NO_HIT_DEPTH = 1e9  # Cycles writes 1e10 where a camera ray escapes
Passes = dict[str, np.ndarray]


@dataclass
class SceneGeometry:
    """What the derivations need of a scene besides the passes: camera and object poses per frame,
    and each object's mesh box (computed only when a channel asks for it)."""

    spec: SceneSpec
    K: np.ndarray = field(init=False)
    world_to_camera: np.ndarray = field(init=False)  # (F, 4, 4)
    poses: dict[int, np.ndarray] = field(init=False)  # instance id -> (F, 4, 4) object_to_world

    def __post_init__(self) -> None:
        self.K = spec_intrinsics(self.spec)
        self.world_to_camera = spec_world_to_camera(self.spec)
        self.poses = self.spec.object_poses()

    @property
    def num_frames(self) -> int:
        return self.spec.render.frames

    @cached_property
    def mesh_boxes(self) -> dict[int, tuple[np.ndarray, float]]:
        """Instance id -> (centre, diagonal length) of the axis-aligned bounding box of the object's
        exported mesh, in the object's frame (metres)."""
        return {obj.instance_id: mesh_box(object_mesh(obj).vertices) for obj in self.spec.objects}


def mesh_box(vertices: np.ndarray) -> tuple[np.ndarray, float]:
    """(centre, diagonal length) of the axis-aligned bounding box of ``vertices`` (N, 3)."""
    vertices = np.asarray(vertices, dtype=np.float64)
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    return (lo + hi) / 2.0, float(np.linalg.norm(hi - lo))


def _hit(passes: Passes) -> np.ndarray:
    z = passes["Depth.Z"]
    return np.isfinite(z) & (z > 0) & (z < NO_HIT_DEPTH)


def depth(scene: SceneGeometry, frame: int, passes: Passes) -> np.ndarray:
    """Planar depth in metres, 0 where the camera ray escaped."""
    return np.where(_hit(passes), passes["Depth.Z"].astype(np.float32), 0.0).astype(np.float32)


def normal(scene: SceneGeometry, frame: int, passes: Passes, depth: np.ndarray) -> np.ndarray:
    """Unit normals in the camera frame, turned to face the camera; 0 where nothing was hit."""
    hit = depth > 0
    normal_world = np.stack([passes["Normal.X"], passes["Normal.Y"], passes["Normal.Z"]], axis=-1).astype(np.float64)
    normal = normal_world @ scene.world_to_camera[frame][:3, :3].T
    rays = pixel_rays(scene.K, depth.shape[1], depth.shape[0])
    facing = np.sum(normal * rays, axis=-1) > 0
    normal[facing] *= -1
    length = np.linalg.norm(normal, axis=-1, keepdims=True)
    normal = np.where((length > 1e-6) & hit[..., None], normal / np.maximum(length, 1e-12), 0.0)
    return normal.astype(np.float32)


# A liquid's Cycles object index is its container's instance id plus this (Blender's pass index
# stops at 32767): the data pass tells liquid pixels apart, the mask gives them the container's id.
LIQUID_INDEX_OFFSET = 16384


def _object_index(passes: Passes, depth: np.ndarray) -> np.ndarray:
    return np.where(depth > 0, np.rint(passes["IndexOB.X"]), 0).astype(np.int64)


def instance_mask(scene: SceneGeometry, frame: int, passes: Passes, depth: np.ndarray) -> np.ndarray:
    """uint16 instance ids (Cycles' object index; a liquid's is its container's), 0 where nothing
    was hit."""
    index = _object_index(passes, depth)
    return np.where(index >= LIQUID_INDEX_OFFSET, index - LIQUID_INDEX_OFFSET, index).astype(np.uint16)


def liquid_pixels(passes: Passes, depth: np.ndarray) -> np.ndarray:
    """Pixels whose first surface is a liquid's."""
    return _object_index(passes, depth) >= LIQUID_INDEX_OFFSET


def flow(scene: SceneGeometry, frame: int, passes: Passes, depth: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    """Forward optical flow to the next frame; None for the last frame."""
    if frame + 1 >= scene.num_frames:
        return None
    w2c = scene.world_to_camera
    return forward_flow(depth, mask, scene.K, w2c[frame], w2c[frame + 1], object_motions(scene.poses, frame))


def nocs(scene: SceneGeometry, frame: int, passes: Passes, depth: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Normalized object coordinates of the surface seen at each pixel centre: the point in the
    frame of the object's exported mesh, ``(p - c) / L + 0.5`` with c the centre and L the
    diagonal of the mesh's axis-aligned box; 0 where no object is seen."""
    out = np.zeros((*depth.shape, 3), dtype=np.float64)
    ids = [i for i in np.unique(mask).tolist() if i in scene.poses]
    if not ids:
        return out.astype(np.float32)
    camera_points = unproject(depth, scene.K)
    world = camera_points @ invert_rigid(scene.world_to_camera[frame])[:3, :3].T
    world += invert_rigid(scene.world_to_camera[frame])[:3, 3]
    for instance_id in ids:
        seen = mask == instance_id
        world_to_object = invert_rigid(scene.poses[instance_id][frame])
        points = world[seen] @ world_to_object[:3, :3].T + world_to_object[:3, 3]
        centre, diagonal = scene.mesh_boxes[instance_id]
        out[seen] = (points - centre) / diagonal + 0.5
    return out.astype(np.float32)
