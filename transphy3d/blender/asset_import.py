"""Import one asset file (.blend, .glb/.gltf, .obj, .ply) into Blender and convert it once into the
canonical form every later step uses: one triangulated mesh, z up, metres, transforms, parents,
instances and modifiers applied, loose vertices removed, custom normals cleared.

Writes ``mesh.ply`` (the geometry; the renderer and the exported ground truth both use it) and,
when the asset has materials, ``material.blend`` holding the same mesh with the same vertex and
face order plus its materials (textures packed).

Run as a worker (``python -m transphy3d.blender.asset_import REQUESTS.json RESULTS.jsonl``): the
results file gets one JSON line per request as soon as it is done, so the caller can tell which
file a crashed Blender was working on and restart after it.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import bpy
import numpy as np
import trimesh

from transphy3d.blender.session import reset

MESHLIKE = {"MESH", "CURVE", "SURFACE", "FONT", "META"}
CANONICAL_MESH = "mesh.ply"
CANONICAL_BLEND = "material.blend"
CANONICAL_OBJECT = "asset"


def _load(path: Path, fmt: str) -> None:
    """Bring the file's objects into the current (empty) scene; raises on unreadable files."""
    if fmt == "blend":
        with bpy.data.libraries.load(str(path), link=False) as (data_from, data_to):
            data_to.objects = list(data_from.objects)
        for obj in data_to.objects:
            if obj is not None:
                bpy.context.scene.collection.objects.link(obj)
    elif fmt in ("glb", "gltf"):
        bpy.ops.import_scene.gltf(filepath=str(path))
    elif fmt == "obj":
        bpy.ops.wm.obj_import(filepath=str(path))
    elif fmt == "ply":
        bpy.ops.wm.ply_import(filepath=str(path))
    else:
        raise ValueError(f"unsupported format {fmt!r}")


def _check_textures(source: Path) -> None:
    """Every image a material of the file uses must be there: packed, or a file that exists (an
    .obj's .mtl or a .blend can name textures that did not travel with it)."""
    for image in bpy.data.images:
        if image.source != "FILE" or image.packed_file is not None or not image.filepath:
            continue
        path = Path(bpy.path.abspath(image.filepath, start=str(source.parent)))
        if not path.is_file():
            raise ValueError(f"texture {image.name!r} not found: {path}")


def _mesh_copies(scene: bpy.types.Scene) -> list[bpy.types.Object]:
    """A world-space mesh object per rendered mesh instance (modifiers, parents, instancing applied)."""
    depsgraph = bpy.context.evaluated_depsgraph_get()
    copies = []
    for instance in depsgraph.object_instances:
        evaluated = instance.object
        original = evaluated.original
        if evaluated.type not in MESHLIKE or original.hide_render:
            continue
        data = bpy.data.meshes.new_from_object(evaluated, preserve_all_data_layers=True, depsgraph=depsgraph)
        if len(data.polygons) == 0:
            bpy.data.meshes.remove(data)
            continue
        matrix = instance.matrix_world.copy()
        data.transform(matrix)
        if matrix.to_3x3().determinant() < 0:
            data.flip_normals()
        copies.append(bpy.data.objects.new(f"part_{len(copies)}", data))
    return copies


def _join(parts: list[bpy.types.Object]) -> bpy.types.Object:
    """One object from ``parts`` (materials and UV maps merged by Blender's join)."""
    scene = bpy.data.scenes.new("canonical")
    for part in parts:
        scene.collection.objects.link(part)
    with bpy.context.temp_override(
        scene=scene,
        view_layer=scene.view_layers[0],
        active_object=parts[0],
        object=parts[0],
        selected_objects=parts,
        selected_editable_objects=parts,
    ):
        if len(parts) > 1:
            bpy.ops.object.join()
    joined = parts[0]
    joined.name = CANONICAL_OBJECT
    return joined


def _clean(obj: bpy.types.Object) -> None:
    """Triangulate, drop loose vertices and custom normals."""
    import bmesh  # importable only once bpy is

    mesh = obj.data
    bm = bmesh.new()
    bm.from_mesh(mesh)
    bmesh.ops.triangulate(bm, faces=bm.faces[:], quad_method="BEAUTY", ngon_method="BEAUTY")
    loose = [v for v in bm.verts if not v.link_faces]
    if loose:
        bmesh.ops.delete(bm, geom=loose, context="VERTS")
    bm.to_mesh(mesh)
    bm.free()
    if mesh.has_custom_normals:
        with bpy.context.temp_override(object=obj, active_object=obj):
            bpy.ops.mesh.customdata_custom_splitnormals_clear()
    mesh.update()


def mesh_arrays(mesh: bpy.types.Mesh) -> tuple[np.ndarray, np.ndarray]:
    """(V, 3) float64 vertices and (F, 3) int64 faces of a triangulated Blender mesh."""
    vertices = np.empty(len(mesh.vertices) * 3, dtype=np.float32)
    mesh.vertices.foreach_get("co", vertices)
    faces = np.empty(len(mesh.polygons) * 3, dtype=np.int64)
    mesh.polygons.foreach_get("vertices", faces)
    return vertices.reshape(-1, 3).astype(np.float64), faces.reshape(-1, 3)


def _has_materials(obj: bpy.types.Object) -> bool:
    return any(m is not None for m in obj.data.materials)


def _write_blend(obj: bpy.types.Object, path: Path) -> None:
    for material in obj.data.materials:
        if material is None or not material.use_nodes:
            continue
        for node in material.node_tree.nodes:
            image = getattr(node, "image", None)
            if image is not None and image.packed_file is None and image.source == "FILE":
                with contextlib.suppress(RuntimeError):  # a missing texture renders pink; geometry is right
                    image.pack()
    bpy.data.libraries.write(str(path), {obj}, fake_user=True, compress=True)


def import_asset(path: str | Path, fmt: str, out_dir: str | Path) -> dict[str, Any]:
    """Canonicalise one file into ``out_dir``; returns what the manifest records about it."""
    path, out_dir = Path(path), Path(out_dir)
    reset()
    _load(path, fmt)
    _check_textures(path)
    parts = _mesh_copies(bpy.context.scene)
    if not parts:
        raise ValueError("no mesh geometry (no mesh object with faces)")
    obj = _join(parts)
    _clean(obj)
    vertices, faces = mesh_arrays(obj.data)
    if len(faces) == 0:
        raise ValueError("no triangles after cleaning")
    if not np.all(np.isfinite(vertices)):
        raise ValueError("non-finite vertex coordinates")
    out_dir.mkdir(parents=True, exist_ok=True)
    mesh_path = out_dir / CANONICAL_MESH
    trimesh.Trimesh(vertices, faces, process=False).export(mesh_path, file_type="ply")
    blend_path = None
    materials = [m.name for m in obj.data.materials if m is not None]
    if _has_materials(obj):
        blend_path = out_dir / CANONICAL_BLEND
        _write_blend(obj, blend_path)
    return {
        "objects": len(parts),
        "triangles": len(faces),
        "bbox_min": [float(v) for v in vertices.min(axis=0)],
        "bbox_max": [float(v) for v in vertices.max(axis=0)],
        "materials": materials,
        "mesh": str(mesh_path),
        "blend": str(blend_path) if blend_path else None,
    }


def error_reason(error: BaseException) -> str:
    """One line for a failed import: the last line of Blender's message (a traceback's last line
    names the actual problem), prefixed by the exception type when the message says nothing."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    reason = lines[-1] if lines else ""
    reason = reason.removeprefix("Error: ").strip()
    return reason or type(error).__name__


def main(argv: list[str]) -> int:
    """Worker: import every request of ``argv[0]`` (JSON list of {path, format, out_dir}),
    appending one result line per request to ``argv[1]``."""
    requests = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    with open(argv[1], "a", encoding="utf-8") as results:
        for request in requests:
            try:
                info = import_asset(request["path"], request["format"], request["out_dir"])
                result = {"path": request["path"], "ok": True, **info}
            except Exception as error:  # report and go on with the next file
                reason = error_reason(error)
                result = {"path": request["path"], "ok": False, "reason": reason[:500]}
            results.write(json.dumps(result) + "\n")
            results.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
