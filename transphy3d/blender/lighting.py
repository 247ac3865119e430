"""World (Nishita sky, gradient, Blender's bundled HDRIs or a user's) and lights (softboxes and
ceiling panels as lit rectangles, discs, points and spots, with blackbody colour)."""

from __future__ import annotations

import math
from pathlib import Path

import bpy
from mathutils import Vector

from transphy3d.blender.images import load_image
from transphy3d.scene.spec import RECTANGULAR_LIGHTS, LightSpec, WorldSpec

SOFTBOX_SPREAD_DEG = 100.0


def load_environment_image(path: str) -> bpy.types.Image:
    """The HDRI ``path`` as a Blender image; a missing file or one Blender cannot decode (it
    would render as a black or pink world without a word) is an error naming the file."""
    return load_image(path, "HDRI", ".hdr/.exr")


def bundled_hdri_path(name: str) -> str:
    """The file of one of Blender's bundled world HDRIs (``BUNDLED_HDRIS``)."""
    folder = bpy.utils.system_resource("DATAFILES", path="studiolights/world")
    return str(Path(folder) / f"{name}.exr")


def build_world(scene: bpy.types.Scene, spec: WorldSpec) -> None:
    world = bpy.data.worlds.new("world")
    world.use_nodes = True
    nodes, links = world.node_tree.nodes, world.node_tree.links
    background = nodes["Background"]
    p = spec.params
    background.inputs["Strength"].default_value = float(p["strength"])
    if spec.type == "sky":
        sky = nodes.new("ShaderNodeTexSky")
        sky.sky_type = "NISHITA"
        sky.sun_elevation = math.radians(p["sun_elevation_deg"])
        sky.sun_rotation = math.radians(p["sun_rotation_deg"])
        sky.air_density = float(p["air_density"])
        sky.dust_density = float(p["dust_density"])
        sky.sun_disc = True
        links.new(sky.outputs["Color"], background.inputs["Color"])
    elif spec.type == "gradient":
        coords = nodes.new("ShaderNodeTexCoord")
        separate = nodes.new("ShaderNodeSeparateXYZ")
        links.new(coords.outputs["Generated"], separate.inputs["Vector"])
        ramp = nodes.new("ShaderNodeMapRange")
        ramp.inputs["From Min"].default_value = 0.0
        ramp.inputs["From Max"].default_value = 1.0
        links.new(separate.outputs["Z"], ramp.inputs["Value"])
        mix = nodes.new("ShaderNodeMix")
        mix.data_type = "RGBA"
        mix.inputs["A"].default_value = (*p["horizon_color"], 1.0)
        mix.inputs["B"].default_value = (*p["zenith_color"], 1.0)
        links.new(ramp.outputs["Result"], mix.inputs["Factor"])
        links.new(mix.outputs["Result"], background.inputs["Color"])
    else:
        coords = nodes.new("ShaderNodeTexCoord")
        mapping = nodes.new("ShaderNodeMapping")
        mapping.inputs["Rotation"].default_value = (0.0, 0.0, math.radians(p["rotation_deg"]))
        env = nodes.new("ShaderNodeTexEnvironment")
        env.image = load_environment_image(bundled_hdri_path(p["name"]) if "name" in p else p["file"])
        links.new(coords.outputs["Generated"], mapping.inputs["Vector"])
        links.new(mapping.outputs["Vector"], env.inputs["Vector"])
        links.new(env.outputs["Color"], background.inputs["Color"])
    scene.world = world


def build_light(index: int, spec: LightSpec, collection: bpy.types.Collection) -> bpy.types.Object:
    kind = "AREA" if spec.type in RECTANGULAR_LIGHTS else spec.type.upper()
    light = bpy.data.lights.new(f"light_{index}", kind)
    light.energy = float(spec.power_w)
    light.use_temperature = True
    light.temperature = float(spec.temperature_k)
    if spec.size_y is not None:  # a softbox or a ceiling panel: a lit rectangle
        light.shape = "RECTANGLE"
        light.size = max(float(spec.size), 0.01)
        light.size_y = max(float(spec.size_y), 0.01)
        if spec.type == "softbox":  # the diffuser and its black skirt narrow the beam
            light.spread = math.radians(SOFTBOX_SPREAD_DEG)
    elif kind == "AREA":
        light.shape = "DISK"
        light.size = max(float(spec.size), 0.01)
    else:
        light.shadow_soft_size = float(spec.size) / 2
    if kind == "SPOT":
        light.spot_size = math.radians(spec.spot_angle_deg)
        light.spot_blend = 0.3
    obj = bpy.data.objects.new(f"light_{index}", light)
    collection.objects.link(obj)
    obj.location = Vector(spec.position)
    direction = Vector(spec.target) - Vector(spec.position)
    obj.rotation_mode = "QUATERNION"
    obj.rotation_quaternion = direction.to_track_quat("-Z", "Y")
    return obj
