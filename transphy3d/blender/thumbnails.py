"""Thumbnails of an asset: its canonical mesh (own materials when it has a .blend, else a neutral
grey) from a few views around it, under neutral lighting: a uniform grey world and a soft key
light. Small and fast: Cycles, few samples, OpenImageDenoise."""

from __future__ import annotations

import math
from pathlib import Path

import bpy
import numpy as np
import trimesh
from mathutils import Euler, Vector

from transphy3d.blender.materials import new_principled_material
from transphy3d.blender.meshes import asset_object, mesh_object
from transphy3d.blender.session import reset

ELEVATION_DEG = 25.0
NEUTRAL = (0.5, 0.5, 0.5)


def _neutral_material() -> bpy.types.Material:
    return new_principled_material("neutral", {"base_color": NEUTRAL, "roughness": 0.5})


def _setup(scene: bpy.types.Scene, size: int, samples: int) -> None:
    scene.render.resolution_x = scene.render.resolution_y = size
    scene.render.resolution_percentage = 100
    scene.render.film_transparent = False
    scene.cycles.device = "CPU"
    scene.cycles.samples = samples
    scene.cycles.use_adaptive_sampling = False
    scene.cycles.use_denoising = True
    scene.cycles.denoiser = "OPENIMAGEDENOISE"
    scene.cycles.max_bounces = scene.cycles.glossy_bounces = scene.cycles.transmission_bounces = 6
    scene.view_settings.view_transform = "Standard"
    scene.render.image_settings.file_format = "PNG"
    scene.render.image_settings.color_mode = "RGB"
    world = bpy.data.worlds.new("neutral")
    world.use_nodes = True
    background = world.node_tree.nodes["Background"]
    background.inputs["Color"].default_value = (0.6, 0.6, 0.6, 1.0)
    background.inputs["Strength"].default_value = 1.0
    scene.world = world


def render_views(
    mesh: trimesh.Trimesh, blend: str | None, out_dir: str | Path, views: int, size: int, samples: int
) -> list[Path]:
    """Render ``views`` images of ``mesh`` (centred, metres) around the vertical axis."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scene = reset()
    _setup(scene, size, samples)
    if blend:
        asset_object("asset", mesh, blend, scene.collection)
    else:
        mesh_object("asset", mesh, scene.collection).data.materials.append(_neutral_material())
    radius = float(np.linalg.norm(mesh.vertices, axis=1).max())
    camera_data = bpy.data.cameras.new("camera")
    camera_data.lens, camera_data.sensor_width = 50.0, 36.0
    camera = bpy.data.objects.new("camera", camera_data)
    scene.collection.objects.link(camera)
    scene.camera = camera
    distance = 1.15 * radius / math.sin(math.atan(18.0 / 50.0))
    camera_data.clip_start, camera_data.clip_end = distance / 100, distance * 10
    light = bpy.data.objects.new("key", bpy.data.lights.new("key", "AREA"))
    light.data.energy = 12.0 * (distance / 0.5) ** 2
    light.data.size = distance
    scene.collection.objects.link(light)
    elevation = math.radians(ELEVATION_DEG)
    paths = []
    for view in range(views):
        azimuth = 2 * math.pi * view / views + math.radians(30.0)
        eye = Vector(
            (
                distance * math.cos(elevation) * math.cos(azimuth),
                distance * math.cos(elevation) * math.sin(azimuth),
                distance * math.sin(elevation),
            )
        )
        camera.location = eye
        camera.rotation_mode = "QUATERNION"
        camera.rotation_quaternion = (-eye).to_track_quat("-Z", "Y")
        key = eye.copy()
        key.rotate(Euler((0.0, 0.0, math.radians(-50.0))))
        light.location = key * 1.2 + Vector((0, 0, distance * 0.6))
        light.rotation_mode = "QUATERNION"
        light.rotation_quaternion = (-light.location).to_track_quat("-Z", "Y")
        path = out_dir / f"view_{view}.png"
        scene.render.filepath = str(path)
        bpy.ops.render.render(write_still=True, scene=scene.name)
        paths.append(path)
    return paths
