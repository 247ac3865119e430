"""Reader API for rendered scenes (the data contract in docs/format.md).

>>> from transphy3d.output.reader import open_scene
>>> scene = open_scene("out/scene_000042")
>>> frame = scene.frame(0)
>>> frame.depth.shape, frame.K, frame.world_to_camera
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from transphy3d.documents import validate_file
from transphy3d.files import read_json
from transphy3d.output import contract, frame_files
from transphy3d.output.records import read_index


@dataclass(frozen=True)
class Frame:
    """One frame's arrays and camera. Depth 0 and normal (0, 0, 0) mean no surface."""

    index: int
    rgb: np.ndarray  # (H, W, 3) uint8 sRGB
    depth: np.ndarray  # (H, W) float32 metres, planar (camera +z)
    normal: np.ndarray  # (H, W, 3) float32, camera frame (OpenCV), facing the camera
    mask: np.ndarray  # (H, W) uint16 instance id, 0 = environment / background
    K: np.ndarray  # (3, 3) float64 pixels
    world_to_camera: np.ndarray  # (4, 4) float64
    flow: np.ndarray | None = None  # (H, W, 2) float32 pixels, t -> t+1; None if not rendered
    raw_depth: np.ndarray | None = None  # (H, W) float32 metres from the simulated depth camera, 0 = no return

    @property
    def valid(self) -> np.ndarray:
        """Pixels where a surface was hit."""
        return self.depth > 0


@dataclass(frozen=True)
class SceneObject:
    """One object instance of a scene (``objects.json``)."""

    instance_id: int
    name: str
    source: dict[str, Any]
    material: dict[str, Any]
    mesh_path: Path
    object_to_world: np.ndarray  # (F, 4, 4)

    def load_mesh(self):
        """The object's mesh in its own frame (metres) as a ``trimesh.Trimesh``."""
        import trimesh

        return trimesh.load(self.mesh_path, force="mesh", process=False)

    @property
    def material_class(self) -> str:
        return str(self.material.get("class", ""))


class Scene:
    """A finished scene directory, read lazily."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not contract.is_scene_dir(self.path):
            raise FileNotFoundError(f"{self.path}: not a scene directory (no {contract.CAMERA_FILE})")

    def __repr__(self) -> str:
        return f"Scene({str(self.path)!r}, frames={self.num_frames}, {self.width}x{self.height})"

    @cached_property
    def camera(self) -> contract.CameraFile:
        return self._document(contract.CameraFile, contract.CAMERA_FILE)

    @cached_property
    def objects_file(self) -> contract.ObjectsFile:
        return self._document(contract.ObjectsFile, contract.OBJECTS_FILE)

    @cached_property
    def meta(self) -> contract.MetaFile:
        return self._document(contract.MetaFile, contract.META_FILE)

    def _document(self, model: Any, name: str) -> Any:
        path = self.path / name
        return validate_file(model, read_json(path), path)

    @property
    def num_frames(self) -> int:
        return self.camera.num_frames

    @property
    def width(self) -> int:
        return self.camera.width

    @property
    def height(self) -> int:
        return self.camera.height

    @property
    def fps(self) -> float:
        return self.camera.fps

    @cached_property
    def K(self) -> np.ndarray:
        return np.asarray(self.camera.K, dtype=np.float64)

    @cached_property
    def world_to_camera(self) -> np.ndarray:
        """(F, 4, 4) world-to-camera matrices, OpenCV camera frame."""
        return np.asarray(self.camera.world_to_camera, dtype=np.float64)

    @cached_property
    def objects(self) -> list[SceneObject]:
        return [self._object(entry) for entry in self.objects_file.objects]

    @cached_property
    def environment(self) -> list[SceneObject]:
        return [self._object(entry) for entry in self.objects_file.environment]

    def _object(self, entry: contract.ObjectEntry | contract.EnvironmentEntry) -> SceneObject:
        poses = np.asarray(entry.object_to_world, dtype=np.float64)
        if poses.ndim == 2:
            poses = np.broadcast_to(poses, (self.num_frames, 4, 4))
        return SceneObject(
            instance_id=getattr(entry, "instance_id", 0),
            name=entry.name,
            source=getattr(entry, "source", {}),
            material=entry.material,
            mesh_path=self.path / entry.mesh,
            object_to_world=poses,
        )

    def object_by_id(self, instance_id: int) -> SceneObject:
        for obj in self.objects:
            if obj.instance_id == instance_id:
                return obj
        raise KeyError(f"{self.path}: no object with instance_id {instance_id}")

    def _frame_path(self, kind: str, frame: int) -> Path:
        return contract.frame_path(self.path, kind, frame)

    def rgb(self, frame: int) -> np.ndarray:
        return frame_files.read_rgb(self._frame_path(contract.RGB_DIR, frame))

    def depth(self, frame: int) -> np.ndarray:
        return frame_files.read_depth(self._frame_path(contract.DEPTH_DIR, frame))

    def normal(self, frame: int) -> np.ndarray:
        return frame_files.read_normal(self._frame_path(contract.NORMAL_DIR, frame))

    def mask(self, frame: int) -> np.ndarray:
        return frame_files.read_mask(self._frame_path(contract.MASK_DIR, frame))

    def flow(self, frame: int) -> np.ndarray | None:
        path = self._frame_path(contract.FLOW_DIR, frame)
        return frame_files.read_flow(path) if path.is_file() else None

    @property
    def has_sensor(self) -> bool:
        """True when the scene has a simulated depth camera (``raw_depth/``)."""
        return self.camera.sensor is not None

    def raw_depth(self, frame: int) -> np.ndarray | None:
        """The simulated depth camera's depth on the RGB grid (0 = no return); None without a sensor."""
        if not self.has_sensor:
            return None
        return frame_files.read_raw_depth(self._frame_path(contract.RAW_DEPTH_DIR, frame))

    def ir(self, frame: int, side: str = "left") -> np.ndarray | None:
        """The depth camera's 8-bit IR image of ``side`` (left, right); None when not kept."""
        path = self._frame_path(contract.IR_LEFT_DIR if side == "left" else contract.IR_RIGHT_DIR, frame)
        return frame_files.read_ir(path) if path.is_file() else None

    def frame(self, index: int, with_flow: bool = False) -> Frame:
        """All arrays of frame ``index`` (0-based)."""
        if not 0 <= index < self.num_frames:
            raise IndexError(f"{self.path}: frame {index} out of range 0..{self.num_frames - 1}")
        return Frame(
            index=index,
            rgb=self.rgb(index),
            depth=self.depth(index),
            normal=self.normal(index),
            mask=self.mask(index),
            K=self.K,
            world_to_camera=self.world_to_camera[index],
            flow=self.flow(index) if with_flow else None,
            raw_depth=self.raw_depth(index),
        )

    def instance_ids(self, material_classes: set[str] | None = None) -> list[int]:
        """Instance ids, optionally only those whose material class is in ``material_classes``."""
        return [o.instance_id for o in self.objects if material_classes is None or o.material_class in material_classes]


def open_scene(path: str | Path) -> Scene:
    """Open one scene directory."""
    return Scene(path)


def scene_paths(root: str | Path) -> list[Path]:
    """The finished scene directories under a render output directory, in index order, without
    opening them: those ``index.jsonl`` lists (once each; a torn line is skipped, a missing scene
    warned about), otherwise every ``scene_*`` directory that holds a ``camera.json`` (a partial
    ``*.partial-*`` never matches); ``root`` itself when it is a scene."""
    root = Path(root)
    index = root / contract.INDEX_FILE
    if index.is_file():
        paths = []
        for name in dict.fromkeys(record.scene for record in read_index(index)):  # a re-rendered scene: once
            path = root / name
            if not contract.is_scene_dir(path):
                warnings.warn(f"{index}: lists {path.name}, which is missing; skipped", stacklevel=2)
                continue
            paths.append(path)
        return paths
    if contract.is_scene_dir(root):
        return [root]
    return contract.scene_dirs(root)


def iter_scenes(root: str | Path) -> Iterator[Scene]:
    """Finished scenes under a render output directory, in index order (see ``scene_paths``)."""
    for path in scene_paths(root):
        yield Scene(path)
