"""Reader API for rendered scenes (the data contract in docs/format.md).

>>> from transphy3d.output.reader import open_scene
>>> scene = open_scene("out/scene_000042")
>>> frame = scene.frame(0)
>>> frame.depth.shape, frame.K, frame.world_to_camera
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import numpy as np

from transphy3d.documents import validate_file
from transphy3d.files import read_json
from transphy3d.output import contract
from transphy3d.output.channels import BY_NAME, DEPTH, Channel, channel, present_in
from transphy3d.output.records import read_index


class Frame:
    """One frame's arrays and camera. Each channel of the scene that was read is an attribute of
    its name (``frame.rgb``, ``frame.depth``, ``frame.normal``, ``frame.mask``, ``frame.nocs``
    ...; ``transphy3d.output.channels`` lists them and their types); a channel that was not read
    or that the scene lacks is None. Depth 0 and normal (0, 0, 0) mean no surface."""

    def __init__(self, index: int, K: np.ndarray, world_to_camera: np.ndarray, arrays: dict[str, np.ndarray]):
        self.index = index
        self.K = K  # (3, 3) float64 pixels
        self.world_to_camera = world_to_camera  # (4, 4) float64
        self.arrays = arrays  # channel name -> array, as the channel table's ``read`` returns it

    def __getattr__(self, name: str) -> np.ndarray | None:
        if name in BY_NAME:
            return self.__dict__["arrays"].get(name)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self.arrays})

    def __repr__(self) -> str:
        return f"Frame({self.index}, channels={list(self.arrays)})"

    @property
    def valid(self) -> np.ndarray:
        """Pixels where a surface was hit."""
        return self.arrays[DEPTH] > 0


@dataclass(frozen=True)
class SceneObject:
    """One object instance of a scene (``objects.json``)."""

    instance_id: int
    name: str
    source: dict[str, Any]
    material: dict[str, Any]
    mesh_path: Path
    object_to_world: np.ndarray  # (F, 4, 4)
    liquid: contract.LiquidEntry | None = None  # the liquid it holds
    liquid_mesh_path: Path | None = None

    def load_mesh(self):
        """The object's mesh in its own frame (metres) as a ``trimesh.Trimesh``."""
        import trimesh

        return trimesh.load(self.mesh_path, force="mesh", process=False)

    def load_liquid_mesh(self):
        """The liquid's mesh in the object's frame (metres), or None when it holds none."""
        import trimesh

        return (
            None if self.liquid_mesh_path is None else trimesh.load(self.liquid_mesh_path, force="mesh", process=False)
        )

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
        liquid = getattr(entry, "liquid", None)
        return SceneObject(
            instance_id=getattr(entry, "instance_id", 0),
            name=entry.name,
            source=getattr(entry, "source", {}),
            material=entry.material,
            mesh_path=self.path / entry.mesh,
            object_to_world=poses,
            liquid=liquid,
            liquid_mesh_path=None if liquid is None else self.path / liquid.mesh,
        )

    def object_by_id(self, instance_id: int) -> SceneObject:
        for obj in self.objects:
            if obj.instance_id == instance_id:
                return obj
        raise KeyError(f"{self.path}: no object with instance_id {instance_id}")

    @cached_property
    def channels(self) -> list[Channel]:
        """The channels this scene holds: those every scene has, and the optional ones whose
        folder is there."""
        return present_in(self.path)

    def has(self, name: str) -> bool:
        """True when the scene holds channel ``name``."""
        return any(c.name == name for c in self.channels)

    def read(self, name: str, frame: int) -> np.ndarray | None:
        """Channel ``name`` of frame ``frame`` (0-based); None when the scene lacks the channel or
        has no file of it for that frame (flow of the last frame)."""
        row = channel(name)
        if not self.has(name):
            return None
        path = row.path(self.path, frame)
        if not row.every_frame and not path.is_file():
            return None
        return row.read(path)

    def __getattr__(self, name: str):
        """``scene.depth(3)`` and the like: ``read(name, frame)`` for each channel name."""
        if name in BY_NAME:
            return partial(self.read, name)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    @property
    def has_sensor(self) -> bool:
        """True when the scene has a simulated depth camera (``raw_depth/``)."""
        return self.camera.sensor is not None

    def frame(self, index: int, with_flow: bool = False, channels: Iterable[str] | None = None) -> Frame:
        """Arrays of frame ``index`` (0-based): the scene's channels read by default (the table's
        ``in_frame``; the flow too ``with_flow``), or just ``channels``."""
        if not 0 <= index < self.num_frames:
            raise IndexError(f"{self.path}: frame {index} out of range 0..{self.num_frames - 1}")
        names = (
            [c.name for c in self.channels if c.in_frame or (with_flow and not c.every_frame)]
            if channels is None
            else list(channels)
        )
        arrays = {name: self.read(name, index) for name in names}
        return Frame(
            index=index,
            K=self.K,
            world_to_camera=self.world_to_camera[index],
            arrays={k: v for k, v in arrays.items() if v is not None},
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
