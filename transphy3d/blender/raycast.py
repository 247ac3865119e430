"""First-hit ray casting for the visibility check before rendering: Embree through trimesh where
``embreex`` is installed (x86-64), else Blender's BVH tree (``mathutils.bvhtree``), there wherever
bpy is and about 10x slower (one Python call per ray); both hit the same triangles."""

from __future__ import annotations

import bpy  # noqa: F401  (mathutils is importable once bpy is)
import numpy as np
import trimesh
from mathutils import Vector
from mathutils.bvhtree import BVHTree

from transphy3d.scene.visibility import FirstHit, trimesh_first_hit


def bvh_first_hit(mesh: trimesh.Trimesh) -> FirstHit:
    """A caster for ``mesh`` (triangle indices of ``mesh.faces``, -1 for a miss)."""
    tree = BVHTree.FromPolygons(mesh.vertices.tolist(), mesh.faces.tolist(), all_triangles=True)

    def first_hit(origins: np.ndarray, directions: np.ndarray) -> np.ndarray:
        cast = tree.ray_cast
        hits = [cast(Vector(o), Vector(d))[2] for o, d in zip(origins.tolist(), directions.tolist(), strict=True)]
        return np.array([-1 if h is None else h for h in hits], dtype=np.int64)

    return first_hit


def fastest_first_hit(mesh: trimesh.Trimesh) -> FirstHit:
    """Embree's caster when trimesh has it, else Blender's."""
    return trimesh_first_hit(mesh) if trimesh.ray.has_embree else bvh_first_hit(mesh)
