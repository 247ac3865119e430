"""The starter bank: static assets made by this code (CC0 by construction), shipped in
``assets_manifest/starter/`` so that scenes can mix static assets in on a fresh machine.

Shapes the procedural families do not cover (multi-part, handles, knots, facets), written in every
importable format so the import path is exercised: .glb and .obj (y up, as those formats are),
.ply (z up) and .blend with the asset's own glass or metal material (written by
``transphy3d.blender.starter_blend``). ``python -m transphy3d assets starter`` writes them again.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import manifold3d as mf
import numpy as np
import trimesh

from transphy3d.scene.procedural import solids

SEGMENTS = 48
Z_UP_TO_Y_UP = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, -1, 0, 0], [0, 0, 0, 1]], dtype=np.float64)


def _tube(points: np.ndarray, radius: float, closed: bool, sides: int = 12) -> mf.Manifold:
    """A tube of ``radius`` along a polyline (union of hulls of consecutive spheres)."""
    ball = mf.Manifold.sphere(radius, sides)
    ends = np.roll(points, -1, axis=0) if closed else points[1:]
    pieces = [
        mf.Manifold.batch_hull([ball.translate(tuple(a)), ball.translate(tuple(b))])
        for a, b in zip(points[: len(ends)], ends, strict=True)
    ]
    return mf.Manifold.batch_boolean(pieces, mf.OpType.Add)


def torus_knot() -> list[trimesh.Trimesh]:
    """A (2, 3) torus knot sculpture, 12 cm across."""
    t = np.linspace(0, 2 * math.pi, 96, endpoint=False)
    r = 0.035 + 0.015 * np.cos(3 * t)
    points = np.stack([r * np.cos(2 * t), r * np.sin(2 * t), 0.015 * np.sin(3 * t)], axis=1)
    return [solids.to_trimesh(_tube(points, 0.007, closed=True))]


def faceted_gem() -> list[trimesh.Trimesh]:
    """A brilliant-cut crystal: crown, girdle and pavilion facets (convex hull)."""
    points = [(0.0, 0.0, -0.045)]
    for ring, (radius, z) in enumerate([(0.04, 0.0), (0.04, 0.004), (0.026, 0.02)]):
        for k in range(8):
            a = 2 * math.pi * (k + 0.5 * (ring == 2)) / 8
            points.append((radius * math.cos(a), radius * math.sin(a), z))
    return [trimesh.Trimesh(vertices=np.array(points)).convex_hull]


def perfume_bottle() -> list[trimesh.Trimesh]:
    """A rounded square flacon and its spherical stopper (two parts)."""
    ball = mf.Manifold.sphere(0.006, 16)
    corners = [(x, y, z) for x in (-0.03, 0.03) for y in (-0.015, 0.015) for z in (-0.034, 0.034)]
    rounded = mf.Manifold.batch_hull([ball.translate(c) for c in corners])
    neck = mf.Manifold.cylinder(0.02, 0.01, 0.01, SEGMENTS).translate((0, 0, 0.04))
    bottle = (rounded + neck).translate((0, 0, 0.046))
    stopper = mf.Manifold.sphere(0.018, SEGMENTS).scale((1, 1, 0.8)).translate((0, 0, 0.118))
    return [solids.to_trimesh(bottle), solids.to_trimesh(stopper)]


def lidded_jar() -> list[trimesh.Trimesh]:
    """A hollow storage jar and its knobbed lid (two parts)."""
    outline = solids.half_profile([(0, 0), (0.045, 0), (0.05, 0.01), (0.05, 0.09), (0.042, 0.1), (0, 0.1)])
    jar = solids.vessel(solids.round_convex(outline, 0.004, 8), 0.003, 0.006, SEGMENTS)
    lid_outline = solids.half_profile([(0, 0), (0.047, 0), (0.047, 0.008), (0.01, 0.012), (0.012, 0.025), (0, 0.026)])
    lid = solids.revolve(lid_outline, SEGMENTS).translate((0, 0, 0.102))
    return [solids.to_trimesh(jar), solids.to_trimesh(lid)]


def kettle() -> list[trimesh.Trimesh]:
    """A round kettle: hollow body, a spout and a loop handle, united into one solid."""
    outline = solids.half_profile([(0, 0), (0.06, 0), (0.075, 0.04), (0.06, 0.09), (0.025, 0.1), (0, 0.1)])
    body = solids.revolve(solids.round_convex(outline, 0.005, 8), SEGMENTS)
    spout = mf.Manifold.cylinder(0.07, 0.012, 0.007, 16).rotate((0, 55, 0)).translate((0.055, 0, 0.03))
    t = np.linspace(-0.6 * math.pi, 0.6 * math.pi, 24)
    arc = np.stack([-0.06 - 0.035 * np.cos(t), np.zeros_like(t), 0.055 + 0.035 * np.sin(t)], axis=1)
    return [solids.to_trimesh(body + spout + _tube(arc, 0.006, closed=False))]


def light_bulb() -> list[trimesh.Trimesh]:
    """A pear-shaped light bulb on a ridged screw base (solid)."""
    profile = [(0.0, 0.0), (0.012, 0.0)]
    profile += [(0.013 + 0.0015 * (k % 2), 0.003 + 0.003 * k) for k in range(8)]
    profile += [(0.016, 0.03), (0.022, 0.045)]
    profile += [(0.03 * math.sin(a), 0.075 - 0.03 * math.cos(a)) for a in np.linspace(0.9, math.pi, 16)]
    return [solids.to_trimesh(solids.revolve(solids.half_profile(profile), SEGMENTS))]


def ladle() -> list[trimesh.Trimesh]:
    """A metal ladle: a hemispherical bowl and a curved handle (two parts)."""
    outer = mf.Manifold.sphere(0.04, SEGMENTS)
    bowl = (outer - mf.Manifold.sphere(0.037, SEGMENTS)) ^ mf.Manifold.cube((0.1, 0.1, 0.05), True).translate(
        (0, 0, -0.025)
    )
    t = np.linspace(0, 1, 12)
    path = np.stack([0.038 + 0.2 * t, np.zeros_like(t), -0.002 + 0.09 * t**1.5], axis=1)
    handle = _tube(path, 0.004, closed=False)
    return [solids.to_trimesh(bowl.translate((0, 0, 0.04))), solids.to_trimesh(handle.translate((0, 0, 0.04)))]


def goblet() -> list[trimesh.Trimesh]:
    """A faceted crystal goblet (12 sides): bowl, stem and foot in one solid."""
    outline = solids.half_profile(
        [(0, 0), (0.035, 0), (0.035, 0.004), (0.006, 0.01), (0.005, 0.06), (0.04, 0.09), (0.042, 0.15), (0, 0.15)]
    )
    return [solids.to_trimesh(solids.vessel(outline, 0.0025, 0.075, 12))]


def paperweight() -> list[trimesh.Trimesh]:
    """A glass dome paperweight with a flat base."""
    dome = mf.Manifold.sphere(0.04, SEGMENTS) ^ mf.Manifold.cube((0.1, 0.1, 0.1), True).translate((0, 0, 0.04))
    return [solids.to_trimesh(dome.scale((1, 1, 0.8)))]


@dataclass(frozen=True)
class StarterAsset:
    name: str
    build: Callable[[], list[trimesh.Trimesh]]
    format: str  # glb, obj, ply or blend
    category: str
    kind: str  # what it is made of (the curated verdict): glass or metal
    material: str | None = None  # own material of a .blend asset: glass or metal


STARTER = [
    StarterAsset("torus_knot", torus_knot, "obj", "sculpture", "metal"),
    StarterAsset("faceted_gem", faceted_gem, "glb", "decoration", "glass"),
    StarterAsset("perfume_bottle", perfume_bottle, "glb", "bottle", "glass"),
    StarterAsset("lidded_jar", lidded_jar, "obj", "jar", "glass"),
    StarterAsset("kettle", kettle, "ply", "kitchenware", "metal"),
    StarterAsset("light_bulb", light_bulb, "glb", "lamp", "glass"),
    StarterAsset("ladle", ladle, "ply", "kitchenware", "metal"),
    StarterAsset("goblet", goblet, "blend", "glassware", "glass", material="glass"),
    StarterAsset("paperweight", paperweight, "blend", "decoration", "metal", material="metal"),
]


def _export(parts: list[trimesh.Trimesh], path: Path, fmt: str) -> None:
    if fmt in ("glb", "obj"):
        parts = [p.copy().apply_transform(Z_UP_TO_Y_UP) for p in parts]  # y up, as the formats expect
    if fmt == "glb":
        scene = trimesh.Scene()
        for index, part in enumerate(parts):
            scene.add_geometry(part, node_name=f"part_{index}", geom_name=f"part_{index}")
        scene.export(path)
    elif fmt == "obj":
        scene = trimesh.Scene({f"part_{i}": p for i, p in enumerate(parts)})
        path.write_text(trimesh.exchange.obj.export_obj(scene, include_normals=False, include_texture=False))
    else:
        trimesh.util.concatenate(parts).export(path, file_type="ply")


def write_starter(out_dir: str | Path) -> list[Path]:
    """Write every starter asset and its sidecar metadata into ``out_dir``; returns the files."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for asset in STARTER:
        parts = asset.build()
        path = out_dir / f"{asset.name}.{asset.format}"
        if asset.format == "blend":
            from transphy3d.blender.starter_blend import write_blend  # bpy only there

            write_blend(parts, asset.material or "glass", path)
        else:
            _export(parts, path, asset.format)
        meta = {
            "asset_id": f"tp3d-starter-{asset.name}",
            "name": asset.name.replace("_", " "),
            "category": asset.category,
            "licence": "cc_zero",
            "origin": "transphy3d-starter",
        }
        path.with_name(path.name + ".json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        written.append(path)
    return written


def curate(manifest: str | Path) -> int:
    """Mark the starter assets of ``manifest`` kept, with a curated verdict (what they are made
    of is known by construction); returns how many were marked."""
    from transphy3d.scene.asset_bank import Verdict, read_manifest, write_manifest

    by_id = {f"tp3d-starter-{a.name}": a for a in STARTER}
    records = read_manifest(manifest)
    marked = 0
    for index, record in enumerate(records):
        asset = by_id.get(record.asset_id)
        if asset is None:
            continue
        verdict = Verdict(
            status="ok",
            transparent=asset.kind == "glass",
            reflective=True,
            material_class=asset.kind,
            category=asset.category,
            confidence=1.0,
            score=1.0,
            backend="curated",
            model="transphy3d-starter",
        )
        records[index] = record.model_copy(update={"verdict": verdict, "kept": True})
        marked += 1
    write_manifest(manifest, records)
    return marked
