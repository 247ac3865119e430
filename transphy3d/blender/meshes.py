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


def set_matrix(obj: bpy.types.Object, matrix: np.ndarray) -> None:
    """Set an object's world matrix from a 4x4 numpy array (no parent)."""
    from mathutils import Matrix

    obj.matrix_world = Matrix([list(map(float, row)) for row in np.asarray(matrix)])
