"""Build the render scene of a settled SceneSpec: environment, objects, materials, lights,
world and the animated camera. Pass indices carry instance ids (0 = environment); a container's
liquid is rendered as objects of its own at the container's pose."""

from __future__ import annotations

import bpy
import numpy as np
import trimesh

from transphy3d.blender.lighting import build_light, build_world
from transphy3d.blender.materials import build_liquid_material, build_material
from transphy3d.blender.meshes import asset_object, mesh_object, set_matrix
from transphy3d.geometry.camera import invert_rigid, opencv_to_blender_camera_to_world
from transphy3d.output.derive import LIQUID_INDEX_OFFSET
from transphy3d.scene.camera_path import spec_world_to_camera
from transphy3d.scene.environment import environment_parts, part_mesh, part_pose
from transphy3d.scene.liquids import liquid_interfaces, liquid_mesh
from transphy3d.scene.meshes import object_mesh
from transphy3d.scene.spec import LiquidSpec, ObjectSpec, PrincipledParams, SceneSpec


def _keyframe_matrices(obj: bpy.types.Object, matrices: np.ndarray) -> None:
    """Keyframe location and rotation (quaternion) at frames 0..F-1, constant interpolation."""
    obj.rotation_mode = "QUATERNION"
    for frame, matrix in enumerate(matrices):
        set_matrix(obj, matrix)
        obj.keyframe_insert("location", frame=frame)
        obj.keyframe_insert("rotation_quaternion", frame=frame)
    for curve in obj.animation_data.action.fcurves:
        for point in curve.keyframe_points:
            point.interpolation = "CONSTANT"


def liquid_name(obj: ObjectSpec) -> str:
    return f"{obj.name}_liquid"


def liquid_names(obj: ObjectSpec) -> tuple[str, str]:
    """Names of a filled container's liquid objects: the liquid (or its free surface) and the
    interface (only in a transparent container)."""
    return liquid_name(obj), f"{liquid_name(obj)}_interface"


def _liquid_part(
    name: str, mesh: trimesh.Trimesh, liquid: LiquidSpec, obj: ObjectSpec, pose: np.ndarray, collection
) -> bpy.types.Object:
    """A liquid surface at the container's (settled) pose; its object index marks its pixels as
    liquid (``derive.LIQUID_INDEX_OFFSET``)."""
    part = mesh_object(name, mesh, collection, smooth=True)
    part.data.materials.append(build_liquid_material(f"mat_{name}", liquid))
    part.pass_index = LIQUID_INDEX_OFFSET + obj.instance_id
    set_matrix(part, pose)
    return part


def _container_mesh(obj: ObjectSpec) -> trimesh.Trimesh:
    """What is rendered of an object: for a filled transparent container its surfaces that touch
    air (the liquid's interface replaces its wetted inner wall), else its mesh."""
    return liquid_interfaces(obj).container_air if _interface_model(obj) else object_mesh(obj)


def _interface_model(obj: ObjectSpec) -> bool:
    """Light crosses the container-liquid interface of a filled transparent container: it is
    rendered as a surface of its own with the ratio of the two IORs (docs/liquids.md)."""
    return obj.filled and obj.material.transparent and isinstance(obj.material.params, PrincipledParams)


def _liquid_objects(obj: ObjectSpec, pose: np.ndarray, collection) -> dict[str, bpy.types.Object]:
    """The liquid of a filled container: in a transparent one its free surface and the interface
    with the container's IOR ratio; in an opaque one the whole liquid, reaching into the wall."""
    if obj.instance_id >= LIQUID_INDEX_OFFSET:
        raise ValueError(f"{obj.name}: a container holding liquid needs an instance id below {LIQUID_INDEX_OFFSET}")
    name, interface = liquid_names(obj)
    if not _interface_model(obj):
        return {name: _liquid_part(name, liquid_mesh(obj), obj.liquid, obj, pose, collection)}
    parts = liquid_interfaces(obj)
    ratio = obj.liquid.model_copy(update={"ior": obj.liquid.ior / obj.material.params.ior})
    return {
        name: _liquid_part(name, parts.liquid_air, obj.liquid, obj, pose, collection),
        interface: _liquid_part(interface, parts.container_liquid, ratio, obj, pose, collection),
    }


def build_scene(scene: bpy.types.Scene, spec: SceneSpec) -> dict[str, bpy.types.Object]:
    """Populate ``scene`` (empty) with everything of ``spec``; returns objects by name."""
    built: dict[str, bpy.types.Object] = {}
    collection = scene.collection
    for part in environment_parts(spec):
        obj = mesh_object(part.name, part_mesh(part), collection, smooth=False)
        set_matrix(obj, part_pose(part))
        obj.pass_index = 0
        obj.data.materials.append(build_material(f"mat_{part.name}", part.material))
        built[part.name] = obj
    poses = spec.object_poses()
    for spec_obj in spec.objects:
        source = spec_obj.source
        if source.kind == "static" and source.keep_materials and source.blend:
            obj = asset_object(spec_obj.name, object_mesh(spec_obj), source.blend, collection)
        else:
            obj = mesh_object(spec_obj.name, _container_mesh(spec_obj), collection, smooth=True)
            obj.data.materials.append(build_material(f"mat_{spec_obj.name}", spec_obj.material))
        obj.pass_index = spec_obj.instance_id
        track = poses[spec_obj.instance_id]
        if spec_obj.trajectory:
            _keyframe_matrices(obj, track)
        else:
            set_matrix(obj, track[0])
        built[spec_obj.name] = obj
        if spec_obj.filled:
            built.update(_liquid_objects(spec_obj, track[0], collection))
    build_world(scene, spec.world)
    for index, light in enumerate(spec.lights):
        built[f"light_{index}"] = build_light(index, light, collection)

    camera_data = bpy.data.cameras.new("camera")
    camera_data.lens = spec.camera.focal_length_mm
    camera_data.sensor_width = spec.camera.sensor_width_mm
    camera_data.sensor_fit = "HORIZONTAL"
    camera_data.clip_start = spec.camera.clip_near
    camera_data.clip_end = spec.camera.clip_far
    camera = bpy.data.objects.new("camera", camera_data)
    collection.objects.link(camera)
    scene.camera = camera
    blender_poses = np.stack([opencv_to_blender_camera_to_world(m) for m in invert_rigid(spec_world_to_camera(spec))])
    _keyframe_matrices(camera, blender_poses)
    built["camera"] = camera

    r = spec.render
    scene.render.resolution_x, scene.render.resolution_y = r.width, r.height
    scene.render.resolution_percentage = 100
    scene.render.pixel_aspect_x = scene.render.pixel_aspect_y = 1.0
    scene.render.fps = max(1, round(r.fps))
    scene.render.fps_base = scene.render.fps / r.fps
    scene.frame_start, scene.frame_end = 0, r.frames - 1
    scene.frame_set(0)
    return built
