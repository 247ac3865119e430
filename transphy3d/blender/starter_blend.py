"""Write a starter asset as a .blend with its own material (glass or metal): the import path for
.blend files with materials is then exercised by the shipped bank."""

from __future__ import annotations

from pathlib import Path

import bpy
import trimesh

from transphy3d.blender.materials import new_principled_material
from transphy3d.blender.meshes import mesh_object
from transphy3d.blender.session import reset

OWN_MATERIALS = {
    "glass": {"base_color": (0.92, 0.97, 1.0), "roughness": 0.02, "ior": 1.5, "transmission": 1.0},
    "metal": {"base_color": (0.9, 0.88, 0.85), "roughness": 0.15, "metallic": 1.0},
}


def write_blend(parts: list[trimesh.Trimesh], material: str, path: str | Path) -> None:
    """One object per part (z up, metres), each with the ``material`` preset, saved to ``path``."""
    reset()
    scene = bpy.context.scene
    mat = new_principled_material(f"starter_{material}", OWN_MATERIALS[material])
    objects = set()
    for index, part in enumerate(parts):
        obj = mesh_object(f"{Path(path).stem}_{index}", part, scene.collection, smooth=True)
        obj.data.materials.append(mat)
        objects.add(obj)
    bpy.data.libraries.write(str(path), objects, fake_user=True, compress=True)
