"""Procedural parametric meshes (pure Python: manifold3d + trimesh, no bpy)."""

from __future__ import annotations

import numpy as np
import trimesh

from transphy3d.scene.procedural import solids
from transphy3d.scene.procedural.families import FAMILIES, Family, Param

__all__ = ["FAMILIES", "Family", "Param", "build_frame_mesh", "build_mesh", "check_params", "sample_params"]


def check_params(family: str, params: dict[str, float]) -> None:
    """Raise ValueError if ``params`` are not exactly the family's parameters within limits."""
    fam = FAMILIES[family]
    missing = sorted(set(fam.params) - set(params))
    extra = sorted(set(params) - set(fam.params))
    if missing or extra:
        raise ValueError(
            f"{family}: parameters must be exactly {', '.join(sorted(fam.params))}"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unknown {', '.join(extra)}" if extra else "")
        )
    for name, value in params.items():
        lo, hi = fam.params[name].limits
        if not lo <= value <= hi:
            raise ValueError(f"{family}.{name} = {value} outside its limits [{lo}, {hi}]")


def sample_params(
    family: str, rng: np.random.Generator, ranges: dict[str, tuple[float, float]] | None = None
) -> dict[str, float]:
    """Draw every parameter of ``family`` uniformly from its range (the default range unless
    ``ranges`` overrides it), in sorted parameter order."""
    fam = FAMILIES[family]
    ranges = ranges or {}
    out = {}
    for name in sorted(fam.params):
        lo, hi = ranges.get(name, fam.params[name].default)
        out[name] = float(rng.uniform(lo, hi))
    return out


def build_frame_mesh(family: str, params: dict[str, float], segments: int = 64, scale: float = 1.0) -> trimesh.Trimesh:
    """The watertight mesh of ``family`` in the frame its builder uses (standing on z = 0, axis
    along z), scaled by ``scale``."""
    check_params(family, params)
    solid = FAMILIES[family].build(params, int(segments))
    mesh = solids.to_trimesh(solid)
    if scale != 1.0:
        mesh.apply_scale(scale)
    return mesh


def build_mesh(family: str, params: dict[str, float], segments: int = 64, scale: float = 1.0) -> trimesh.Trimesh:
    """The watertight mesh of ``family`` with ``params`` scaled by ``scale``, re-centred so that
    its centre of mass (uniform density) is the origin: the object's own frame. Deterministic."""
    mesh = build_frame_mesh(family, params, segments, scale)
    mesh.apply_translation(-mesh.center_mass)
    return mesh
