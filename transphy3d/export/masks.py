"""Binary masks of objects: COCO run-length encoding, boxes, and amodal silhouettes (the whole
object, occluded parts included) by ray casting each object's exported mesh alone, as
``transphy3d.output.oracle`` ray casts the scene."""

from __future__ import annotations

import numpy as np

from transphy3d.geometry.camera import invert_rigid, pixel_rays, project


def rle(mask: np.ndarray) -> dict:
    """COCO's compressed RLE of a binary (H, W) mask, with ``counts`` as a string (JSON-ready)."""
    from pycocotools import mask as coco_mask

    encoded = coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in encoded["size"]], "counts": encoded["counts"].decode("ascii")}


def bop_box(mask: np.ndarray) -> list[int]:
    """BOP's 2D box (x, y, w, h) of a mask, w and h as bop_toolkit's ``misc.calc_2d_bbox`` counts
    them (max - min); [-1, -1, -1, -1] for an empty mask."""
    ys, xs = np.nonzero(mask)
    if not len(xs):
        return [-1, -1, -1, -1]
    return [int(xs.min()), int(ys.min()), int(xs.max() - xs.min()), int(ys.max() - ys.min())]


def coco_box(mask: np.ndarray) -> list[int]:
    """COCO's box [x, y, w, h] of a non-empty mask, w and h in whole pixels (max - min + 1), as
    pycocotools' ``toBbox`` gives it."""
    ys, xs = np.nonzero(mask)
    return [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)]


class Silhouettes:
    """Amodal silhouettes of one scene's objects: the pixels whose centre ray hits the object's
    mesh, every other object ignored. Rays are cast in the object's own frame, so each mesh's
    intersector is built once per scene."""

    def __init__(self, K: np.ndarray, width: int, height: int):
        self.K = np.asarray(K, dtype=np.float64)
        self.width, self.height = width, height
        self.rays = pixel_rays(self.K, width, height)  # (H, W, 3), camera frame

    def _window(self, vertices: np.ndarray, object_to_camera: np.ndarray) -> tuple[slice, slice]:
        """The pixel rows and columns the mesh can cover (its projected vertices, 1 px margin); the
        whole image when a vertex lies behind the camera."""
        uv, z = project(self.K, object_to_camera, vertices)
        if np.any(z <= 0):
            return slice(0, self.height), slice(0, self.width)
        lo = np.floor(uv.min(axis=0)).astype(int) - 1
        hi = np.ceil(uv.max(axis=0)).astype(int) + 2
        return slice(max(lo[1], 0), min(hi[1], self.height)), slice(max(lo[0], 0), min(hi[0], self.width))

    def _rays(self, mesh, object_to_world: np.ndarray, world_to_camera: np.ndarray):
        """(rows, cols, origins, unit directions) of the pixels the mesh can cover, in its frame."""
        object_to_camera = world_to_camera @ object_to_world
        rows, cols = self._window(np.asarray(mesh.vertices), object_to_camera)
        camera_to_object = invert_rigid(object_to_camera)
        directions = self.rays[rows, cols].reshape(-1, 3) @ camera_to_object[:3, :3].T
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        origins = np.broadcast_to(camera_to_object[:3, 3], directions.shape).copy()
        return rows, cols, origins, directions

    def mask(self, mesh, object_to_world: np.ndarray, world_to_camera: np.ndarray) -> np.ndarray:
        """(H, W) bool: the object's whole silhouette in this view."""
        out = np.zeros((self.height, self.width), dtype=bool)
        rows, cols, origins, directions = self._rays(mesh, object_to_world, world_to_camera)
        if len(origins):
            out[rows, cols] = mesh.ray.intersects_any(origins, directions).reshape(out[rows, cols].shape)
        return out

    def distance(self, mesh, object_to_world: np.ndarray, world_to_camera: np.ndarray) -> np.ndarray:
        """(H, W) distance along each pixel's centre ray to the mesh's first hit (inf: a miss)."""
        out = np.full((self.height, self.width), np.inf)
        rows, cols, origins, directions = self._rays(mesh, object_to_world, world_to_camera)
        if not len(origins):
            return out
        locations, ray, _ = mesh.ray.intersects_location(origins, directions, multiple_hits=False)
        window = np.full(len(origins), np.inf)
        window[ray] = np.linalg.norm(locations - origins[ray], axis=1)
        out[rows, cols] = window.reshape(out[rows, cols].shape)
        return out
