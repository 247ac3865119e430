"""Sampled materials (``MaterialSpec``) as Cycles node trees: a Principled BSDF, optionally with
a procedural texture mixing two base colours."""

from __future__ import annotations

import bpy

from transphy3d.scene.spec import MaterialSpec

PRINCIPLED_INPUTS = {
    "metallic": "Metallic",
    "roughness": "Roughness",
    "ior": "IOR",
    "transmission": "Transmission Weight",
    "coat_weight": "Coat Weight",
    "coat_roughness": "Coat Roughness",
    "anisotropic": "Anisotropic",
    "anisotropic_rotation": "Anisotropic Rotation",
    "specular_ior_level": "Specular IOR Level",
    "thin_film_thickness": "Thin Film Thickness",
}


def _rgba(rgb) -> tuple[float, float, float, float]:
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]), 1.0)


def _texture_factor(nodes, links, texture: dict) -> bpy.types.NodeSocket | None:
    """A 0..1 pattern socket for the texture type, in object coordinates times ``scale``."""
    kind = texture["type"]
    if kind == "none":
        return None
    coords = nodes.new("ShaderNodeTexCoord")
    scale = float(texture["scale"])
    if kind == "checker":
        node = nodes.new("ShaderNodeTexChecker")
        node.inputs["Color1"].default_value = (1, 1, 1, 1)
        node.inputs["Color2"].default_value = (0, 0, 0, 1)
        out = node.outputs["Fac"]
    elif kind == "brick":
        node = nodes.new("ShaderNodeTexBrick")
        node.inputs["Color1"].default_value = (1, 1, 1, 1)
        node.inputs["Color2"].default_value = (0.7, 0.7, 0.7, 1)
        node.inputs["Mortar"].default_value = (0, 0, 0, 1)
        out = node.outputs["Color"]
    elif kind == "wave":
        node = nodes.new("ShaderNodeTexWave")
        node.inputs["Distortion"].default_value = 4.0
        node.inputs["Detail"].default_value = 3.0
        out = node.outputs["Fac"]
    elif kind == "voronoi":
        node = nodes.new("ShaderNodeTexVoronoi")
        out = node.outputs["Distance"]
    else:  # noise, musgrave (merged into the noise node since Blender 4.1)
        node = nodes.new("ShaderNodeTexNoise")
        node.inputs["Detail"].default_value = 6.0 if kind == "musgrave" else 3.0
        out = node.outputs["Fac"]
    node.inputs["Scale"].default_value = scale
    links.new(coords.outputs["Object"], node.inputs["Vector"])
    contrast = nodes.new("ShaderNodeMapRange")
    c = float(texture.get("contrast", 1.0))
    contrast.inputs["To Min"].default_value = 0.5 - 0.5 * c
    contrast.inputs["To Max"].default_value = 0.5 + 0.5 * c
    links.new(out, contrast.inputs["Value"])
    return contrast.outputs["Result"]


def build_material(name: str, spec: MaterialSpec) -> bpy.types.Material:
    """A new Cycles material for a sampled material spec."""
    material = bpy.data.materials.new(name)
    material.use_nodes = True
    nodes, links = material.node_tree.nodes, material.node_tree.links
    bsdf = nodes["Principled BSDF"]
    params = spec.params
    for key, socket in PRINCIPLED_INPUTS.items():
        if key in params:
            bsdf.inputs[socket].default_value = float(params[key])
    base = _rgba(params.get("base_color", (0.8, 0.8, 0.8)))
    factor = _texture_factor(nodes, links, spec.texture)
    if factor is None:
        bsdf.inputs["Base Color"].default_value = base
    else:
        mix = nodes.new("ShaderNodeMix")
        mix.data_type = "RGBA"
        mix.inputs["A"].default_value = base
        mix.inputs["B"].default_value = _rgba(spec.texture["color2"])
        links.new(factor, mix.inputs["Factor"])
        links.new(mix.outputs["Result"], bsdf.inputs["Base Color"])
    return material
