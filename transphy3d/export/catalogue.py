"""BOP object ids for a run: one per distinct model, a model being a mesh (its exported PLY's
bytes) with a material class. A procedural instance has a mesh of its own; a static asset drawn
again at the same size keeps its id across scenes. Ids follow the scenes in index order and the
objects in their order, so the same run gets the same ids on every export."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from transphy3d.errors import UserError
from transphy3d.output.reader import Scene, SceneObject


@dataclass(frozen=True)
class Model:
    """One BOP object: where its first instance's mesh is and what it is."""

    obj_id: int
    mesh_path: Path
    kind: str  # procedural | static
    family: str | None  # procedural family
    asset_id: str | None  # static asset
    material_class: str
    transparent: bool

    def record(self) -> dict:
        return {
            "kind": self.kind,
            "family": self.family,
            "asset_id": self.asset_id,
            "material_class": self.material_class,
            "transparent": self.transparent,
        }


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def confined_mesh(scene: Scene, obj: SceneObject) -> Path:
    """The object's mesh file, which must lie inside its scene directory (objects.json is a
    stranger's file: a path elsewhere is refused)."""
    path = obj.mesh_path.resolve()
    if not path.is_relative_to(scene.path.resolve()):
        raise UserError(
            f"mesh of instance {obj.instance_id} lies outside the scene",
            path=str(scene.path / "objects.json"),
            field="mesh",
        )
    if not path.is_file():
        raise UserError(f"mesh of instance {obj.instance_id} is missing", path=str(path), field="mesh")
    return path


@dataclass
class Catalogue:
    """Models and which model each (scene, instance) is."""

    models: list[Model] = field(default_factory=list)
    ids: dict[tuple[int, int], int] = field(default_factory=dict)  # (scene index, instance id) -> obj_id
    _by_key: dict[tuple[str, str], int] = field(default_factory=dict)

    def add_scene(self, index: int, scene: Scene) -> None:
        """Give the scene's objects their ids (new models get the next ones)."""
        found = []
        for obj in scene.objects:
            path = confined_mesh(scene, obj)
            found.append((obj, path, (_digest(path), obj.material_class)))
        for obj, path, key in found:  # only once the whole scene is readable
            if key not in self._by_key:
                source = obj.source or {}
                self._by_key[key] = len(self.models) + 1
                self.models.append(
                    Model(
                        obj_id=len(self.models) + 1,
                        mesh_path=path,
                        kind=str(source.get("kind", "")),
                        family=source.get("family"),
                        asset_id=source.get("asset_id"),
                        material_class=obj.material_class,
                        transparent=bool(obj.material.get("transparent", False)),
                    )
                )
            self.ids[(index, obj.instance_id)] = self._by_key[key]
