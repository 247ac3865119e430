"""Write a starter asset as a .blend with its own material (glass or metal): the import path for
.blend files with materials is then exercised by the shipped bank."""

from __future__ import annotations

from pathlib import Path

import bpy
import trimesh

from transphy3d.blender.meshes import mesh_object
from transphy3d.blender.session import reset

OWN_MATERIALS = {
    "glass": {"Base Color": (0.92, 0.97, 1.0, 1.0), "Roughness": 0.02, "IOR": 1.5, "Transmission Weight": 1.0},
    "metal": {"Base Color": (0.9, 0.88, 0.85, 1.0), "Roughness": 0.15, "Metallic": 1.0},
}


def write_blend(parts: list[trimesh.Trimesh], material: str, path: str | Path) -> None:
    """One object per part (z up, metres), each with the ``material`` preset, saved to ``path``."""
    reset()
    scene = bpy.context.scene
    mat = bpy.data.materials.new(f"starter_{material}")
    mat.use_nodes = True
    bsdf = mat.node_tree.nodes["Principled BSDF"]
    for socket, value in OWN_MATERIALS[material].items():
        bsdf.inputs[socket].default_value = value
    objects = set()
    for index, part in enumerate(parts):
        obj = mesh_object(f"{Path(path).stem}_{index}", part, scene.collection, smooth=True)
        obj.data.materials.append(mat)
        objects.add(obj)
    bpy.data.libraries.write(str(path), objects, fake_user=True, compress=True)
