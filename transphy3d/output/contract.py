"""The data contract of a render output (docs/format.md): every file and directory name, at run
and at scene level, and the typed layout of its JSON files.

Writers, readers, the validator, the farm, the preview and the trainer import these; none of
them spells a name of the contract itself. The per-frame outputs are the channel
table's (``transphy3d.output.channels``), encoded in ``transphy3d.output.frame_files``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, model_serializer

FORMAT_VERSION = 1
CAMERA_CONVENTION = (
    "OpenCV camera frame: x right, y down, z forward (viewing direction). Pixel (u, v) = (column, row); "
    "the centre of the top-left pixel is (0, 0), so the image spans [-0.5, W-0.5] x [-0.5, H-0.5]. "
    "World frame: z up, metres. world_to_camera maps world points to this camera frame."
)

# ---------------------------------------------------------------------------------- run level
RUN_FILE = "run.yaml"  # what was asked for: config, seed, tool versions
INDEX_FILE = "index.jsonl"  # one IndexRecord per finished scene
FAILURES_FILE = "failures.jsonl"  # one FailureRecord per scene that used up its retries
SUMMARY_FILE = "summary.json"  # the last run's summary
RUN_FILES = (RUN_FILE, INDEX_FILE, FAILURES_FILE)  # any of them marks a directory as a render run
SCENE_PREFIX = "scene_"
_SCENE_NAME = re.compile(rf"{SCENE_PREFIX}(\d+)")


def scene_name(index: int) -> str:
    """Directory name of scene ``index``: ``scene_000042``."""
    return f"{SCENE_PREFIX}{index:06d}"


def scene_index(name: str) -> int | None:
    """The index of a scene directory name (``scene_000042`` -> 42); None for anything else,
    partial directories included."""
    match = _SCENE_NAME.fullmatch(name)
    return int(match.group(1)) if match else None


# -------------------------------------------------------------------------------- scene level
SCENE_SPEC_FILE = "scene.yaml"
CAMERA_FILE = "camera.json"
OBJECTS_FILE = "objects.json"
META_FILE = "meta.json"
BLEND_FILE = "scene.blend"  # only when output.keep_blend (and in previews)
MESH_DIR = "meshes"
# The per-frame folders (rgb/, depth/, ...) are the channel table's: transphy3d.output.channels.


def frame_name(frame: int, suffix: str) -> str:
    """File name of ``frame`` (0-based) with ``suffix``: ``000042.png``."""
    return f"{frame:06d}{suffix}"


def object_mesh_file(instance_id: int) -> str:
    """Relative path of an object's mesh: ``meshes/0001.ply``."""
    return f"{MESH_DIR}/{instance_id:04d}.ply"


def liquid_mesh_file(instance_id: int) -> str:
    """Relative path of the liquid in container ``instance_id``: ``meshes/0001_liquid.ply``."""
    return f"{MESH_DIR}/{instance_id:04d}_liquid.ply"


def part_mesh_file(name: str) -> str:
    """Relative path of an environment part's mesh: ``meshes/env_floor.ply``."""
    return f"{MESH_DIR}/{name}.ply"


def is_scene_dir(path: str | Path) -> bool:
    """True if ``path`` is a finished scene directory (it has a camera.json)."""
    return (Path(path) / CAMERA_FILE).is_file()


def is_run_dir(path: str | Path) -> bool:
    """True if ``path`` is a render run: its run files, or finished ``scene_*`` directories."""
    path = Path(path)
    if any((path / name).is_file() for name in RUN_FILES):
        return True
    return any(
        child.is_dir() and scene_index(child.name) is not None and is_scene_dir(child)
        for child in path.glob(f"{SCENE_PREFIX}*")
    )


def scene_dirs(root: str | Path, finished_only: bool = True) -> list[Path]:
    """The ``scene_NNNNNN`` directories under ``root`` by name (never partial ones); with
    ``finished_only`` those that hold a camera.json."""
    candidates = (p for p in Path(root).glob(f"{SCENE_PREFIX}*") if scene_index(p.name) is not None and p.is_dir())
    return sorted(p for p in candidates if is_scene_dir(p) or not finished_only)


# ------------------------------------------------------------------------------ JSON layouts
Matrix = list[list[float]]


def matrix_list(matrix: np.ndarray) -> Matrix:
    """A 4x4 (or 3x3) matrix as nested lists of Python floats (exact repr in JSON)."""
    return [[float(v) for v in row] for row in np.asarray(matrix, dtype=np.float64)]


class ContractModel(BaseModel):
    """A JSON layout of the contract. Readers ignore keys they do not know (a newer writer may add
    some); writers dump fields in declaration order."""

    model_config = ConfigDict(extra="ignore")

    def to_json(self) -> dict[str, Any]:
        """The JSON-ready dict in the contract's key order."""
        return self.model_dump(mode="json")


class SensorCamera(ContractModel):
    """``camera.json`` ``sensor``: the simulated depth camera's IR imagers and emitter. Extrinsics
    map points of the RGB camera's frame to the part's frame (OpenCV, same orientation);
    ``raw_depth/`` is already registered to the RGB camera's pixel grid."""

    preset: str
    width: int  # IR image size, pixels
    height: int
    K: Matrix  # both IR imagers (rectified pair)
    baseline_m: float
    rgb_to_ir_left: Matrix
    rgb_to_ir_right: Matrix
    rgb_to_emitter: Matrix
    disparities: int
    min_depth_m: float  # nearest depth the disparity search reaches at this IR resolution
    max_depth_m: float  # farther returns are dropped
    ideal_max_depth_m: float | None = None  # far end of the ideal range (None in older files)


class CameraFile(ContractModel):
    """``camera.json``: intrinsics and the per-frame world_to_camera (OpenCV camera frame);
    ``sensor`` when the scene has a simulated depth camera."""

    format_version: int = FORMAT_VERSION
    convention: str = CAMERA_CONVENTION
    width: int
    height: int
    fps: float
    num_frames: int
    K: Matrix
    clip_near: float
    clip_far: float
    world_to_camera: list[Matrix]
    sensor: SensorCamera | None = None

    @model_serializer(mode="wrap")
    def _omit_sensor(self, handler) -> dict[str, Any]:
        data = handler(self)
        if self.sensor is None:
            data.pop("sensor", None)
        return data

    @classmethod
    def from_arrays(
        cls,
        width: int,
        height: int,
        fps: float,
        K: np.ndarray,
        world_to_camera: Sequence[np.ndarray],
        clip_near: float,
        clip_far: float,
    ) -> CameraFile:
        return cls(
            width=width,
            height=height,
            fps=fps,
            num_frames=len(world_to_camera),
            K=matrix_list(K),
            clip_near=clip_near,
            clip_far=clip_far,
            world_to_camera=[matrix_list(m) for m in world_to_camera],
        )


class LiquidEntry(ContractModel):
    """The liquid in a container (``objects.json`` ``liquid``): its type and the preset's values
    (IOR, linear RGB tint, absorption in 1/m, scatter share), the fill level (share of the
    cavity's inner height), its volume and its closed mesh in the container's frame (the
    container's ``object_to_world`` applies). Its pixels carry the container's instance id."""

    type: str
    ior: float
    color: tuple[float, float, float]
    density: float
    scatter: float
    fill: float
    volume_ml: float
    mesh: str


class ObjectEntry(ContractModel):
    """One object of ``objects.json``: ``source`` and ``material`` are the SceneSpec's records;
    ``liquid`` only for a container that holds one."""

    instance_id: int
    name: str
    source: dict[str, Any]
    material: dict[str, Any]
    mesh: str  # relative to the scene directory
    object_to_world: list[Matrix]  # one 4x4 per frame
    liquid: LiquidEntry | None = None

    @model_serializer(mode="wrap")
    def _omit_liquid(self, handler) -> dict[str, Any]:
        data = handler(self)
        if self.liquid is None:
            data.pop("liquid", None)
        return data


class EnvironmentEntry(ContractModel):
    """One environment part of ``objects.json`` (instance id 0 in the masks)."""

    name: str
    material: dict[str, Any]
    mesh: str
    object_to_world: Matrix  # static: one 4x4


class ObjectsFile(ContractModel):
    """``objects.json``: the objects and the environment parts with meshes and poses."""

    format_version: int = FORMAT_VERSION
    objects: list[ObjectEntry]
    environment: list[EnvironmentEntry] = []


class DeviceInfo(ContractModel):
    type: str  # CPU, OPTIX, CUDA or HIP
    names: list[str]
    fallback: list[str]  # why faster devices were passed over


class DepthRange(ContractModel):
    """Percentiles (0, 5, 50, 95, 100) of the depth of object pixels, metres."""

    min: float
    p05: float
    p50: float
    p95: float
    max: float


class ObjectQuality(ContractModel):
    """One object: what it is and how well it can be seen."""

    instance_id: int
    kind: str  # the procedural family, or "static"
    asset_id: str | None = None
    material_class: str
    preset: str
    transparent: bool
    reflective: bool
    rest_pose: str | None = None
    tilt_deg: float | None = None  # angle of its z axis from world up at rest: ~0 standing, ~180 on its top
    visible_frames: int  # frames in which it covers at least transphy3d.scene.visibility.VISIBLE_SHARE of the image
    mean_share: float  # mean share of the image it covers
    liquid: str | None = None  # the type of the liquid it holds


class SceneQuality(ContractModel):
    """``meta.json`` ``quality``: per measured frame the share of the image covered by objects and
    by transparent objects; visibility of (object, frame) pairs; depth; the scene's facts."""

    frames: int  # frames measured (the rendered ones)
    object_share: list[float]
    transparent_share: list[float]
    frames_without_visible_object: int
    visible_pairs: int
    pairs: int
    object_depth: DepthRange | None  # None when no object pixel was seen
    environment: str
    world: str
    elevation_deg: float
    distance_m: float
    focal_length_mm: float
    camera_kept: int | None = None  # scene.yaml camera_check.camera: 0 the sampled camera, k alternative k
    camera_check_passed: bool | None = None  # None: no visibility check (0.1.0 scenes, min_visible_pairs 0)
    physics_attempts: int
    dropped_objects: int
    objects: list[ObjectQuality]
    liquid_share: list[float] | None = None  # per frame, share of the image whose first surface is a liquid

    @property
    def liquid_containers(self) -> int:
        """Objects that hold a liquid."""
        return sum(o.liquid is not None for o in self.objects)

    @property
    def visible_fraction(self) -> float:
        """Share of (object, frame) pairs in which the object is visible."""
        return self.visible_pairs / self.pairs if self.pairs else 0.0


class MetaFile(ContractModel):
    """``meta.json``: the facts of the render. ``rendered_frames`` only when a subset was rendered
    (previews)."""

    format_version: int = FORMAT_VERSION
    transphy3d_version: str
    blender_version: str
    device: DeviceInfo
    samples: int
    denoiser: str | None
    view_transform: str
    resolution: tuple[int, int]
    num_frames: int
    seed: int
    physics_recorded: bool
    seconds_per_frame: float
    rendered_frames: list[int] | None = None
    timings: dict[str, float] = {}
    quality: SceneQuality | None = None  # absent in scenes written by 0.1.0
    # The simulated depth camera against the exact depth, per region (opaque, transparent):
    # pixels, coverage, within_2pct, failed; only when the scene has a sensor.
    sensor: dict[str, dict[str, float]] | None = None
    render_quality: str | None = None  # the render.quality preset the scene named (None: its own keys)

    @model_serializer(mode="wrap")
    def _omit_rendered_frames(self, handler) -> dict[str, Any]:
        data = handler(self)
        for optional in ("rendered_frames", "quality", "sensor", "render_quality"):
            if getattr(self, optional) is None:
                data.pop(optional, None)
        return data


class SceneStatus(StrEnum):
    """How a scene attempt on the farm ended."""

    OK = "ok"
    CRASHED = "crashed"
    TIMEOUT = "timeout"
    BAD_INPUT = "bad_input"  # deterministic: the config or spec is wrong; not retried
    OUTPUT_ERROR = "output_error"  # the output cannot be written: stops the run
    INVALID = "invalid"  # finished but failed validation

    @property
    def retryable(self) -> bool:
        return self in (SceneStatus.CRASHED, SceneStatus.TIMEOUT, SceneStatus.INVALID)


class IndexRecord(ContractModel):
    """One line of ``index.jsonl``: a finished, validated scene. ``recovered`` marks a whole scene
    found on disk whose line was lost; it has only scene, index and seed. Readers of scenes need
    only ``scene`` (a hand-written index of a subset may hold nothing else)."""

    scene: str
    index: int | None = None
    seed: int | None = None
    attempts: int | None = None
    frames: int | None = None
    seconds: float | None = None  # worker process wall time
    render_seconds: float | None = None  # Cycles
    device: str | None = None
    node: str | None = None  # host name
    node_id: str | None = None  # Ray node id (two Ray nodes may share a host)
    process_scene: int | None = None  # with --warm-workers: the scene's rank in its render process (1 = first)
    finished: str | None = None  # UTC, ISO 8601
    recovered: bool | None = None

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class SceneAttempt(ContractModel):
    """How one attempt at a scene on the farm ended (what its worker reports)."""

    index: int
    seed: int | None = None
    attempt: int | None = None
    status: SceneStatus | None = None
    returncode: int | None = None
    seconds: float | None = None  # worker process wall time
    error: str = ""  # one line
    log: str = ""  # the attempt's log under logs/ (empty once the scene is done)
    frames: int = 0
    render_seconds: float = 0.0
    physics_seconds: float = 0.0
    device: str = ""
    node: str = ""  # host name
    node_id: str = ""  # Ray node id
    process_scene: int | None = None  # with --warm-workers: the scene's rank in its render process

    @property
    def retryable(self) -> bool:
        return self.status is not None and self.status.retryable


class FailureRecord(SceneAttempt):
    """One line of ``failures.jsonl``: the last attempt of a scene that used up its retries."""

    scene: str
    attempts: int | None = None
