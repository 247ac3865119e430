"""Cycles settings and the two render passes of a scene.

1. The *data pass*: 1 sample at the pixel centres (0.01 px filter), no denoising, no bounces;
   writes depth, world normals and object index to a multilayer EXR per frame.
2. The *beauty pass*: the configured samples with denoising; Blender writes the 8-bit sRGB PNGs
   itself, while a worker thread converts the data pass (Cycles releases the GIL while it renders).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import bpy

from transphy3d.blender.session import DeviceChoice
from transphy3d.scene.spec import RenderSpec


def configure_beauty(scene: bpy.types.Scene, r: RenderSpec, device: DeviceChoice, png_compression: int) -> None:
    c = scene.cycles
    scene.view_layers[0].material_override = None  # the scene's own materials (see configure_data_pass)
    c.samples = r.samples
    c.use_adaptive_sampling = r.adaptive_threshold > 0
    c.adaptive_threshold = r.adaptive_threshold
    c.adaptive_min_samples = r.adaptive_min_samples
    c.use_denoising = r.denoise
    if r.denoise:
        c.denoiser = device.denoiser
        c.denoising_input_passes = r.denoise_input_passes
        c.denoising_prefilter = r.denoise_prefilter  # OpenImageDenoise only; OptiX ignores it
        c.denoising_quality = r.denoise_quality  # OpenImageDenoise only
    c.max_bounces = r.max_bounces
    c.diffuse_bounces = r.diffuse_bounces
    c.glossy_bounces = r.glossy_bounces
    c.transmission_bounces = r.transmission_bounces
    c.transparent_max_bounces = r.transparent_bounces
    c.volume_bounces = 0
    c.caustics_reflective = c.caustics_refractive = r.caustics
    c.blur_glossy = r.filter_glossy
    c.sample_clamp_direct = r.clamp_direct
    c.sample_clamp_indirect = r.clamp_indirect
    c.use_light_tree = r.light_tree
    c.light_sampling_threshold = r.light_sampling_threshold
    c.use_guiding = r.path_guiding  # path guiding runs on CPUs only; Cycles ignores it on GPUs
    c.pixel_filter_type = "BLACKMAN_HARRIS"
    c.filter_width = r.pixel_filter_width
    c.seed = r.cycles_seed
    c.use_animated_seed = r.animated_seed
    scene.render.use_persistent_data = r.persistent_data
    scene.render.use_motion_blur = False
    scene.view_settings.view_transform = r.view_transform
    scene.view_settings.look = "None"
    scene.view_settings.exposure = 0.0
    scene.view_settings.gamma = 1.0
    scene.display_settings.display_device = "sRGB"
    layer = scene.view_layers[0]
    layer.use_pass_z = layer.use_pass_normal = layer.use_pass_object_index = False
    settings = scene.render.image_settings
    settings.file_format = "PNG"
    settings.color_mode = "RGB"
    settings.color_depth = "8"
    settings.compression = png_compression
    scene.render.use_file_extension = True
    scene.render.use_overwrite = True


DATA_PASS_MATERIAL = "transphy3d_data_pass"


def configure_data_pass(scene: bpy.types.Scene) -> None:
    c = scene.cycles
    c.samples = 1
    c.use_adaptive_sampling = False
    c.use_denoising = False
    c.max_bounces = c.diffuse_bounces = c.glossy_bounces = c.transmission_bounces = 0
    c.transparent_max_bounces = 0
    c.filter_width = 0.01  # sample 0 lands within 0.005 px of the pixel centre
    layer = scene.view_layers[0]
    layer.use_pass_z = layer.use_pass_normal = layer.use_pass_object_index = True
    # Geometry, not shading: one plain material everywhere, so the normal pass is the surfaces'
    # (smooth-shaded) normal without the bump of wood grain, tiles or fabric.
    layer.material_override = bpy.data.materials.get(DATA_PASS_MATERIAL) or bpy.data.materials.new(DATA_PASS_MATERIAL)
    settings = scene.render.image_settings
    settings.file_format = "OPEN_EXR_MULTILAYER"
    settings.color_depth = "32"
    settings.exr_codec = "NONE"  # a scratch file: fastest to write and read


def render_animation(
    scene: bpy.types.Scene,
    pattern: Path,
    on_frame: Callable[[int], None] | None = None,
    frames: Sequence[int] | None = None,
) -> float:
    """Render frames scene.frame_start..frame_end (or only ``frames``, in that order) to
    ``pattern`` (``dir/######``); returns seconds. ``on_frame(frame)`` runs after each frame is
    written. The scene's frame range is left as it was."""

    def handler(scene_arg, *_args) -> None:
        if on_frame is not None:
            on_frame(scene_arg.frame_current)

    scene.render.filepath = str(pattern)
    bpy.app.handlers.render_write.append(handler)
    frame_range = scene.frame_start, scene.frame_end
    try:
        start = time.perf_counter()
        if frames is None:
            bpy.ops.render.render(animation=True, scene=scene.name)
        else:
            # One single-frame animation per frame: same file naming and render_write handler;
            # persistent data keeps the scene between the calls.
            for frame in frames:
                scene.frame_start = scene.frame_end = int(frame)
                bpy.ops.render.render(animation=True, scene=scene.name)
        return time.perf_counter() - start
    finally:
        scene.frame_start, scene.frame_end = frame_range
        bpy.app.handlers.render_write.remove(handler)
