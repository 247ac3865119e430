"""Parametric tableware families and superquadrics.

Every family has named parameters with a default sampling range and hard limits; shape variety
comes from the parameters. Dependent sizes are ratios (``neck_ratio``: neck radius / body radius)
so every draw inside the limits builds a valid, watertight solid. Units: metres, z up, the object
standing on z = 0 before it is re-centred on its centre of mass.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import manifold3d as mf
import numpy as np

from transphy3d.scene.procedural import solids


@dataclass(frozen=True)
class Param:
    """One named shape parameter: default sampling range and hard limits (both inclusive)."""

    default: tuple[float, float]
    limits: tuple[float, float]
    doc: str = ""


@dataclass(frozen=True)
class Family:
    name: str
    doc: str
    params: dict[str, Param]
    build: Callable[[dict[str, float], int], mf.Manifold]
    hollow: bool = True  # an open vessel with walls (False: a solid)
    tags: tuple[str, ...] = field(default_factory=tuple)
    # The vessel's inner space as a mirrored profile (build frame, before scaling and re-centring),
    # for families that can hold a liquid; open at the top (it reaches past the rim).
    cavity: Callable[[dict[str, float], int], mf.CrossSection] | None = None


def _profile_points(fn: Callable[[float], tuple[float, float]], count: int) -> list[tuple[float, float]]:
    return [fn(u) for u in np.linspace(0.0, 1.0, count)]


def _n_profile(segments: int) -> int:
    return max(8, segments // 2)


def _cavity_segments(segments: int) -> int:
    return segments // 4 + 4


def _vessel_family(
    outline: Callable[[dict[str, float], int], mf.CrossSection], floor: Callable[[dict[str, float]], float]
) -> tuple[Callable[[dict[str, float], int], mf.Manifold], Callable[[dict[str, float], int], mf.CrossSection]]:
    """(build, cavity) of a vessel whose walls are ``p["wall"]`` thick inside ``outline``, its
    cavity floor at ``floor(p)``."""

    def cavity(p: dict[str, float], segments: int) -> mf.CrossSection:
        return solids.cavity(outline(p, segments), p["wall"], floor(p), _cavity_segments(segments))

    def build(p: dict[str, float], segments: int) -> mf.Manifold:
        return solids.revolve(outline(p, segments) - cavity(p, segments), segments)

    return build, cavity


# --- cup / tumbler ---------------------------------------------------------------------------
def _cup_outline(p: dict[str, float], segments: int) -> mf.CrossSection:
    h, rb = p["height"], p["bottom_radius"]
    rt = rb * p["top_ratio"]
    outline = solids.half_profile([(0, 0), (rb, 0), (rt, h), (0, h)])
    return solids.round_convex(outline, p["fillet"], segments // 4 + 4)


build_cup, cup_cavity = _vessel_family(_cup_outline, lambda p: p["base"])


CUP = Family(
    "cup",
    "Cup or tumbler: a tapered cylinder with a thick base.",
    {
        "height": Param((0.07, 0.14), (0.03, 0.3), "outer height"),
        "bottom_radius": Param((0.025, 0.04), (0.01, 0.1), "outer radius at the base"),
        "top_ratio": Param((1.0, 1.35), (0.7, 2.0), "rim radius / base radius"),
        "wall": Param((0.002, 0.004), (0.001, 0.008), "wall thickness"),
        "base": Param((0.004, 0.012), (0.002, 0.02), "base thickness"),
        "fillet": Param((0.001, 0.004), (0.0, 0.006), "radius of the rounded bottom edge"),
    },
    build_cup,
    tags=("tableware",),
    cavity=cup_cavity,
)


# --- bowl and plate ----------------------------------------------------------------------------
def _dish_outline(radius: float, height: float, foot_ratio: float, shape: float, n: int):
    foot = radius * foot_ratio

    def fn(u: float) -> tuple[float, float]:
        phi = u * math.pi / 2
        return (foot + (radius - foot) * math.sin(phi) ** (2 / shape), height * (1 - math.cos(phi) ** (2 / shape)))

    return solids.half_profile([(0, 0), *_profile_points(fn, n), (0, height)])


def _bowl_outline(p: dict[str, float], segments: int) -> mf.CrossSection:
    return _dish_outline(p["radius"], p["height"], p["foot_ratio"], p["shape"], _n_profile(segments))


build_bowl, bowl_cavity = _vessel_family(_bowl_outline, lambda p: p["wall"])


BOWL = Family(
    "bowl",
    "Bowl: a rounded dish; `shape` 2 gives an elliptic profile, larger values a boxier one.",
    {
        "radius": Param((0.05, 0.11), (0.03, 0.2), "rim radius"),
        "height": Param((0.04, 0.08), (0.02, 0.15), "outer height"),
        "foot_ratio": Param((0.35, 0.6), (0.2, 0.8), "flat base radius / rim radius"),
        "shape": Param((1.6, 3.0), (1.2, 5.0), "superellipse exponent of the profile"),
        "wall": Param((0.0025, 0.005), (0.0015, 0.008), "wall thickness"),
    },
    build_bowl,
    tags=("tableware",),
    cavity=bowl_cavity,
)


def build_plate(p: dict[str, float], segments: int) -> mf.Manifold:
    outline = _dish_outline(p["radius"], p["rim_height"], p["flat_ratio"], p["shape"], _n_profile(segments))
    return solids.vessel(outline, p["thickness"], p["thickness"], segments)


PLATE = Family(
    "plate",
    "Plate or dish: a flat base rising to a low rim.",
    {
        "radius": Param((0.08, 0.14), (0.04, 0.2), "rim radius"),
        "rim_height": Param((0.012, 0.03), (0.008, 0.05), "outer height"),
        "flat_ratio": Param((0.55, 0.8), (0.3, 0.9), "flat base radius / rim radius"),
        "shape": Param((1.6, 2.5), (1.2, 4.0), "superellipse exponent of the rim"),
        "thickness": Param((0.003, 0.006), (0.002, 0.01), "material thickness"),
    },
    build_plate,
    tags=("tableware",),
)


# --- wine glass ---------------------------------------------------------------------------------
def _wine_bowl(p: dict[str, float], segments: int) -> mf.CrossSection:
    R, hb = p["bowl_radius"], p["bowl_height"]
    um, rim = p["widest_at"], p["rim_ratio"]
    z0 = p["foot_thickness"] + p["stem_height"]

    def bowl_radius(u: float) -> float:
        if u <= um:
            return R * math.sqrt(max(0.0, 1 - ((u - um) / um) ** 2))
        return R - (R - R * rim) * ((u - um) / (1 - um)) ** 2

    n = _profile_points(lambda u: (bowl_radius(u), z0 + u * hb), _n_profile(segments))
    return solids.half_profile([(0, z0), *n[1:], (0, z0 + hb)])


def wine_glass_cavity(p: dict[str, float], segments: int) -> mf.CrossSection:
    z0 = p["foot_thickness"] + p["stem_height"]
    return solids.cavity(_wine_bowl(p, segments), p["wall"], z0 + 2 * p["wall"], _cavity_segments(segments))


def build_wine_glass(p: dict[str, float], segments: int) -> mf.Manifold:
    hb, rs, rf, tf = p["bowl_height"], p["stem_radius"], p["foot_radius"], p["foot_thickness"]
    z0 = tf + p["stem_height"]
    foot = solids.round_convex(solids.rect(-rf, 0, rf, tf), tf * 0.45, 16)
    stem = solids.rect(-rs, tf * 0.5, rs, z0 + hb * 0.2)
    outline = _wine_bowl(p, segments) + foot + stem
    return solids.revolve(outline - wine_glass_cavity(p, segments), segments)


WINE_GLASS = Family(
    "wine_glass",
    "Wine glass: a tulip bowl on a solid stem and a round foot.",
    {
        "bowl_radius": Param((0.03, 0.048), (0.02, 0.07), "widest radius of the bowl"),
        "bowl_height": Param((0.06, 0.11), (0.04, 0.15), "bowl height"),
        "widest_at": Param((0.35, 0.6), (0.2, 0.8), "height fraction of the widest point"),
        "rim_ratio": Param((0.7, 1.0), (0.5, 1.0), "rim radius / widest radius"),
        "stem_radius": Param((0.003, 0.006), (0.002, 0.01), "stem radius"),
        "stem_height": Param((0.05, 0.1), (0.02, 0.15), "stem height"),
        "foot_radius": Param((0.03, 0.045), (0.02, 0.06), "foot radius"),
        "foot_thickness": Param((0.003, 0.006), (0.002, 0.01), "foot thickness"),
        "wall": Param((0.0012, 0.0025), (0.0008, 0.004), "bowl wall thickness"),
    },
    build_wine_glass,
    tags=("tableware", "glassware"),
    cavity=wine_glass_cavity,
)


# --- bottle -------------------------------------------------------------------------------------
def _bottle_outline(p: dict[str, float], segments: int) -> mf.CrossSection:
    rb, hb, hs = p["body_radius"], p["body_height"], p["shoulder_height"]
    rn, hn = rb * p["neck_ratio"], p["neck_height"]
    lip = p["lip"]
    top = hb + hs + hn

    def shoulder(u: float) -> tuple[float, float]:
        return (rn + (rb - rn) * 0.5 * (1 + math.cos(math.pi * u)), hb + u * hs)

    pts = [(0, 0), (rb, 0), *_profile_points(shoulder, _n_profile(segments)), (rn, top - 2 * lip)]
    pts += [(rn + lip, top - 2 * lip), (rn + lip, top), (0, top)]
    return solids.round_convex(solids.half_profile(pts), p["fillet"], segments // 4 + 4)


build_bottle, bottle_cavity = _vessel_family(_bottle_outline, lambda p: p["base"])


BOTTLE = Family(
    "bottle",
    "Bottle: cylindrical body, cosine shoulder, narrow neck with a lip.",
    {
        "body_radius": Param((0.025, 0.045), (0.015, 0.08), "body radius"),
        "body_height": Param((0.08, 0.2), (0.04, 0.3), "body height"),
        "shoulder_height": Param((0.02, 0.06), (0.005, 0.1), "shoulder height"),
        "neck_ratio": Param((0.28, 0.45), (0.2, 0.8), "neck radius / body radius"),
        "neck_height": Param((0.02, 0.06), (0.01, 0.12), "neck height"),
        "lip": Param((0.0015, 0.003), (0.0, 0.005), "lip ring thickness"),
        "wall": Param((0.0015, 0.003), (0.001, 0.005), "wall thickness"),
        "base": Param((0.003, 0.008), (0.002, 0.015), "base thickness"),
        "fillet": Param((0.002, 0.006), (0.0, 0.01), "radius of the rounded bottom edge"),
    },
    build_bottle,
    tags=("tableware", "glassware"),
    cavity=bottle_cavity,
)


# --- vase ---------------------------------------------------------------------------------------
def _vase_outline(p: dict[str, float], segments: int) -> mf.CrossSection:
    rb, h = p["base_radius"], p["height"]
    a, f, phase, taper = p["wave_amplitude"], p["wave_frequency"], p["wave_phase"], p["taper"]

    def radius(u: float) -> float:
        return rb * (1 + a * math.sin(2 * math.pi * f * u + phase)) * (1 + taper * u)

    pts = [(0, 0), *[(radius(u), u * h) for u in np.linspace(0, 1, _n_profile(segments) * 2)], (0, h)]
    return solids.round_convex(solids.half_profile(pts), p["fillet"], segments // 4 + 4)


build_vase, vase_cavity = _vessel_family(_vase_outline, lambda p: p["base"])


VASE = Family(
    "vase",
    "Vase: a tall vessel whose radius follows a tapered sine.",
    {
        "base_radius": Param((0.03, 0.06), (0.015, 0.1), "radius at the base (before the wave)"),
        "height": Param((0.12, 0.3), (0.06, 0.45), "height"),
        "wave_amplitude": Param((0.0, 0.35), (0.0, 0.5), "relative radius swing"),
        "wave_frequency": Param((0.3, 1.2), (0.0, 2.0), "radius waves over the height"),
        "wave_phase": Param((0.0, 6.2832), (0.0, 6.2832), "phase of the radius wave"),
        "taper": Param((-0.4, 0.4), (-0.5, 1.0), "relative radius change from base to top"),
        "wall": Param((0.003, 0.006), (0.0015, 0.01), "wall thickness"),
        "base": Param((0.005, 0.012), (0.003, 0.02), "base thickness"),
        "fillet": Param((0.001, 0.004), (0.0, 0.006), "radius of the rounded bottom edge"),
    },
    build_vase,
    tags=("decor",),
    cavity=vase_cavity,
)


# --- flask --------------------------------------------------------------------------------------
def _flask_outline(p: dict[str, float], segments: int) -> mf.CrossSection:
    rb, hb = p["base_radius"], p["body_height"]
    rn, hn = rb * p["neck_ratio"], p["neck_height"]
    top = hb + hn
    pts = [(0, 0), (rb, 0), (rn, hb), (rn, top - 0.004), (rn + p["lip"], top - 0.004), (rn + p["lip"], top), (0, top)]
    return solids.round_convex(solids.half_profile(pts), p["fillet"], segments // 4 + 4)


build_flask, flask_cavity = _vessel_family(_flask_outline, lambda p: p["wall"] * 1.5)


FLASK = Family(
    "flask",
    "Erlenmeyer flask: conical body and a cylindrical neck.",
    {
        "base_radius": Param((0.035, 0.06), (0.02, 0.09), "radius at the base"),
        "body_height": Param((0.06, 0.12), (0.03, 0.2), "height of the cone"),
        "neck_ratio": Param((0.25, 0.4), (0.15, 0.6), "neck radius / base radius"),
        "neck_height": Param((0.03, 0.06), (0.015, 0.1), "neck height"),
        "lip": Param((0.001, 0.0025), (0.0, 0.004), "lip ring thickness"),
        "wall": Param((0.0012, 0.0025), (0.0008, 0.004), "wall thickness"),
        "fillet": Param((0.004, 0.01), (0.0, 0.015), "radius of the rounded bottom edge"),
    },
    build_flask,
    tags=("labware", "glassware"),
    cavity=flask_cavity,
)


# --- mug ------------------------------------------------------------------------------------------
def _mug_outline(p: dict[str, float], segments: int) -> mf.CrossSection:
    h, r = p["height"], p["radius"]
    return solids.round_convex(solids.half_profile([(0, 0), (r, 0), (r, h), (0, h)]), p["fillet"], 12)


def mug_cavity(p: dict[str, float], segments: int) -> mf.CrossSection:
    return solids.cavity(_mug_outline(p, segments), p["wall"], p["base"], _cavity_segments(segments))


def build_mug(p: dict[str, float], segments: int) -> mf.Manifold:
    h, r, wall = p["height"], p["radius"], p["wall"]
    outer = solids.revolve(_mug_outline(p, segments), segments)
    inner = solids.revolve(mug_cavity(p, segments), segments)
    # Handle: a tube along a half ellipse in the x-z plane, its ends buried in the wall.
    span = h * p["handle_span"] / 2
    tube = mf.CrossSection.circle(p["handle_thickness"], 16).translate((span, 0.0))
    arc = mf.Manifold.revolve(tube, segments, 180.0)  # half torus in the x-y plane, y >= 0
    arc = arc.rotate((0.0, 0.0, -90.0))  # bulge towards +x, ends at y = +-span
    arc = arc.rotate((90.0, 0.0, 0.0))  # into the x-z plane, ends at z = +-span
    arc = arc.scale((p["handle_reach"] / span, 1.0, 1.0)).translate((r - wall / 2, 0.0, h * 0.52))
    return (outer + arc) - inner


MUG = Family(
    "mug",
    "Mug: a cylindrical cup with a handle.",
    {
        "height": Param((0.08, 0.11), (0.05, 0.15), "height"),
        "radius": Param((0.035, 0.045), (0.025, 0.06), "outer radius"),
        "wall": Param((0.003, 0.006), (0.002, 0.008), "wall thickness"),
        "base": Param((0.005, 0.01), (0.003, 0.015), "base thickness"),
        "fillet": Param((0.001, 0.004), (0.0, 0.006), "radius of the rounded bottom edge"),
        "handle_span": Param((0.55, 0.75), (0.4, 0.85), "handle height / mug height"),
        "handle_reach": Param((0.02, 0.035), (0.012, 0.05), "how far the handle sticks out"),
        "handle_thickness": Param((0.004, 0.007), (0.003, 0.01), "radius of the handle's tube"),
    },
    build_mug,
    tags=("tableware",),
    cavity=mug_cavity,
)


# --- superquadric ---------------------------------------------------------------------------------
def _signed_pow(x: np.ndarray, e: float) -> np.ndarray:
    return np.sign(x) * np.abs(x) ** e


def build_superquadric(p: dict[str, float], segments: int) -> mf.Manifold:
    e1, e2 = p["e1"], p["e2"]
    scale = np.array([p["size_x"], p["size_y"], p["size_z"]]) / 2

    def warp(points: np.ndarray) -> np.ndarray:
        pts = np.asarray(points, dtype=np.float64)
        x, y, z = pts[:, 0], pts[:, 1], pts[:, 2]
        eta = np.arcsin(np.clip(z, -1, 1))
        omega = np.arctan2(y, x)
        ce = np.cos(eta)
        out = np.stack(
            [
                _signed_pow(ce, e1) * _signed_pow(np.cos(omega), e2),
                _signed_pow(ce, e1) * _signed_pow(np.sin(omega), e2),
                _signed_pow(np.sin(eta), e1),
            ],
            axis=1,
        )
        return out * scale

    sphere = mf.Manifold.sphere(1.0, max(16, segments))
    solid = sphere.warp_batch(warp)
    return solid.translate((0.0, 0.0, float(scale[2])))


SUPERQUADRIC = Family(
    "superquadric",
    "Superellipsoid: boxes, cylinders, spheres, pillows and stars from two exponents.",
    {
        "size_x": Param((0.04, 0.1), (0.01, 0.2), "extent along x"),
        "size_y": Param((0.04, 0.1), (0.01, 0.2), "extent along y"),
        "size_z": Param((0.03, 0.12), (0.01, 0.2), "extent along z"),
        "e1": Param((0.3, 1.5), (0.2, 2.0), "north-south exponent (small: boxy, 1: round)"),
        "e2": Param((0.3, 1.5), (0.2, 2.0), "east-west exponent"),
    },
    build_superquadric,
    hollow=False,
    tags=("primitive",),
)


FAMILIES: dict[str, Family] = {
    f.name: f for f in (CUP, BOWL, PLATE, WINE_GLASS, BOTTLE, VASE, FLASK, MUG, SUPERQUADRIC)
}
