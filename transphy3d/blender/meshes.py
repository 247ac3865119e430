"""trimesh meshes into Blender objects."""

from __future__ import annotations

import math

import bpy
import numpy as np
import trimesh

SMOOTH_ANGLE_DEG = 30.0


def mesh_object(
    name: str, mesh: trimesh.Trimesh, collection: bpy.types.Collection, smooth: bool = True
) -> bpy.types.Object:
    """A new object with ``mesh`` (object frame), shaded smooth with sharp edges above 30 degrees
    (flat faces keep their exact face normal)."""
    data = bpy.data.meshes.new(name)
    data.from_pydata(np.asarray(mesh.vertices, dtype=np.float64), [], np.asarray(mesh.faces, dtype=np.int64))
    data.update()
    obj = bpy.data.objects.new(name, data)
    collection.objects.link(obj)
    if smooth:
        data.shade_smooth()
        with bpy.context.temp_override(
            object=obj, active_object=obj, selected_objects=[obj], selected_editable_objects=[obj]
        ):
            bpy.ops.object.shade_smooth_by_angle(angle=math.radians(SMOOTH_ANGLE_DEG))
    return obj


def asset_object(
    name: str, mesh: trimesh.Trimesh, blend_path: str, collection: bpy.types.Collection
) -> bpy.types.Object:
    """The canonical object of an asset's ``.blend`` (its own materials, UVs, per-face material
    slots) with its vertices moved to ``mesh`` (the scaled, centred canonical mesh: same vertex
    and face order), shaded like ``mesh_object``. The rendered geometry is exactly ``mesh``."""
    from transphy3d.blender.asset_import import CANONICAL_OBJECT

    with bpy.data.libraries.load(blend_path, link=False) as (data_from, data_to):
        if CANONICAL_OBJECT not in data_from.objects:
            raise RuntimeError(f"{blend_path}: no object {CANONICAL_OBJECT!r} (not made by `assets import`)")
        data_to.objects = [CANONICAL_OBJECT]
    obj = data_to.objects[0]
    obj.name = name
    data = obj.data
    faces = np.empty(len(data.polygons) * 3, dtype=np.int64)
    if len(data.vertices) != len(mesh.vertices) or len(data.polygons) != len(mesh.faces):
        raise RuntimeError(f"{blend_path}: its mesh differs from the canonical mesh (vertex or face count)")
    data.polygons.foreach_get("vertices", faces)
    if not np.array_equal(faces.reshape(-1, 3), np.asarray(mesh.faces)):
        raise RuntimeError(f"{blend_path}: its faces differ from the canonical mesh")
    data.vertices.foreach_set("co", np.asarray(mesh.vertices, dtype=np.float32).ravel())
    data.update()
    collection.objects.link(obj)
    obj.parent = None
    obj.matrix_world = ((1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1))
    data.shade_smooth()
    with bpy.context.temp_override(
        object=obj, active_object=obj, selected_objects=[obj], selected_editable_objects=[obj]
    ):
        bpy.ops.object.shade_smooth_by_angle(angle=math.radians(SMOOTH_ANGLE_DEG))
    return obj


def set_matrix(obj: bpy.types.Object, matrix: np.ndarray) -> None:
    """Set an object's world matrix from a 4x4 numpy array (no parent)."""
    from mathutils import Matrix

    obj.matrix_world = Matrix([list(map(float, row)) for row in np.asarray(matrix)])
