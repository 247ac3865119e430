"""Check scene directories against the data contract: files present and readable, shapes,
dtypes and value ranges. Pure Python; used by the farm before a scene counts as done and by
``transphy3d validate``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from transphy3d.files import read_json
from transphy3d.output import contract, frame_files


@dataclass
class SceneReport:
    scene: str
    problems: list[str] = field(default_factory=list)
    frames: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_pose_track(name: str, poses: np.ndarray, frames: int, problems: list[str]) -> None:
    if poses.shape != (frames, 4, 4):
        problems.append(f"objects.json: {name}: object_to_world has shape {poses.shape}, expected ({frames}, 4, 4)")
        return
    rotations = poses[:, :3, :3]
    error = np.abs(np.einsum("fij,fkj->fik", rotations, rotations) - np.eye(3)).max()
    if error > 1e-5 or np.any(np.abs(poses[:, 3] - [0, 0, 0, 1]) > 1e-9):
        problems.append(f"objects.json: {name}: object_to_world is not rigid (orthogonality error {error:.2e})")


def validate_scene(scene_dir: str | Path, frames: str = "all") -> SceneReport:
    """Problems of one scene directory. ``frames``: "all" reads every frame, "ends" only the first
    and the last (files of the others are still checked to exist)."""
    scene_dir = Path(scene_dir)
    report = SceneReport(scene_dir.name)
    problems = report.problems
    layouts = {}
    for name, layout in ((contract.CAMERA_FILE, contract.CameraFile), (contract.OBJECTS_FILE, contract.ObjectsFile),
                         (contract.META_FILE, contract.MetaFile)):  # fmt: skip
        try:
            raw = read_json(scene_dir / name)
        except (OSError, ValueError) as error:
            problems.append(f"cannot read the scene's JSON files: {error}")
            return report
        try:
            layouts[name] = layout.model_validate(raw)
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            problems.append(f"{name}: malformed ({'.'.join(map(str, first['loc']))}: {first['msg']})")
            return report
    camera, objects = layouts[contract.CAMERA_FILE], layouts[contract.OBJECTS_FILE]
    if not (scene_dir / contract.SCENE_SPEC_FILE).is_file():
        problems.append(f"missing {contract.SCENE_SPEC_FILE}")
    width, height, count = camera.width, camera.height, camera.num_frames
    K = np.asarray(camera.K, dtype=np.float64)
    w2c = np.asarray(camera.world_to_camera, dtype=np.float64)
    report.frames = count
    if K.shape != (3, 3) or not (K[0, 0] > 0 and K[1, 1] > 0):
        problems.append(f"camera.json: K must be 3x3 with positive focal lengths, got {K.tolist()}")
    _check_pose_track("camera", w2c, count, problems)
    ids = set()
    for entry in objects.objects:
        ids.add(entry.instance_id)
        _check_pose_track(entry.name, np.asarray(entry.object_to_world, dtype=np.float64), count, problems)
    for entry in [*objects.objects, *objects.environment]:
        if not (scene_dir / entry.mesh).is_file():
            problems.append(f"objects.json: {entry.name}: mesh {entry.mesh} missing")
    kinds = dict(contract.PER_FRAME_DIRS)
    if camera.sensor is not None:
        kinds.update(contract.SENSOR_FRAME_DIRS)
        if (scene_dir / contract.IR_LEFT_DIR).is_dir() or (scene_dir / contract.IR_RIGHT_DIR).is_dir():
            kinds.update(contract.IR_FRAME_DIRS)
    for kind, suffix in kinds.items():
        missing = [f for f in range(count) if not (scene_dir / kind / contract.frame_name(f, suffix)).is_file()]
        if missing:
            problems.append(
                f"{kind}/: {len(missing)} of {count} frames missing (first: {contract.frame_name(missing[0], suffix)})"
            )
    if problems:
        return report
    to_read = range(count) if frames == "all" else sorted({0, count - 1})
    for f in to_read:
        _check_frame(scene_dir, f, width, height, ids, problems)
        if camera.sensor is not None:
            _check_sensor_frame(scene_dir, f, width, height, camera.sensor, "ir_left" in kinds, problems)
        if len(problems) > 10:
            break
    return report


def _check_sensor_frame(
    scene_dir: Path, f: int, width: int, height: int, sensor: contract.SensorCamera, with_ir: bool, problems: list[str]
) -> None:
    """raw_depth/ (and the IR images): readable, their sizes, finite depth in the sensor's range or 0."""
    name = contract.frame_name(f, "")
    try:
        raw = frame_files.read_raw_depth(contract.frame_path(scene_dir, contract.RAW_DEPTH_DIR, f))
        irs = (
            [frame_files.read_ir(contract.frame_path(scene_dir, kind, f)) for kind in contract.IR_FRAME_DIRS]
            if with_ir
            else []
        )
    except Exception as error:  # a corrupt file raises whatever its decoder raises
        problems.append(f"frame {name}: unreadable sensor file ({type(error).__name__}: {error})")
        return
    if raw.shape != (height, width):
        problems.append(f"frame {name}: raw_depth has shape {raw.shape}, expected {(height, width)}")
    elif not np.all(np.isfinite(raw)) or raw.min() < 0 or raw.max() > sensor.max_depth_m + 1e-3:
        problems.append(
            f"frame {name}: raw_depth must be finite, 0 or within the sensor's range (<= {sensor.max_depth_m} m)"
        )
    for ir in irs:
        if ir.shape != (sensor.height, sensor.width):
            problems.append(f"frame {name}: IR image has shape {ir.shape}, expected {(sensor.height, sensor.width)}")


def _check_frame(scene_dir: Path, f: int, width: int, height: int, ids: set[int], problems: list[str]) -> None:
    name = contract.frame_name(f, "")
    try:
        rgb = frame_files.read_rgb(contract.frame_path(scene_dir, contract.RGB_DIR, f))
        depth = frame_files.read_depth(contract.frame_path(scene_dir, contract.DEPTH_DIR, f))
        normal = frame_files.read_normal(contract.frame_path(scene_dir, contract.NORMAL_DIR, f))
        mask = frame_files.read_mask(contract.frame_path(scene_dir, contract.MASK_DIR, f))
    except Exception as error:  # a corrupt file raises whatever its decoder raises
        problems.append(f"frame {name}: unreadable ({type(error).__name__}: {error})")
        return
    for label, array, shape in (
        ("rgb", rgb, (height, width, 3)),
        ("depth", depth, (height, width)),
        ("normal", normal, (height, width, 3)),
        ("mask", mask, (height, width)),
    ):
        if array.shape != shape:
            problems.append(f"frame {name}: {label} has shape {array.shape}, expected {shape}")
            return
    if not np.all(np.isfinite(depth)) or depth.min() < 0:
        problems.append(f"frame {name}: depth must be finite and >= 0")
    hit = depth > 0
    lengths = np.linalg.norm(normal[hit], axis=-1)
    if lengths.size and np.abs(lengths - 1).max() > 5e-3:
        problems.append(f"frame {name}: normals are not unit length (worst {lengths.min():.3f}..{lengths.max():.3f})")
    if normal[~hit].any():
        problems.append(f"frame {name}: normals where depth is 0 must be 0")
    unknown = set(np.unique(mask).tolist()) - ids - {0}
    if unknown:
        problems.append(f"frame {name}: mask holds ids {sorted(unknown)} not in objects.json")
    if mask[~hit].any():
        problems.append(f"frame {name}: mask must be 0 where depth is 0")
