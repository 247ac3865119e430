"""A container's liquid as a closed mesh in the container's own frame: the family's parametric
cavity (its inner profile, revolved like the container) cut by a level plane.

The plane is ``n . p = level`` with ``n`` world up seen from the container, so a container that
settled a few degrees off vertical gets a surface tilted in its own frame and level in the world.
The rendered and exported liquid reaches ``OVERLAP`` into the walls (docs/liquids.md says why);
volumes are those of the cavity itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import manifold3d as mf
import numpy as np
import trimesh

from transphy3d.scene.procedural import FAMILIES, build_frame_mesh, solids

OVERLAP = 5e-5  # metres the liquid reaches into the container's wall
SOLVE_TOLERANCE = 1e-9  # relative volume at which the level's bisection stops
SOLVE_ITERATIONS = 80


@dataclass(frozen=True)
class Cavity:
    """A container's inner space up to its rim, in the container's frame (metres)."""

    exact: mf.Manifold  # the cavity itself
    wetted: mf.Manifold  # the cavity grown by the overlap into the walls
    floor: float  # z of the cavity's lowest point (the container upright)
    rim: float  # z of the rim
    rim_centre: np.ndarray  # (3,) centre of the opening
    rim_radius: float

    @property
    def inner_height(self) -> float:
        return self.rim - self.floor

    def volume_below(self, normal: np.ndarray, level: float) -> float:
        """Cubic metres of the cavity where ``normal . p <= level``."""
        below = self.exact.trim_by_plane(tuple(-np.asarray(normal, dtype=float)), -float(level))
        return float(below.volume())

    def fill_volume(self, fill: float) -> float:
        """Cubic metres of the upright cavity up to ``fill`` of its inner height."""
        return self.volume_below(np.array([0.0, 0.0, 1.0]), self.floor + fill * self.inner_height)

    def level_for(self, normal: np.ndarray, volume: float) -> float:
        """The level of a surface with ``normal`` that leaves ``volume`` below it (bisection)."""
        lo_x, lo_y, lo_z, hi_x, hi_y, hi_z = self.exact.bounding_box()
        corners = np.array([[x, y, z] for x in (lo_x, hi_x) for y in (lo_y, hi_y) for z in (lo_z, hi_z)])
        heights = corners @ np.asarray(normal, dtype=float)
        lo, hi = float(heights.min()), float(heights.max())
        for _ in range(SOLVE_ITERATIONS):
            mid = 0.5 * (lo + hi)
            got = self.volume_below(normal, mid)
            if abs(got - volume) <= SOLVE_TOLERANCE * volume:
                return mid
            lo, hi = (mid, hi) if got < volume else (lo, mid)
        return 0.5 * (lo + hi)

    def lowest_rim(self, normal: np.ndarray) -> float:
        """The smallest ``normal . p`` over the opening's edge (a circle about the z axis)."""
        n = np.asarray(normal, dtype=float)
        return float(n @ self.rim_centre - math.hypot(n[0], n[1]) * self.rim_radius)

    def liquid(self, normal: np.ndarray, level: float, exact: bool = False) -> trimesh.Trimesh:
        """The closed liquid mesh below ``normal . p = level``: the wetted space's part, or with
        ``exact`` the cavity's own."""
        solid = (self.exact if exact else self.wetted).trim_by_plane(tuple(-np.asarray(normal, dtype=float)), -level)
        return solids.to_trimesh(solid)


@dataclass(frozen=True)
class Interfaces:
    """A filled transparent container as the surfaces light crosses, each between two media:
    the container's surfaces that touch air (its wetted inner wall removed), the liquid's free
    surface, and the container-liquid interface (normals out of the liquid). All in the
    container's frame; together they bound the same solids as the container and the liquid."""

    container_air: trimesh.Trimesh
    liquid_air: trimesh.Trimesh
    container_liquid: trimesh.Trimesh


def _manifold(mesh: trimesh.Trimesh) -> mf.Manifold:
    data = mf.Mesh64(vert_properties=np.asarray(mesh.vertices, np.float64), tri_verts=np.asarray(mesh.faces, np.uint64))
    return mf.Manifold(data).as_original()


def _faces_from(solid: mf.Manifold, original: mf.Manifold) -> trimesh.Trimesh:
    """The triangles of ``solid`` that lie on ``original``'s surface (manifold's provenance)."""
    out = solid.to_mesh64()
    triangles = np.asarray(out.tri_verts, dtype=np.int64)
    starts, ids = np.asarray(out.run_index) // 3, np.asarray(out.run_original_id)
    keep = np.zeros(len(triangles), dtype=bool)
    for k in np.flatnonzero(ids == original.original_id()):
        keep[starts[k] : starts[k + 1]] = True
    mesh = trimesh.Trimesh(np.asarray(out.vert_properties)[:, :3], triangles[keep], process=False)
    mesh.remove_unreferenced_vertices()
    return mesh


def interfaces(container: trimesh.Trimesh, inner: Cavity, normal: np.ndarray, level: float) -> Interfaces:
    """The three kinds of surface of ``container`` filled to ``normal . p = level``. The union
    with the liquid reaching into the walls has no coincident faces: its container faces touch
    air, its liquid faces are the free surface; the interface is the cavity's own wall and floor
    under the level."""
    wetted, exact = inner.liquid(normal, level), inner.liquid(normal, level, exact=True)
    glass, liquid = _manifold(container), _manifold(wetted)
    union = glass + liquid
    n = np.asarray(normal, dtype=float)
    on_top = (exact.face_normals @ n > 1 - 1e-9) & (np.abs(exact.triangles_center @ n - level) < 1e-7)
    wall = trimesh.Trimesh(exact.vertices, exact.faces[~on_top], process=False)
    wall.remove_unreferenced_vertices()
    return Interfaces(_faces_from(union, glass), _faces_from(union, liquid), wall)


def has_cavity(family: str) -> bool:
    return FAMILIES[family].cavity is not None


@lru_cache(maxsize=64)
def _cavity(family: str, params: tuple[tuple[str, float], ...], segments: int, scale: float, overlap: float) -> Cavity:
    p = dict(params)
    section = FAMILIES[family].cavity(p, segments)
    frame_mesh = build_frame_mesh(family, p, segments, scale)
    origin = frame_mesh.center_mass  # the object's frame is the build frame moved to its centre of mass
    top = float(frame_mesh.bounds[1, 2]) / scale
    below_rim = solids.rect(-solids.BIG, -solids.BIG, solids.BIG, top)
    grown = section.offset(overlap / scale, mf.JoinType.Round, 2.0, 16)

    def solid(profile: mf.CrossSection) -> mf.Manifold:
        return solids.revolve(profile ^ below_rim, segments).scale((scale, scale, scale)).translate(tuple(-origin))

    opening = section ^ solids.rect(0.0, top - 1e-4, solids.BIG, top)
    return Cavity(
        exact=solid(section),
        wetted=solid(grown),
        floor=float(section.bounds()[1]) * scale - float(origin[2]),
        rim=top * scale - float(origin[2]),
        rim_centre=np.array([0.0, 0.0, top * scale]) - origin,
        rim_radius=float(opening.bounds()[2]) * scale,
    )


def cavity(family: str, params: dict[str, float], segments: int, scale: float, overlap: float = OVERLAP) -> Cavity:
    """The cavity of a procedural container in its own frame (cached); its ``wetted`` space
    reaches ``overlap`` metres into the walls (negative: stops short of them)."""
    return _cavity(family, tuple(sorted(params.items())), int(segments), float(scale), float(overlap))
