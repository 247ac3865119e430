"""The liquid pictures of docs/liquids.md, rendered with the project's own mesh and material
builders in a small studio (checkered floor, striped backdrop, the bundled ``studio`` HDRI):

- ``interface``: a straight glass of water seen from the side, its glass-liquid interface made
  three ways (an air gap, the liquid overlapping the wall, a separate interface surface with the
  ratio of the IORs), each against the physically exact one (the separate interface) rendered
  with many more samples; prints the mean FLIP error of each over the glass.
- ``gallery``: each liquid type in a glass and a bottle, and the same glass and bottle empty.

    python benchmarks/liquid_pictures.py interface --out /tmp/liq --samples 64 --reference-samples 512
    python benchmarks/liquid_pictures.py gallery --out /tmp/liq --samples 64
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import bpy
import numpy as np
import trimesh
from PIL import Image

from transphy3d.blender.lighting import bundled_hdri_path
from transphy3d.blender.materials import build_liquid_material, new_principled_material
from transphy3d.blender.meshes import mesh_object, set_matrix
from transphy3d.blender.session import reset
from transphy3d.scene.liquid_mesh import OVERLAP, cavity, interfaces
from transphy3d.scene.liquid_presets import LIQUID_PRESETS
from transphy3d.scene.procedural import build_mesh
from transphy3d.scene.spec import LiquidSpec

GLASS_IOR = 1.5
CUP = {"height": 0.1, "bottom_radius": 0.032, "top_ratio": 1.12, "wall": 0.0025, "base": 0.008, "fillet": 0.003}
BOTTLE = {
    "body_radius": 0.03,
    "body_height": 0.13,
    "shoulder_height": 0.04,
    "neck_ratio": 0.35,
    "neck_height": 0.04,
    "lip": 0.002,
    "wall": 0.002,
    "base": 0.005,
    "fillet": 0.004,
}
SEGMENTS = 128
GAP = 2e-4  # metres of air between liquid and glass in the "gap" variant
UP = np.array([0.0, 0.0, 1.0])


def _studio(scene: bpy.types.Scene) -> None:
    """Checkered floor, striped backdrop 25 cm behind the objects, the ``studio`` HDRI, one softbox."""
    world = bpy.data.worlds.new("world")
    world.use_nodes = True
    env = world.node_tree.nodes.new("ShaderNodeTexEnvironment")
    env.image = bpy.data.images.load(bundled_hdri_path("studio"))
    world.node_tree.links.new(env.outputs["Color"], world.node_tree.nodes["Background"].inputs["Color"])
    scene.world = world
    floor = mesh_object("floor", trimesh.creation.box((2.0, 2.0, 0.01)), scene.collection, smooth=False)
    set_matrix(floor, trimesh.transformations.translation_matrix((0, 0, -0.005)))
    floor.data.materials.append(_pattern("floor_mat", "checker", 40.0))
    back = mesh_object("backdrop", trimesh.creation.box((2.0, 0.01, 1.0)), scene.collection, smooth=False)
    set_matrix(back, trimesh.transformations.translation_matrix((0, 0.25, 0.5)))
    back.data.materials.append(_pattern("back_mat", "stripes", 60.0))
    light = bpy.data.lights.new("softbox", "AREA")
    light.shape, light.size, light.energy = "RECTANGLE", 0.6, 60.0
    light.size_y = 0.4
    lamp = bpy.data.objects.new("softbox", light)
    scene.collection.objects.link(lamp)
    lamp.location = (-0.5, -0.6, 0.8)
    lamp.rotation_euler = (math.radians(50), 0, math.radians(-40))


def _pattern(name: str, kind: str, scale: float) -> bpy.types.Material:
    material = new_principled_material(name, {"roughness": 0.6})
    tree = material.node_tree
    if kind == "checker":
        tex = tree.nodes.new("ShaderNodeTexChecker")
        tex.inputs["Color1"].default_value = (0.85, 0.85, 0.85, 1)
        tex.inputs["Color2"].default_value = (0.35, 0.35, 0.35, 1)
    else:
        tex = tree.nodes.new("ShaderNodeTexWave")
        tex.wave_profile = "SAW"
        tex.bands_direction = "X"
        tex.inputs["Distortion"].default_value = 0.0
    tex.inputs["Scale"].default_value = scale
    coords = tree.nodes.new("ShaderNodeTexCoord")
    tree.links.new(coords.outputs["Object"], tex.inputs["Vector"])
    tree.links.new(tex.outputs["Color"], tree.nodes["Principled BSDF"].inputs["Base Color"])
    return material


def _glass(name: str, ior: float = GLASS_IOR) -> bpy.types.Material:
    return new_principled_material(name, {"roughness": 0.0, "ior": ior, "transmission": 1.0})


def _standing(mesh: trimesh.Trimesh, x: float) -> np.ndarray:
    """The pose that stands ``mesh`` (object frame) on the floor at ``x``."""
    return trimesh.transformations.translation_matrix((x, 0.0, -mesh.bounds[0, 2]))


def _camera(scene: bpy.types.Scene, target: tuple, distance: float, elevation_deg: float, lens: float) -> None:
    data = bpy.data.cameras.new("camera")
    data.lens = lens
    camera = bpy.data.objects.new("camera", data)
    scene.collection.objects.link(camera)
    e = math.radians(elevation_deg)
    camera.location = (target[0], target[1] - distance * math.cos(e), target[2] + distance * math.sin(e))
    camera.rotation_euler = (math.pi / 2 - e, 0.0, 0.0)
    scene.camera = camera


def _settings(scene: bpy.types.Scene, width: int, height: int, samples: int) -> None:
    c = scene.cycles
    scene.render.engine = "CYCLES"
    c.device = "CPU"
    c.samples, c.use_adaptive_sampling, c.use_denoising = samples, False, True
    c.max_bounces, c.glossy_bounces, c.transmission_bounces, c.diffuse_bounces = 24, 16, 16, 4
    c.transparent_max_bounces, c.volume_bounces = 8, 0
    c.caustics_reflective = c.caustics_refractive = True
    c.seed = 1
    scene.render.resolution_x, scene.render.resolution_y, scene.render.resolution_percentage = width, height, 100
    scene.view_settings.view_transform = "AgX"
    scene.render.image_settings.file_format = "PNG"


def _container(scene, family: str, params: dict, x: float, name: str) -> tuple[trimesh.Trimesh, np.ndarray]:
    mesh = build_mesh(family, params, SEGMENTS)
    pose = _standing(mesh, x)
    obj = mesh_object(name, mesh, scene.collection)
    obj.data.materials.append(_glass(f"{name}_glass"))
    set_matrix(obj, pose)
    return mesh, pose


def _liquid(scene, family: str, params: dict, pose: np.ndarray, liquid: LiquidSpec, overlap: float, name: str):
    inner = cavity(family, params, SEGMENTS, 1.0, overlap)
    level = inner.level_for(UP, inner.fill_volume(liquid.fill))
    mesh = inner.liquid(UP, level)
    obj = mesh_object(name, mesh, scene.collection)
    obj.data.materials.append(build_liquid_material(f"{name}_mat", liquid))
    set_matrix(obj, pose)
    return mesh, level


def _filled(scene, family: str, params: dict, pose: np.ndarray, liquid: LiquidSpec, name: str) -> None:
    """The exact model (what the renderer does for transparent containers): glass-air surfaces of
    the glass, the liquid-air free surface, and the glass-liquid interface with IOR
    n_liquid / n_glass."""
    inner = cavity(family, params, SEGMENTS, 1.0)
    level = inner.level_for(UP, inner.fill_volume(liquid.fill))
    parts = interfaces(build_mesh(family, params, SEGMENTS), inner, UP, level)
    ratio = liquid.model_copy(update={"ior": liquid.ior / GLASS_IOR})
    for part, mesh, material in (
        ("glass_air", parts.container_air, _glass(f"{name}_glass_air")),
        ("liquid_air", parts.liquid_air, build_liquid_material(f"{name}_liquid_air", liquid)),
        ("glass_liquid", parts.container_liquid, build_liquid_material(f"{name}_glass_liquid", ratio)),
    ):
        obj = mesh_object(f"{name}_{part}", mesh, scene.collection)
        obj.data.materials.append(material)
        set_matrix(obj, pose)


def _mid(kind: str) -> LiquidSpec:
    """A liquid of type ``kind`` at the middle of its preset's ranges."""
    preset = LIQUID_PRESETS[kind]

    def middle(d) -> float:
        lo, hi = d.support() or (d.sample(np.random.default_rng(0)),) * 2
        return (lo + hi) / 2

    hsv = preset.color.hsv
    import colorsys

    color = preset.color.rgb or colorsys.hsv_to_rgb(*[(a + b) / 2 for a, b in hsv])
    return LiquidSpec(
        type=kind,
        fill=0.7,
        ior=middle(preset.ior),
        color=tuple(float(c) for c in color),
        density=middle(preset.density),
        scatter=middle(preset.scatter),
    )


def _render(scene, path: Path) -> float:
    scene.render.filepath = str(path)
    start = time.perf_counter()
    bpy.ops.render.render(write_still=True)
    seconds = time.perf_counter() - start
    _save_small(Image.open(path).convert("RGB"), path)
    return seconds


def interface(out: Path, samples: int, reference_samples: int, width: int, height: int) -> None:
    water = _mid("water")
    variants = {"gap": -GAP, "overlap": OVERLAP, "interface": None}
    runs = [(name, samples) for name in variants] + [("interface", reference_samples)]
    for name, spp in runs:
        scene = reset()
        _studio(scene)
        if variants[name] is None:
            mesh = build_mesh("cup", CUP, SEGMENTS)
            _filled(scene, "cup", CUP, _standing(mesh, 0.0), water, "cup")
        else:
            _, pose = _container(scene, "cup", CUP, 0.0, "cup")
            _liquid(scene, "cup", CUP, pose, water, variants[name], "water")
        _camera(scene, (0.0, 0.0, 0.055), 0.32, 8.0, 60.0)
        _settings(scene, width, height, spp)
        seconds = _render(scene, out / f"interface_{name}_{spp}.png")
        print(f"{name} {spp} spp: {seconds:.1f} s", flush=True)
    compare_interfaces(out, list(variants), samples, reference_samples)


def compare_interfaces(out: Path, variants: list[str], samples: int, reference_samples: int) -> None:
    """FLIP of each variant against the reference; ``interface_comparison.png``: the renders
    over their FLIP error maps (magma), the reference on the right."""
    import flip_evaluator

    reference = _load(out / f"interface_interface_{reference_samples}.png")
    top, bottom = [], []
    for name in variants:
        test = _load(out / f"interface_{name}_{samples}.png")
        error_map, mean, _ = flip_evaluator.evaluate(reference, test, "LDR", applyMagma=False)
        print(f"FLIP vs reference, {name}: mean {mean:.4f}, p99 {np.quantile(error_map, 0.99):.4f}")
        top.append(test)
        bottom.append(np.asarray(flip_evaluator.evaluate(reference, test, "LDR")[0], dtype=np.float32))
    top.append(reference)
    bottom.append(np.zeros_like(reference))
    sheet = np.concatenate([np.concatenate(top, axis=1), np.concatenate(bottom, axis=1)], axis=0)
    _save_small(Image.fromarray((np.clip(sheet, 0, 1) * 255).astype(np.uint8)), out / "interface_comparison.png")


def _save_small(image: Image.Image, path: Path, limit: int = 300_000) -> None:
    """Save a PNG for the docs: as it is when under ``limit`` bytes, else with a 256-colour palette."""
    image.save(path, optimize=True)
    if path.stat().st_size > limit:
        image.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)


def _load(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0


def gallery(out: Path, samples: int, width: int, height: int) -> None:
    for kind in [None, *LIQUID_PRESETS]:
        scene = reset()
        _studio(scene)
        for family, params, x in (("cup", CUP, -0.045), ("bottle", BOTTLE, 0.045)):
            if kind is None:
                _container(scene, family, params, x, family)
            else:
                _filled(scene, family, params, _standing(build_mesh(family, params, SEGMENTS), x), _mid(kind), family)
        _camera(scene, (0.0, 0.0, 0.1), 0.5, 12.0, 50.0)
        _settings(scene, width, height, samples)
        seconds = _render(scene, out / f"gallery_{kind or 'empty'}.png")
        print(f"{kind or 'empty'}: {seconds:.1f} s", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["interface", "gallery"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--reference-samples", type=int, default=512)
    parser.add_argument("--width", type=int, default=480)
    parser.add_argument("--height", type=int, default=360)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.what == "interface":
        interface(args.out, args.samples, args.reference_samples, args.width, args.height)
    else:
        gallery(args.out, args.samples, args.width, args.height)


if __name__ == "__main__":
    main(sys.argv[1:])
