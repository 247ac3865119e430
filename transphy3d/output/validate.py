"""Check scene directories against the data contract: files present and readable, shapes,
dtypes and value ranges. Pure Python; used by the farm before a scene counts as done and by
``transphy3d validate``."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from transphy3d.documents import load_yaml_file
from transphy3d.errors import UserError
from transphy3d.files import read_json
from transphy3d.output import contract
from transphy3d.output.channels import Channel, Grid, Switches, present_in
from transphy3d.output.checks import SceneFacts
from transphy3d.output.contract import frame_name


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
        liquid = getattr(entry, "liquid", None)
        if liquid is not None and not (scene_dir / liquid.mesh).is_file():
            problems.append(f"objects.json: {entry.name}: liquid mesh {liquid.mesh} missing")
    rows = present_in(scene_dir, _switches(scene_dir, camera, problems))
    for row in rows:
        frames_of_row = row.frames(count)
        missing = [f for f in frames_of_row if not row.path(scene_dir, f).is_file()]
        if missing:
            problems.append(
                f"{row.folder}/: {len(missing)} of {len(frames_of_row)} frames missing "
                f"(first: {frame_name(missing[0], row.suffix)})"
            )
    if problems:
        return report
    facts = SceneFacts(frozenset(ids), camera.sensor)
    to_read = range(count) if frames == "all" else sorted({0, count - 1})
    for f in to_read:
        problems += check_frame(scene_dir, f, count, rows, (height, width), facts)
        if len(problems) > 10:
            break
    return report


def _switches(scene_dir: Path, camera: contract.CameraFile, problems: list[str]) -> Switches:
    """The channels the scene asked for, from its scene.yaml (a depth camera from camera.json)."""
    path = scene_dir / contract.SCENE_SPEC_FILE
    try:
        record = load_yaml_file(path) if path.is_file() else {}
    except (OSError, UserError) as error:
        problems.append(f"{contract.SCENE_SPEC_FILE}: unreadable ({error})")
        record = {}
    switches = Switches.from_record(record if isinstance(record, dict) else {})
    return replace(switches, sensor=camera.sensor is not None)


def check_frame(
    scene_dir: Path, frame: int, count: int, rows: list[Channel], size: tuple[int, int], facts: SceneFacts
) -> list[str]:
    """Problems of one frame's files of channels ``rows``: readable, their shapes, their values
    (each channel's check from the channel table)."""
    name = frame_name(frame, "")
    arrays = {}
    for row in rows:
        if frame not in row.frames(count):
            continue  # no file of this channel for this frame (the last frame's flow)
        try:
            arrays[row.name] = row.read(row.path(scene_dir, frame))
        except Exception as error:  # a corrupt file raises whatever its decoder raises
            return [f"frame {name}: {row.folder}/ unreadable ({type(error).__name__}: {error})"]
    problems = []
    for row in rows:
        if row.name not in arrays:
            continue
        grid = size if row.grid == Grid.RGB else (facts.sensor.height, facts.sensor.width) if facts.sensor else None
        expected = row.shape(*grid) if grid else arrays[row.name].shape
        if arrays[row.name].shape != expected:
            problems.append(f"frame {name}: {row.name} has shape {arrays[row.name].shape}, expected {expected}")
    if problems:
        return problems
    for row in rows:
        if row.check is None or row.name not in arrays or any(n not in arrays for n in row.check.needs):
            continue
        needed = (arrays[n] for n in row.check.needs)
        problems += [f"frame {name}: {row.name}: {p}" for p in row.check.run(arrays[row.name], facts, *needed)]
    return problems
