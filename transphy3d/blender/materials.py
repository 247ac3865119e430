"""Sampled materials (``MaterialSpec``) as Cycles node trees: a Principled BSDF whose inputs are
those of ``transphy3d.scene.material_params``, optionally with a procedural texture mixing two
base colours."""

from __future__ import annotations

from collections.abc import Callable

import bpy

from transphy3d.scene import material_params as mp
from transphy3d.scene.spec import MaterialSpec, PrincipledParams, TextureSpec


def _rgba(rgb) -> tuple[float, float, float, float]:
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]), 1.0)


def _checker(nodes) -> tuple[bpy.types.Node, str]:
    node = nodes.new("ShaderNodeTexChecker")
    node.inputs["Color1"].default_value = (1, 1, 1, 1)
    node.inputs["Color2"].default_value = (0, 0, 0, 1)
    return node, "Fac"


def _brick(nodes) -> tuple[bpy.types.Node, str]:
    node = nodes.new("ShaderNodeTexBrick")
    node.inputs["Color1"].default_value = (1, 1, 1, 1)
    node.inputs["Color2"].default_value = (0.7, 0.7, 0.7, 1)
    node.inputs["Mortar"].default_value = (0, 0, 0, 1)
    return node, "Color"


def _wave(nodes) -> tuple[bpy.types.Node, str]:
    node = nodes.new("ShaderNodeTexWave")
    node.inputs["Distortion"].default_value = 4.0
    node.inputs["Detail"].default_value = 3.0
    return node, "Fac"


def _voronoi(nodes) -> tuple[bpy.types.Node, str]:
    return nodes.new("ShaderNodeTexVoronoi"), "Distance"


def _noise(detail: float) -> Callable[[bpy.types.Nodes], tuple[bpy.types.Node, str]]:
    def build(nodes) -> tuple[bpy.types.Node, str]:
        node = nodes.new("ShaderNodeTexNoise")
        node.inputs["Detail"].default_value = detail
        return node, "Fac"

    return build


# Texture kind -> a builder of its pattern node and the name of its 0..1 output. Musgrave was
# merged into the noise node in Blender 4.1: more detail gives the fractal look.
TEXTURE_NODES: dict[str, Callable[[bpy.types.Nodes], tuple[bpy.types.Node, str]]] = {
    "checker": _checker,
    "brick": _brick,
    "wave": _wave,
    "voronoi": _voronoi,
    "noise": _noise(3.0),
    "musgrave": _noise(6.0),
}
assert set(TEXTURE_NODES) == set(mp.TEXTURE_KINDS) - {"none"}, "every texture kind needs a node builder"


def _texture_factor(nodes, links, texture: TextureSpec) -> bpy.types.NodeSocket | None:
    """A 0..1 pattern socket for the texture type, in object coordinates times ``scale``."""
    if texture.type == "none":
        return None
    coords = nodes.new("ShaderNodeTexCoord")
    node, output = TEXTURE_NODES[texture.type](nodes)
    node.inputs["Scale"].default_value = float(texture.scale)
    links.new(coords.outputs["Object"], node.inputs["Vector"])
    contrast = nodes.new("ShaderNodeMapRange")
    c = float(texture.contrast)
    contrast.inputs["To Min"].default_value = 0.5 - 0.5 * c
    contrast.inputs["To Max"].default_value = 0.5 + 0.5 * c
    links.new(node.outputs[output], contrast.inputs["Value"])
    return contrast.outputs["Result"]


def set_principled_inputs(bsdf: bpy.types.Node, values: dict[str, float | tuple[float, ...]]) -> None:
    """Set Principled BSDF inputs by their parameter names (``base_color`` as linear RGB)."""
    for name, value in values.items():
        socket = bsdf.inputs[mp.SOCKETS[name]]
        socket.default_value = _rgba(value) if name == "base_color" else float(value)


def new_principled_material(name: str, values: dict[str, float | tuple[float, ...]]) -> bpy.types.Material:
    """A material whose Principled BSDF has ``values`` (parameter names) and defaults elsewhere."""
    material = bpy.data.materials.new(name)
    material.use_nodes = True
    set_principled_inputs(material.node_tree.nodes["Principled BSDF"], values)
    return material


def build_material(name: str, spec: MaterialSpec) -> bpy.types.Material:
    """A new Cycles material for a sampled material spec."""
    params = spec.params
    if not isinstance(params, PrincipledParams):
        raise TypeError(f"{name}: material {spec.class_name}/{spec.preset} has no Principled parameters")
    values = params.model_dump()
    base = _rgba(values.pop("base_color"))
    material = new_principled_material(name, values)
    nodes, links = material.node_tree.nodes, material.node_tree.links
    bsdf = nodes["Principled BSDF"]
    factor = _texture_factor(nodes, links, spec.texture)
    if factor is None:
        bsdf.inputs[mp.BASE_COLOR_SOCKET].default_value = base
    else:
        mix = nodes.new("ShaderNodeMix")
        mix.data_type = "RGBA"
        mix.inputs["A"].default_value = base
        mix.inputs["B"].default_value = _rgba(spec.texture.color2)
        links.new(factor, mix.inputs["Factor"])
        links.new(mix.outputs["Result"], bsdf.inputs[mp.BASE_COLOR_SOCKET])
    return material
