"""A recorded scene.yaml from someone else loads meshes only from its own folder and the asset
banks: relative paths resolve against the scene's folder whatever the current directory; a path
outside needs --allow-outside-assets and a recorded sha256 that matches."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
import trimesh
from helpers import one_line_error, sampled_spec, save
from helpers import run_in_process as cli

from transphy3d.errors import UserError
from transphy3d.pipeline import resolve_scene
from transphy3d.scene.asset_paths import ASSET_BANKS_ENV
from transphy3d.scene.meshes import object_mesh


def _box(path: Path, size: float = 0.1) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    trimesh.creation.box((size, size, size)).export(path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _recorded(scene_dir: Path, file: str, sha256: str | None) -> tuple[Path, int]:
    """A recorded scene.yaml in ``scene_dir`` whose first static object's mesh is ``file``."""
    spec = sampled_spec(0, "objects.static_fraction=1", "objects.count=1")
    index = next(i for i, o in enumerate(spec.objects) if o.source.kind == "static")
    obj = spec.objects[index]
    source = obj.source.model_copy(update={"file": file, "sha256": sha256, "keep_materials": False, "blend": None})
    objects = list(spec.objects)
    objects[index] = obj.model_copy(update={"source": source})
    scene_dir.mkdir(parents=True, exist_ok=True)
    return save(spec.model_copy(update={"objects": objects}), scene_dir / "scene.yaml"), index


def test_a_relative_mesh_path_resolves_against_the_scene_folder(tmp_path: Path, monkeypatch) -> None:
    scene_dir = tmp_path / "scene"
    _box(scene_dir / "bank" / "box.ply")
    path, index = _recorded(scene_dir, "bank/box.ply", None)
    elsewhere = tmp_path / "elsewhere"
    _box(elsewhere / "bank" / "box.ply", size=5.0)  # what the current directory would have given
    monkeypatch.chdir(elsewhere)
    spec, _ = resolve_scene(path, None)
    assert spec.objects[index].source.file == str(scene_dir / "bank" / "box.ply")
    assert object_mesh(spec.objects[index]).extents.max() < 1.0


def test_a_mesh_outside_the_scene_and_the_banks_is_refused(tmp_path: Path, capsys, monkeypatch) -> None:
    outside = tmp_path / "someone" / "else.ply"
    digest = _box(outside)
    path, index = _recorded(tmp_path / "scene", str(outside), None)
    before = path.read_bytes()
    field = f"objects.{index}.source.file"
    one_line_error(cli(capsys, "sample", str(path)), str(path), field, "outside the scene's folder", ASSET_BANKS_ENV)
    out = tmp_path / "out"
    result = cli(capsys, "render-scene", str(path), "--out", str(out), "--allow-outside-assets")
    one_line_error(result, str(path), field, "no sha256")
    assert not out.exists() and path.read_bytes() == before
    # With its bank configured the same file is fine; with the flag and a recorded sha256 too.
    monkeypatch.setenv(ASSET_BANKS_ENV, str(outside.parent))
    assert resolve_scene(path, None)[0].objects[index].source.file == str(outside)
    monkeypatch.delenv(ASSET_BANKS_ENV)
    trusted, _ = _recorded(tmp_path / "trusted", str(outside), digest)
    spec, _ = resolve_scene(trusted, None, allow_outside_assets=True)
    assert object_mesh(spec.objects[index]).extents.max() < 1.0


def test_the_flag_loads_only_a_mesh_whose_sha256_matches(tmp_path: Path) -> None:
    outside = tmp_path / "someone" / "else.ply"
    _box(outside)
    path, index = _recorded(tmp_path / "scene", str(outside), "0" * 64)
    spec, _ = resolve_scene(path, None, allow_outside_assets=True)
    with pytest.raises(UserError, match="sha256 differs"):
        object_mesh(spec.objects[index])


def test_a_symlink_out_of_the_scene_folder_is_outside(tmp_path: Path, capsys) -> None:
    outside = tmp_path / "someone" / "else.ply"
    _box(outside)
    scene_dir = tmp_path / "scene"
    scene_dir.mkdir()
    os.symlink(outside, scene_dir / "link.ply")
    path, index = _recorded(scene_dir, "link.ply", None)
    one_line_error(cli(capsys, "sample", str(path)), str(path), f"objects.{index}.source.file", "outside")
