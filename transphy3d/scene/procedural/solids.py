"""2-D profiles and solids of revolution with manifold3d: watertight by construction.

A vessel is its outer silhouette minus a cavity: the silhouette (mirrored about the axis so that
offsets behave at the axis) extended upward past the rim, shrunk by the wall thickness, cut
below the base. That gives a constant wall thickness along curved profiles and an open rim.
"""

from __future__ import annotations

from collections.abc import Sequence

import manifold3d as mf
import numpy as np
import trimesh

BIG = 10.0  # metres: larger than any object
SIMPLIFY_EPSILON = 2e-5  # metres: profile points closer than this to a line are dropped


def polygon(points: Sequence[Sequence[float]]) -> mf.CrossSection:
    """A cross-section from one closed polygon (x = radius, y = height), either winding."""
    pts = np.asarray(points, dtype=np.float64)
    section = mf.CrossSection([pts], mf.FillRule.Positive)
    if section.area() <= 0:
        section = mf.CrossSection([pts[::-1]], mf.FillRule.Positive)
    return section


def half_profile(points: Sequence[Sequence[float]]) -> mf.CrossSection:
    """The full (mirrored) silhouette of a half profile given from the axis bottom, out along
    the surface and back to the axis at the top: [(0, z0), (r1, z1), ..., (0, zn)]."""
    pts = np.asarray(points, dtype=np.float64)
    mirrored = pts[::-1].copy()
    mirrored[:, 0] *= -1.0
    return polygon(np.concatenate([pts, mirrored[1:-1]]))


def rect(x0: float, y0: float, x1: float, y1: float) -> mf.CrossSection:
    return polygon([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])


def round_convex(section: mf.CrossSection, radius: float, segments: int) -> mf.CrossSection:
    """Round the convex corners of ``section`` with ``radius`` (morphological opening)."""
    if radius <= 0:
        return section
    shrunk = section.offset(-radius, mf.JoinType.Round, 2.0, segments)
    return shrunk.offset(radius, mf.JoinType.Round, 2.0, segments)


def extend_up(section: mf.CrossSection, amount: float) -> mf.CrossSection:
    """``section`` plus the vertical sweep of its top outline by ``amount`` (an open top)."""
    (x0, _y0, x1, y1) = section.bounds()
    top = y1
    # The slab just below the top, stretched upward, continues the rim vertically.
    slab = section ^ rect(x0 - 1, top - 1e-4, x1 + 1, top + 1)
    if slab.is_empty():
        return section
    (sx0, _, sx1, _) = slab.bounds()
    return section + rect(sx0, top - 1e-4, sx1, top + amount)


def cavity(silhouette: mf.CrossSection, wall: float, floor_height: float, segments: int) -> mf.CrossSection:
    """The inner space of a vessel with ``silhouette``: open at the top, ``wall`` thick sides,
    its floor at ``floor_height`` or higher."""
    inner = extend_up(silhouette, 4 * wall + 0.01).offset(-wall, mf.JoinType.Round, 2.0, segments)
    (_, _, _, y1) = inner.bounds()
    return inner ^ rect(-BIG, floor_height, BIG, y1 + 1)


def right_half(section: mf.CrossSection) -> mf.CrossSection:
    return section ^ rect(0.0, -BIG, BIG, BIG)


def revolve(section: mf.CrossSection, segments: int) -> mf.Manifold:
    """Revolve the x >= 0 half of a mirrored silhouette about the vertical axis (y -> z)."""
    return mf.Manifold.revolve(right_half(section).simplify(SIMPLIFY_EPSILON), segments)


def vessel(silhouette: mf.CrossSection, wall: float, base: float, segments: int) -> mf.Manifold:
    """A hollow vessel: ``silhouette`` minus its cavity, revolved."""
    hollow = silhouette - cavity(silhouette, wall, base, segments // 4 + 4)
    return revolve(hollow, segments)


def to_trimesh(solid: mf.Manifold) -> trimesh.Trimesh:
    """A manifold as a watertight ``trimesh.Trimesh`` (float64 vertices)."""
    if solid.status() != mf.Error.NoError:
        raise ValueError(f"manifold construction failed: {solid.status()}")
    mesh = solid.to_mesh()
    vertices = np.asarray(mesh.vert_properties, dtype=np.float64)[:, :3]
    faces = np.asarray(mesh.tri_verts, dtype=np.int64)
    # process=False: manifold's output is already indexed and watertight; merging vertices by
    # rounding could join distinct vertices a few nanometres apart and break that.
    return trimesh.Trimesh(vertices=vertices, faces=faces, process=False)
