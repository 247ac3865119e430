"""Writing a scene directory's files (everything except the RGB PNGs Blender writes itself):
data-pass conversion to depth/normal/mask(/flow), camera.json, objects.json, meshes, scene.yaml."""

from __future__ import annotations

import json
import re
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from transphy3d.files import write_text_atomic
from transphy3d.geometry.camera import pixel_rays
from transphy3d.geometry.flow import forward_flow, object_motions
from transphy3d.output import contract, frame_files
from transphy3d.output.exr import read_multilayer_passes
from transphy3d.output.quality import MaskTally
from transphy3d.scene.camera_path import spec_intrinsics, spec_world_to_camera
from transphy3d.scene.environment import environment_parts, part_mesh, part_pose
from transphy3d.scene.meshes import object_mesh
from transphy3d.scene.sensor import SensorSpec
from transphy3d.scene.spec import MaterialSpec, SceneSpec, save_spec

NO_HIT_DEPTH = 1e9  # Cycles writes 1e10 where a camera ray escapes


def data_pass_to_arrays(
    passes: dict[str, np.ndarray], K: np.ndarray, world_to_cam: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Depth (0 = no hit), camera-frame unit normals facing the camera, uint16 instance mask from
    a Cycles data pass (``Depth.Z``, world-space ``Normal.XYZ``, ``IndexOB.X``)."""
    z = passes["Depth.Z"].astype(np.float32)
    hit = np.isfinite(z) & (z > 0) & (z < NO_HIT_DEPTH)
    depth = np.where(hit, z, 0.0).astype(np.float32)
    normal_world = np.stack([passes["Normal.X"], passes["Normal.Y"], passes["Normal.Z"]], axis=-1).astype(np.float64)
    normal = normal_world @ world_to_cam[:3, :3].T
    rays = pixel_rays(K, depth.shape[1], depth.shape[0])
    facing = np.sum(normal * rays, axis=-1) > 0
    normal[facing] *= -1
    length = np.linalg.norm(normal, axis=-1, keepdims=True)
    normal = np.where((length > 1e-6) & hit[..., None], normal / np.maximum(length, 1e-12), 0.0)
    mask = np.where(hit, np.rint(passes["IndexOB.X"]), 0).astype(np.uint16)
    return depth, normal.astype(np.float32), mask


class FrameConverter:
    """Turns one scene's data-pass EXRs into the contract's per-frame files."""

    def __init__(self, spec: SceneSpec, out_dir: Path):
        self.spec = spec
        self.out_dir = Path(out_dir)
        self.K = spec_intrinsics(spec)
        self.world_to_camera = spec_world_to_camera(spec)
        self.poses = spec.object_poses()
        self.compression = spec.output.exr_compression
        for kind in (contract.DEPTH_DIR, contract.NORMAL_DIR, contract.MASK_DIR):
            (self.out_dir / kind).mkdir(parents=True, exist_ok=True)
        if spec.output.flow:
            (self.out_dir / contract.FLOW_DIR).mkdir(parents=True, exist_ok=True)
        self.tally = MaskTally(o.instance_id for o in spec.objects)

    def convert(self, frame: int, exr_path: Path) -> None:
        passes = read_multilayer_passes(exr_path)
        depth, normal, mask = data_pass_to_arrays(passes, self.K, self.world_to_camera[frame])
        path = partial(contract.frame_path, self.out_dir, frame=frame)
        frame_files.write_depth(path(contract.DEPTH_DIR), depth, self.compression)
        frame_files.write_normal(path(contract.NORMAL_DIR), normal, self.compression)
        frame_files.write_mask(path(contract.MASK_DIR), mask)
        self.tally.add(frame, mask, depth)
        if self.spec.output.flow and frame + 1 < self.spec.render.frames:
            flow = forward_flow(
                depth,
                mask,
                self.K,
                self.world_to_camera[frame],
                self.world_to_camera[frame + 1],
                object_motions(self.poses, frame),
            )
            frame_files.write_flow(path(contract.FLOW_DIR), flow, self.compression)


_NUMBER_LIST = re.compile(r"\[\s*(-?[0-9][^\[\]{}\"]*?)\s*\]")


def compact_json(data: Any) -> str:
    """JSON with one line per innermost list of numbers (matrix rows stay readable)."""
    text = json.dumps(data, indent=1, allow_nan=False)
    return _NUMBER_LIST.sub(lambda m: "[" + ", ".join(p.strip() for p in m.group(1).split(",")) + "]", text) + "\n"


def sensor_camera(sensor: SensorSpec) -> contract.SensorCamera:
    """camera.json's ``sensor`` record of the simulated depth camera."""
    return contract.SensorCamera(
        preset=sensor.preset,
        width=sensor.ir_width,
        height=sensor.ir_height,
        K=contract.matrix_list(sensor.K()),
        baseline_m=sensor.baseline_m,
        rgb_to_ir_left=contract.matrix_list(sensor.rgb_to_part("left")),
        rgb_to_ir_right=contract.matrix_list(sensor.rgb_to_part("right")),
        rgb_to_emitter=contract.matrix_list(sensor.rgb_to_part("emitter")),
        disparities=sensor.disparities,
        min_depth_m=sensor.min_depth_m(),
        max_depth_m=sensor.max_depth_m,
        ideal_max_depth_m=sensor.ideal_max_depth_m,
    )


def write_camera(spec: SceneSpec, out_dir: Path) -> None:
    r = spec.render
    camera = contract.CameraFile.from_arrays(
        r.width,
        r.height,
        r.fps,
        spec_intrinsics(spec),
        list(spec_world_to_camera(spec)),
        spec.camera.clip_near,
        spec.camera.clip_far,
    )
    if spec.sensor is not None:
        camera.sensor = sensor_camera(spec.sensor)
    write_text_atomic(out_dir / contract.CAMERA_FILE, compact_json(camera.to_json()))


def _material_record(material: MaterialSpec) -> dict[str, Any]:
    return material.model_dump(mode="json", by_alias=True, exclude_none=True)


def write_objects_and_meshes(spec: SceneSpec, out_dir: Path) -> None:
    """``objects.json`` and ``meshes/*.ply`` for every object and environment part."""
    (out_dir / contract.MESH_DIR).mkdir(parents=True, exist_ok=True)
    poses = spec.object_poses()
    objects = []
    for obj in spec.objects:
        relative = contract.object_mesh_file(obj.instance_id)
        object_mesh(obj).export(out_dir / relative, file_type="ply")
        objects.append(
            contract.ObjectEntry(
                instance_id=obj.instance_id,
                name=obj.name,
                source=obj.source.model_dump(mode="json"),
                material=_material_record(obj.material),
                mesh=relative,
                object_to_world=[contract.matrix_list(m) for m in poses[obj.instance_id]],
            )
        )
    environment = []
    for part in environment_parts(spec):
        relative = contract.part_mesh_file(part.name)
        part_mesh(part).export(out_dir / relative, file_type="ply")
        environment.append(
            contract.EnvironmentEntry(
                name=part.name,
                material=_material_record(part.material),
                mesh=relative,
                object_to_world=contract.matrix_list(part_pose(part)),
            )
        )
    layout = contract.ObjectsFile(objects=objects, environment=environment)
    write_text_atomic(out_dir / contract.OBJECTS_FILE, compact_json(layout.to_json()))


def write_scene_files(spec: SceneSpec, out_dir: Path) -> None:
    """scene.yaml, camera.json, objects.json and meshes."""
    save_spec(spec, out_dir / contract.SCENE_SPEC_FILE)
    write_camera(spec, out_dir)
    write_objects_and_meshes(spec, out_dir)
