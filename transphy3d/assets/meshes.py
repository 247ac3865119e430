"""Loading a static asset's mesh for a scene: one mesh, scaled to its recorded size, centred on
its centre of mass (or its bounding-box centre when the mesh is not watertight)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import trimesh

from transphy3d.errors import UserError
from transphy3d.spec import StaticSource


def load_static_mesh(source: StaticSource, scale: float = 1.0) -> trimesh.Trimesh:
    """The asset's mesh in metres: largest extent ``source.size * scale``, z up, centred."""
    path = Path(source.file)
    if not path.is_file():
        raise UserError(f"static asset {source.asset_id!r}: mesh file not found", path=str(path))
    try:
        loaded = trimesh.load(path, force="mesh", process=True)
    except Exception as error:  # trimesh raises many types for broken files
        raise UserError(f"static asset {source.asset_id!r}: cannot load mesh ({error})", path=str(path)) from None
    if not isinstance(loaded, trimesh.Trimesh) or len(loaded.faces) == 0:
        raise UserError(f"static asset {source.asset_id!r}: no triangles", path=str(path))
    mesh = loaded.copy()
    extent = float(np.max(mesh.extents))
    mesh.apply_scale(source.size * scale / extent)
    centre = mesh.center_mass if mesh.is_watertight and mesh.volume > 0 else mesh.bounds.mean(axis=0)
    mesh.apply_translation(-centre)
    return mesh
