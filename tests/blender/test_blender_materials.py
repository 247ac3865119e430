"""The Blender material builder follows the one description of material parameters: every
described input names a real socket of Blender's Principled BSDF and receives the sampled value;
every texture kind builds; a texture recorded before the texture fields existed builds the node
tree it always had; every surface kind renders a patch that is not flat and differs between two
draws of its preset; a user's image renders its own colours, and one that does not decode is an
error naming it. Runs bpy in this process (tiny renders: 96x64 pixels, 8 samples)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from helpers import REPO
from PIL import Image
from scipy.ndimage import uniform_filter

from transphy3d.errors import UnreadableFileError
from transphy3d.rng import stream
from transphy3d.scene import material_params as mp
from transphy3d.scene.materials import load_library, sample_material
from transphy3d.scene.recorded import load_spec
from transphy3d.scene.spec import MaterialSpec, TextureSpec

bpy = pytest.importorskip("bpy")
pytestmark = pytest.mark.blender


def test_every_described_input_is_a_principled_socket_set_to_the_sampled_value() -> None:
    from transphy3d.blender.materials import build_material

    library = load_library(REPO / "materials")
    spec = sample_material(library, "glass/frosted_glass", stream(0, "blender-material-test"))
    material = build_material("test_material", spec)
    bsdf = material.node_tree.nodes["Principled BSDF"]
    for shader_input in mp.PRINCIPLED_INPUTS:
        assert bsdf.inputs[shader_input.socket].default_value == pytest.approx(getattr(spec.params, shader_input.name))
    assert tuple(bsdf.inputs[mp.BASE_COLOR_SOCKET].default_value)[:3] == pytest.approx(spec.params.base_color)


LEGACY_KINDS = [k for k in mp.TEXTURE_KINDS if k != "none" and k not in mp.SURFACE_KINDS]


@pytest.mark.parametrize("kind", LEGACY_KINDS)
def test_every_texture_kind_mixes_the_two_colours(kind: str) -> None:
    from transphy3d.blender.materials import build_material

    library = load_library(REPO / "materials")
    spec = sample_material(library, "floor", stream(1, "blender-texture-test"))
    spec = spec.model_copy(
        update={
            "texture": spec.texture.model_copy(
                update={"type": kind, "scale": 5.0, "color2": (0.1, 0.2, 0.3), "contrast": 0.5}
            )
        }
    )
    material = build_material(f"textured_{kind}", spec)
    nodes = material.node_tree.nodes
    mix = next(n for n in nodes if n.bl_idname == "ShaderNodeMix")
    assert tuple(mix.inputs["B"].default_value)[:3] == pytest.approx((0.1, 0.2, 0.3))
    assert mix.outputs["Result"].links[0].to_socket == nodes["Principled BSDF"].inputs[mp.BASE_COLOR_SOCKET]
    assert mix.inputs["Factor"].is_linked


def test_a_texture_recorded_before_the_texture_fields_builds_the_tree_it_always_had() -> None:
    from transphy3d.blender.materials import build_material

    spec = load_spec(REPO / "tests" / "scene" / "data" / "scene_before_surfaces.yaml")
    for part in spec.environment.parts:
        if part.material.texture.type == "none":
            continue
        material = build_material(f"old_{part.name}", part.material)
        kinds = sorted(n.bl_idname for n in material.node_tree.nodes)
        pattern = {"checker": "ShaderNodeTexChecker", "noise": "ShaderNodeTexNoise"}[part.material.texture.type]
        expected = ["ShaderNodeBsdfPrincipled", "ShaderNodeMapRange", "ShaderNodeMix", "ShaderNodeOutputMaterial"]
        assert kinds == sorted([*expected, "ShaderNodeTexCoord", pattern])
        assert not material.node_tree.nodes["Principled BSDF"].inputs["Normal"].is_linked


# A preset of each surface kind (the image kind is tested with an image of its own).
KIND_PRESETS = {
    "wood": "table/wood",
    "planks": "floor/wood_planks",
    "marble": "table/marble",
    "laminate": "table/laminate",
    "fabric": "table/fabric",
    "brushed": "table/steel_bench",
    "tiles": "floor/tiles",
    "plastic": "container/plastic_bin",
}
assert set(KIND_PRESETS) == set(mp.SURFACE_KINDS) - {"image"}
PATCH_UNITS = 12  # pattern units across the rendered patch: each kind seen at its own scale


def patch_width(material: MaterialSpec) -> float:
    return PATCH_UNITS / material.texture.pattern_scale()


def render_patch(material: MaterialSpec, path: Path, width: float | None = None, lit: bool = True) -> np.ndarray:
    """The 8-bit sRGB pixels (96 x 64, 32 samples, no denoising) of the top of a 10 m box of
    ``material`` seen from above at 30 degrees, ``width`` metres across (default PATCH_UNITS of
    its pattern). ``lit``: a grey sky and an area light whose highlight lies in view (AgX view);
    otherwise a white sky alone (Standard view), under which a matte top shows its albedo."""
    import bmesh

    from transphy3d.blender.materials import build_material
    from transphy3d.blender.session import reset

    scene = reset()
    mesh = bpy.data.meshes.new("patch")
    box = bmesh.new()
    bmesh.ops.create_cube(box, size=10.0)
    box.to_mesh(mesh)
    box.free()
    obj = bpy.data.objects.new("patch", mesh)
    scene.collection.objects.link(obj)
    obj.location = (0.0, 0.0, -5.0)
    mesh.materials.append(build_material("patch", material))
    camera = bpy.data.objects.new("camera", bpy.data.cameras.new("camera"))
    camera.data.type, camera.data.ortho_scale = "ORTHO", width or patch_width(material)
    camera.location, camera.rotation_euler = (0.0, -1.0, 1.732), (math.radians(30), 0.0, 0.0)
    scene.collection.objects.link(camera)
    scene.camera = camera
    if lit:
        light = bpy.data.objects.new("light", bpy.data.lights.new("light", "AREA"))
        light.data.energy, light.data.size = 20.0, 1.0
        light.location, light.rotation_euler = (0.0, 1.0, 1.7), (math.radians(-30), 0.0, 0.0)
        scene.collection.objects.link(light)
    world = bpy.data.worlds.new("world")
    world.use_nodes = True
    world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.5, 0.5, 0.5, 1.0) if lit else (1, 1, 1, 1)
    scene.world = world
    scene.render.resolution_x, scene.render.resolution_y = 96, 64
    scene.cycles.samples, scene.cycles.use_denoising, scene.cycles.seed = 32, False, 0
    scene.view_settings.view_transform = "AgX" if lit else "Standard"
    scene.render.image_settings.file_format = "PNG"
    scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)


def detail(pixels: np.ndarray) -> float:
    """Pixel std of the grey image less its 31-pixel blur: the pattern, not the light's gradient."""
    grey = pixels.mean(axis=2)
    return float((grey - uniform_filter(grey, size=31, mode="nearest")).std())


# Kinds seen mainly in their highlights (roughness, anisotropy, fine relief): rendered with the
# light in view; the others under a white sky, where their colours show.
GLOSSY_KINDS = ("brushed", "plastic")


@pytest.mark.parametrize("kind", sorted(KIND_PRESETS))
def test_every_surface_kind_renders_a_pattern_that_differs_between_draws(kind: str, tmp_path: Path) -> None:
    library = load_library(REPO / "materials")
    a, b = (sample_material(library, KIND_PRESETS[kind], stream(seed, "patch", kind)) for seed in (1, 2))
    assert a.texture.type == b.texture.type == kind
    width, lit = patch_width(a), kind in GLOSSY_KINDS
    # Not flat: at full contrast, relief and roughness variation (laminate, moulded plastic and
    # brushed metal are subtle by design), far more detail than the render noise of the same
    # material without its texture.
    strong = {"contrast": 1.0, "bump": 1.0, "roughness_variation": 1.0}
    full = a.model_copy(update={"texture": a.texture.model_copy(update=strong)})
    pattern = detail(render_patch(full, tmp_path / "full.png", width, lit))
    plain = detail(
        render_patch(a.model_copy(update={"texture": TextureSpec(type="none")}), tmp_path / "p.png", width, lit)
    )
    assert pattern > 2 * plain + 0.5, f"{kind}: flat ({pattern:.2f}, without the texture {plain:.2f})"
    # As sampled, two draws of the preset differ (colours, scale, placement).
    first = render_patch(a, tmp_path / "a.png", width, lit)
    second = render_patch(b, tmp_path / "b.png", width, lit)
    assert np.abs(first - second).mean() > 2.0, f"{kind}: two draws render alike"


def test_a_users_image_renders_its_own_colours(tmp_path: Path) -> None:
    """Left half red, right half blue, one tile across the patch: under a white sky the matte top
    shows the image's own colours."""
    red, blue = (200, 40, 30), (30, 60, 190)
    pixels = np.zeros((32, 32, 3), dtype=np.uint8)
    pixels[:, :16], pixels[:, 16:] = red, blue
    Image.fromarray(pixels).save(tmp_path / "mine.png")
    library = load_library(REPO / "materials")
    material = sample_material(library, "wall/painted", stream(0, "image"))
    image = TextureSpec(type="image", image=str(tmp_path / "mine.png"), scale=1.0, offset=(0.5, 0.0, 0.0), bump=0.0)
    material = material.model_copy(
        update={"texture": image, "params": material.params.model_copy(update={"roughness": 1.0})}
    )
    rendered = render_patch(material, tmp_path / "render.png", width=0.9, lit=False)
    h, w, _ = rendered.shape
    left, right = rendered[h // 4 : 3 * h // 4, 4 : w // 2 - 8], rendered[h // 4 : 3 * h // 4, w // 2 + 8 : -4]
    assert np.abs(left.mean(axis=(0, 1)) - red).max() < 25, left.mean(axis=(0, 1))
    assert np.abs(right.mean(axis=(0, 1)) - blue).max() < 25, right.mean(axis=(0, 1))


def test_an_image_that_does_not_decode_is_an_error_naming_it(tmp_path: Path) -> None:
    from transphy3d.blender.materials import build_material

    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    library = load_library(REPO / "materials")
    material = sample_material(library, "wall/painted", stream(0, "bad"))
    material = material.model_copy(update={"texture": TextureSpec(type="image", image=str(bad), scale=1.0)})
    with pytest.raises(UnreadableFileError, match=rf"^{bad}: texture.image: not a readable image"):
        build_material("bad", material)
    missing = tmp_path / "gone.jpg"
    material = material.model_copy(update={"texture": TextureSpec(type="image", image=str(missing), scale=1.0)})
    with pytest.raises(UnreadableFileError, match=rf"^{missing}: texture.image: not a readable image"):
        build_material("gone", material)
