"""Writing a scene directory's files (everything except what Blender and the depth camera write):
the data-pass channels, camera.json, objects.json, meshes, scene.yaml."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from transphy3d.files import write_text_atomic
from transphy3d.output import contract
from transphy3d.output.channels import DEPTH, MASK, Made, Switches, channels_of
from transphy3d.output.derive import SceneGeometry, liquid_pixels
from transphy3d.output.exr import read_multilayer_passes
from transphy3d.output.quality import MaskTally
from transphy3d.scene.camera_path import spec_intrinsics, spec_world_to_camera
from transphy3d.scene.environment import environment_parts, part_mesh, part_pose
from transphy3d.scene.liquids import liquid_mesh
from transphy3d.scene.meshes import object_mesh
from transphy3d.scene.sensor import SensorSpec
from transphy3d.scene.spec import MaterialSpec, ObjectSpec, SceneSpec, save_spec


class FrameConverter:
    """Turns one scene's data-pass EXRs into the per-frame files of its data-pass channels (the
    channel table's ``Made.DATA`` rows, in table order), and tallies the masks for meta.json."""

    def __init__(self, spec: SceneSpec, out_dir: Path):
        self.spec = spec
        self.out_dir = Path(out_dir)
        self.geometry = SceneGeometry(spec)
        self.compression = spec.output.exr_compression
        self.channels = channels_of(Switches.from_spec(spec), Made.DATA)
        for row in self.channels:
            (self.out_dir / row.folder).mkdir(parents=True, exist_ok=True)
        self.tally = MaskTally(o.instance_id for o in spec.objects)

    def convert(self, frame: int, exr_path: Path) -> None:
        passes = read_multilayer_passes(exr_path)
        arrays: dict[str, np.ndarray] = {}
        for row in self.channels:
            assert row.derive is not None, f"data-pass channel {row.name} has no derivation"
            array = row.derive.run(self.geometry, frame, passes, *(arrays[n] for n in row.derive.needs))
            if array is not None:
                arrays[row.name] = array
                row.write(row.path(self.out_dir, frame), array, self.compression)
        self.tally.add(frame, arrays[MASK], arrays[DEPTH], liquid_pixels(passes, arrays[DEPTH]))


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


def _liquid_record(obj: ObjectSpec, out_dir: Path) -> contract.LiquidEntry | None:
    """Export a container's liquid mesh and describe it (None when it holds none)."""
    if not obj.filled:
        return None
    relative = contract.liquid_mesh_file(obj.instance_id)
    liquid_mesh(obj).export(out_dir / relative, file_type="ply")
    values = obj.liquid.model_dump(include={"type", "ior", "color", "density", "scatter", "fill", "volume_ml"})
    return contract.LiquidEntry(**values, mesh=relative)


def write_objects_and_meshes(spec: SceneSpec, out_dir: Path) -> None:
    """``objects.json`` and ``meshes/*.ply`` for every object, liquid and environment part."""
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
                liquid=_liquid_record(obj, out_dir),
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
