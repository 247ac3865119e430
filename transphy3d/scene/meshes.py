"""An object's mesh in its own frame: a procedural family built from its parameters (cached), or
a static asset's canonical mesh (one triangulated mesh, z up, metres, made at import) scaled to
its recorded size and centred on its centre of mass (or its bounding-box centre when the mesh is
not watertight). Vertex and face order of assets are kept, so the asset's ``.blend`` (same mesh)
can take these coordinates."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import trimesh

from transphy3d.errors import UserError
from transphy3d.scene.asset_bank import sha256_file
from transphy3d.scene.procedural import build_mesh
from transphy3d.scene.spec import ObjectSpec, StaticSource


@lru_cache(maxsize=64)
def _canonical(path: str, sha256: str | None, mtime_ns: int) -> trimesh.Trimesh:
    if sha256 is not None and sha256_file(path) != sha256:
        raise UserError("canonical mesh changed since the scene was sampled (sha256 differs)", path=path)
    try:
        loaded = trimesh.load(path, force="mesh", process=False)
    except Exception as error:  # trimesh raises many types for broken files
        raise UserError(f"cannot load mesh ({error})", path=path) from None
    if not isinstance(loaded, trimesh.Trimesh) or len(loaded.faces) == 0:
        raise UserError("no triangles", path=path)
    faces = np.asarray(loaded.faces)
    if faces.min() < 0 or faces.max() >= len(loaded.vertices):  # a damaged file: indices past the vertices
        raise UserError(f"face indices outside the {len(loaded.vertices)} vertices", path=path)
    if not np.isfinite(np.asarray(loaded.vertices)).all():
        raise UserError("vertex coordinates that are not finite", path=path)
    return loaded


def load_static_mesh(source: StaticSource, scale: float = 1.0) -> trimesh.Trimesh:
    """The asset's mesh in metres: largest extent ``source.size * scale``, z up, centred."""
    path = Path(source.file)
    if not path.is_file():
        raise UserError(f"static asset {source.asset_id!r}: mesh file not found", path=str(path))
    try:
        mesh = _canonical(str(path), source.sha256, path.stat().st_mtime_ns).copy()
    except UserError as error:
        raise UserError(f"static asset {source.asset_id!r}: {error}") from None
    extent = float(np.max(mesh.extents))
    if not extent > 0:
        raise UserError(f"static asset {source.asset_id!r}: mesh has no extent", path=str(path))
    mesh.apply_scale(source.size * scale / extent)
    centre = mesh.center_mass if mesh.is_watertight and mesh.volume > 0 else mesh.bounds.mean(axis=0)
    mesh.apply_translation(-centre)
    return mesh


@lru_cache(maxsize=256)
def _procedural_mesh(
    family: str, params: tuple[tuple[str, float], ...], segments: int, scale: float
) -> trimesh.Trimesh:
    return build_mesh(family, dict(params), segments, scale)


def object_mesh(obj: ObjectSpec) -> trimesh.Trimesh:
    """The object's mesh in its own frame (metres, scale applied, centre of mass at the origin)."""
    source = obj.source
    if source.kind == "procedural":
        return _procedural_mesh(source.family, tuple(sorted(source.params.items())), source.segments, obj.scale).copy()
    return load_static_mesh(source, obj.scale)
