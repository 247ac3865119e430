"""Our render output (``render``, docs/format.md), read through ``transphy3d.output.reader``: one
video per scene directory, frame ids ``000000``..., ``transparent`` from the instance masks and
each object's material (its ``transparent`` flag; without flags, classes glass and plastic)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from transphy3d.datasets.decode import valid_depth
from transphy3d.datasets.frames import Dataset, Frame, Sequence
from transphy3d.errors import UserError
from transphy3d.output.channels import DEPTH, MASK, NORMAL, RAW_DEPTH, RGB, frame_path
from transphy3d.output.reader import Scene, open_scene, scene_paths

# Material classes that count as a region when the material carries no flag of that name.
FALLBACK_CLASSES = {"transparent": {"glass", "plastic"}, "reflective": {"metal", "ceramic"}}


def region_ids(objects: Iterable, region: str) -> list[int]:
    """Instance ids of ``objects`` (``SceneObject``s) in ``region``: a material flag
    (``transparent``, ``reflective``) or a material class (``glass``, ...)."""
    ids = []
    for obj in objects:
        material = obj.material or {}
        if region in FALLBACK_CLASSES:
            flag = material.get(region)
            inside = bool(flag) if flag is not None else obj.material_class in FALLBACK_CLASSES[region]
        else:
            inside = obj.material_class == region
        if inside:
            ids.append(obj.instance_id)
    return ids


class RenderSequence(Sequence):
    """A scene as a sequence; ``scene`` is the reader's ``Scene`` (objects, poses, flow, masks)."""

    def __init__(self, name: str, scene: Scene):
        self.scene = scene
        super().__init__(name, [f"{i:06d}" for i in range(scene.num_frames)], self._frame, True)

    def _frame(self, frame_id: str) -> Frame:
        scene, index = self.scene, int(frame_id)

        def file(name: str) -> Path:
            return frame_path(scene.path, name, index)

        def transparent(_frame: Frame) -> np.ndarray:
            return np.isin(scene.mask(index), region_ids(scene.objects, "transparent"))

        return Frame(
            frame_id,
            {
                "rgb": (file(RGB), lambda f: scene.rgb(index)),
                "depth": (file(DEPTH), lambda f: valid_depth(scene.depth(index))),
                "normal": (file(NORMAL), lambda f: np.nan_to_num(scene.normal(index))),
                "raw_depth": (file(RAW_DEPTH), lambda f: scene.raw_depth(index)),
                "transparent": (file(MASK), transparent),
                "K": (scene.path, lambda f: scene.K),
                "camera_from_world": (scene.path, lambda f: scene.world_to_camera[index]),
            },
            size=(scene.height, scene.width),
        )


class RenderDataset(Dataset):
    """Scene directories of a render output directory (or one scene directory)."""

    kind = "render"
    is_video = True

    def __init__(self, root: str | Path, cache_dir: str | Path | None = None):
        super().__init__(Path(root))
        if not self.root.is_dir():
            raise UserError("render output directory not found", path=str(self.root), field="data")
        try:
            with warnings.catch_warnings(record=True) as missing:  # index lines of missing scenes
                warnings.simplefilter("always")
                self.paths = scene_paths(self.root)
        except (OSError, ValueError, KeyError) as error:
            raise UserError(f"cannot index the scenes ({error})", path=str(self.root), field="data") from error
        self.skipped += [str(w.message) for w in missing]
        if not self.paths:
            raise UserError("no scene directories (scene_*/camera.json) found", path=str(self.root), field="data")

    def name_of(self, path: Path) -> str:
        return path.name if path == self.root else path.relative_to(self.root).as_posix()

    def sequences(self) -> list[Sequence]:
        """One sequence per readable scene; a scene whose camera.json does not read is skipped and named."""
        out = []
        for path in self.paths:
            scene = open_scene(path)
            try:
                scene.num_frames  # noqa: B018 (reads and checks camera.json)
            except Exception as error:  # a damaged camera.json: count the scene and go on
                self.skipped.append(f"{path}: unreadable camera.json ({' '.join(str(error).split())})")
                continue
            out.append(RenderSequence(self.name_of(path), scene))
        return out
