"""The Blender material builder follows the one description of material parameters: every
described input names a real socket of Blender's Principled BSDF and receives the sampled value;
every texture kind builds. Runs bpy in this process (no render)."""

from __future__ import annotations

import pytest
from helpers import REPO

from transphy3d.rng import stream
from transphy3d.scene import material_params as mp
from transphy3d.scene.materials import load_library, sample_material

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


@pytest.mark.parametrize("kind", [k for k in mp.TEXTURE_KINDS if k != "none"])
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
