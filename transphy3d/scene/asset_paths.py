"""Where a recorded scene may load static assets from. A ``scene.yaml`` can come from someone else,
and its mesh and ``.blend`` paths are loaded as they stand (a ``.blend`` by Blender): relative
paths resolve against the scene's own folder (not the current directory), and a path outside the
scene's folder and the asset banks (the shipped one and those in ``$TRANSPHY3D_ASSET_BANKS``) is
refused unless the user allows it explicitly, and then only for a mesh with a recorded sha256
(checked when it loads)."""

from __future__ import annotations

import os
from pathlib import Path

from transphy3d.errors import UserError
from transphy3d.resources import ASSET_BANK_DIR
from transphy3d.scene.spec import SceneSpec

ASSET_BANKS_ENV = "TRANSPHY3D_ASSET_BANKS"  # folders (os.pathsep-separated) that hold asset banks
ALLOW_FLAG = "--allow-outside-assets"


def asset_banks() -> list[Path]:
    """The asset banks' folders: the shipped starter bank and those named in $TRANSPHY3D_ASSET_BANKS."""
    named = [Path(p) for p in os.environ.get(ASSET_BANKS_ENV, "").split(os.pathsep) if p.strip()]
    return [ASSET_BANK_DIR, *named]


def anchor_static_paths(spec: SceneSpec, scene_dir: str | Path) -> SceneSpec:
    """``spec`` with the relative mesh and ``.blend`` paths of its static assets made absolute
    against ``scene_dir`` (the folder of the scene.yaml)."""
    scene_dir = Path(scene_dir).absolute()

    def anchored(value: str | None) -> str | None:
        return value if value is None or Path(value).is_absolute() else str(scene_dir / value)

    objects = []
    for obj in spec.objects:
        source = obj.source
        if source.kind == "static":
            source = source.model_copy(update={"file": anchored(source.file), "blend": anchored(source.blend)})
            obj = obj.model_copy(update={"source": source})
        objects.append(obj)
    return spec.model_copy(update={"objects": objects})


def _inside(path: Path, roots: list[Path]) -> bool:
    real = Path(os.path.realpath(path))
    return any(real == root or root in real.parents for root in (Path(os.path.realpath(r)) for r in roots))


def confine_static_paths(spec: SceneSpec, scene_file: str | Path, allow_outside: bool = False) -> SceneSpec:
    """``spec`` (anchored to its folder) when every static asset's files lie in the scene's folder
    or an asset bank, or, with ``allow_outside``, when each mesh outside has a recorded sha256; a
    one-line UserError naming the scene file and the object's key otherwise."""
    scene_file = Path(scene_file)
    spec = anchor_static_paths(spec, scene_file.parent)
    roots = [scene_file.parent, *asset_banks()]
    for index, obj in enumerate(spec.objects):
        source = obj.source
        if source.kind != "static":
            continue
        for key, value in (("file", source.file), ("blend", source.blend)):
            if value is None or _inside(Path(value), roots):
                continue
            field = f"objects.{index}.source.{key}"
            if not allow_outside:
                raise UserError(
                    f"{value} lies outside the scene's folder and the asset banks; add its bank to "
                    f"${ASSET_BANKS_ENV}, or render it with `render-scene {ALLOW_FLAG}` if you trust this scene file",
                    path=str(scene_file),
                    field=field,
                )
            if key == "file" and source.sha256 is None:
                raise UserError(
                    f"{value} lies outside the scene's folder and the asset banks and has no sha256 to check it "
                    f"against; {ALLOW_FLAG} loads such a mesh only with its sha256 recorded",
                    path=str(scene_file),
                    field=field,
                )
    return spec
