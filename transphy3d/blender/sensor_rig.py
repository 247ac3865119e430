"""The simulated depth camera in Blender: two IR cameras and the emitter, parented to the RGB
camera (so they follow its path), and the IR pass: the scene's own geometry and materials (glass
refracts and reflects the pattern as it does visible light), visible lamps off, the world turned
down to an ambient IR level, and a spot light projecting the dot pattern through its node tree
(texture coordinate Normal, the direction in the light's frame, divided by its depth)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import bpy
import numpy as np

from transphy3d.blender.cycles import render_animation
from transphy3d.scene.sensor import SensorSpec, dot_pattern

PATTERN_IMAGE = "transphy3d_sensor_pattern"


@dataclass
class SensorRig:
    """The built rig and what the IR pass changes (restored by ``visible_look``)."""

    left: bpy.types.Object
    right: bpy.types.Object
    emitter: bpy.types.Object
    lamps: list[bpy.types.Object]
    world_strength: float


def _camera(name: str, spec: SensorSpec, parent: bpy.types.Object, offset: np.ndarray) -> bpy.types.Object:
    data = bpy.data.cameras.new(name)
    data.sensor_fit = "HORIZONTAL"
    data.angle = math.radians(spec.ir_hfov_deg)
    data.clip_start = parent.data.clip_start
    data.clip_end = parent.data.clip_end
    obj = bpy.data.objects.new(name, data)
    bpy.context.scene.collection.objects.link(obj)
    obj.parent = parent
    # OpenCV x (right) is Blender's camera x: the offset is along the parent's local x.
    obj.location = (float(offset[0]), 0.0, 0.0)
    return obj


def _pattern_image(spec: SensorSpec) -> bpy.types.Image:
    pattern = dot_pattern(spec)
    height, width = pattern.shape
    image = bpy.data.images.new(PATTERN_IMAGE, width, height, alpha=False, float_buffer=True)
    rgba = np.repeat(pattern[::-1, :, None], 4, axis=-1)  # Blender's rows go bottom-up
    rgba[..., 3] = 1.0
    image.pixels.foreach_set(rgba.ravel())
    image.pack()
    return image


def _emitter(spec: SensorSpec, parent: bpy.types.Object) -> bpy.types.Object:
    light = bpy.data.lights.new("sensor_emitter", "SPOT")
    light.energy = spec.emitter_power_w
    half_h, half_v = (math.tan(math.radians(a) / 2) for a in (spec.projector_hfov_deg, spec.projector_vfov_deg))
    light.spot_size = min(2 * math.atan(math.hypot(half_h, half_v)) + 0.02, math.pi)
    light.spot_blend = 0.0
    light.shadow_soft_size = 0.0
    light.cycles.is_caustics_light = spec.caustics
    light.use_nodes = True
    tree = light.node_tree
    tree.nodes.clear()
    coords = tree.nodes.new("ShaderNodeTexCoord")
    split = tree.nodes.new("ShaderNodeSeparateXYZ")
    divide = tree.nodes.new("ShaderNodeVectorMath")
    divide.operation = "DIVIDE"
    mapping = tree.nodes.new("ShaderNodeMapping")
    # direction / z (z < 0 ahead of the light): x/z runs right to left, y/z top to bottom
    mapping.inputs["Location"].default_value = (0.5, 0.5, 0.0)
    mapping.inputs["Scale"].default_value = (-0.5 / half_h, -0.5 / half_v, 1.0)
    texture = tree.nodes.new("ShaderNodeTexImage")
    texture.image = _pattern_image(spec)
    texture.extension = "CLIP"
    texture.interpolation = "Linear"
    emission = tree.nodes.new("ShaderNodeEmission")
    output = tree.nodes.new("ShaderNodeOutputLight")
    links = tree.links
    links.new(coords.outputs["Normal"], split.inputs[0])
    links.new(coords.outputs["Normal"], divide.inputs[0])
    links.new(split.outputs["Z"], divide.inputs[1])
    links.new(divide.outputs["Vector"], mapping.inputs["Vector"])
    links.new(mapping.outputs["Vector"], texture.inputs["Vector"])
    links.new(texture.outputs["Color"], emission.inputs["Color"])
    links.new(emission.outputs["Emission"], output.inputs["Surface"])
    obj = bpy.data.objects.new("sensor_emitter", light)
    bpy.context.scene.collection.objects.link(obj)
    obj.parent = parent
    obj.location = (float(spec.position("emitter")[0]), 0.0, 0.0)  # aims along the camera's -z, as cameras do
    obj.hide_render = True
    return obj


def build_sensor(
    scene: bpy.types.Scene, spec: SensorSpec, camera: bpy.types.Object, transparent: Sequence[bpy.types.Object]
) -> SensorRig:
    """Add the rig to ``scene`` (hidden until ``ir_look``); the ``transparent`` objects cast the
    refracted pattern (Cycles' MNEE caustics) onto every other surface when ``spec.caustics``."""
    left = _camera("sensor_ir_left", spec, camera, spec.position("left"))
    right = _camera("sensor_ir_right", spec, camera, spec.position("right"))
    emitter = _emitter(spec, camera)
    if spec.caustics:
        for obj in scene.objects:
            if obj.type != "MESH":
                continue
            caster = obj in transparent
            obj.cycles.is_caustics_caster = caster
            obj.cycles.is_caustics_receiver = not caster
    lamps = [obj for obj in scene.objects if obj.type == "LIGHT" and obj is not emitter]
    strength = scene.world.node_tree.nodes["Background"].inputs["Strength"].default_value if scene.world else 0.0
    return SensorRig(left, right, emitter, lamps, float(strength))


def ir_look(scene: bpy.types.Scene, rig: SensorRig, spec: SensorSpec) -> None:
    """Lamps off, ambient world, emitter on; IR render settings (resolution, samples, no
    denoising, linear grey float EXR)."""
    for lamp in rig.lamps:
        lamp.hide_render = True
    rig.emitter.hide_render = False
    if scene.world:
        scene.world.node_tree.nodes["Background"].inputs["Strength"].default_value = rig.world_strength * spec.ambient
    scene.render.resolution_x, scene.render.resolution_y = spec.ir_width, spec.ir_height
    c = scene.cycles
    c.samples = spec.samples
    c.use_adaptive_sampling = False
    c.use_denoising = False
    scene.view_settings.view_transform = "Standard"
    scene.view_settings.look = "None"
    settings = scene.render.image_settings
    settings.file_format = "OPEN_EXR"
    settings.color_mode = "BW"
    settings.color_depth = "32"
    settings.exr_codec = "NONE"  # scratch files


def render_ir(
    scene: bpy.types.Scene,
    rig: SensorRig,
    spec: SensorSpec,
    scratch: Path,
    on_frame: Callable[[int], None] | None = None,
    frames: Sequence[int] | None = None,
) -> float:
    """Render the left and right IR images of ``frames`` into ``scratch/left`` and
    ``scratch/right`` (``######.exr``); returns seconds. The RGB camera is active again after."""
    camera = scene.camera
    ir_look(scene, rig, spec)
    seconds = 0.0
    try:
        for side, obj in (("left", rig.left), ("right", rig.right)):
            (scratch / side).mkdir(parents=True, exist_ok=True)
            scene.camera = obj
            seconds += render_animation(scene, scratch / side / "######", on_frame, frames)
    finally:
        scene.camera = camera
    return seconds
