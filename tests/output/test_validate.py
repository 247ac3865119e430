"""``validate_scene`` on a real rendered scene and on copies damaged one way each: the damage is
found, and the problem names the file, frame or channel it lies in (the wording is free)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from helpers import copy_scene, run_in_process

from transphy3d.output import channels, contract, frame_files
from transphy3d.output.validate import validate_scene

pytestmark = pytest.mark.blender  # the tiny_scene fixture renders


def _damaged(tiny_scene: Path, tmp_path: Path, damage: Callable[[Path], object]) -> list[str]:
    """The problems validate_scene finds in a copy of ``tiny_scene`` after ``damage(copy)``."""
    scene = copy_scene(tiny_scene, tmp_path)
    damage(scene)
    return validate_scene(scene).problems


def _naming(problems: list[str], *needles: str) -> list[str]:
    """The problems that hold every needle."""
    return [p for p in problems if all(n in p for n in needles)]


def test_a_rendered_scene_has_no_problem(tiny_scene: Path) -> None:
    report = validate_scene(tiny_scene)
    assert report.ok and report.problems == []
    assert report.frames == 3 and report.scene == tiny_scene.name
    quick = validate_scene(tiny_scene, frames="ends")
    assert quick.ok and quick.frames == 3


def _remove_rgb_1(scene: Path) -> None:
    channels.frame_path(scene, channels.RGB, 1).unlink()


def _truncate_depth_2(scene: Path) -> None:
    path = channels.frame_path(scene, channels.DEPTH, 2)
    path.write_bytes(path.read_bytes()[:200])


def _short_mask_0(scene: Path) -> None:
    path = channels.frame_path(scene, channels.MASK, 0)
    mask = frame_files.read_mask(path)
    frame_files.write_mask(path, mask[:-1])  # one row short: 47x64


def _long_normals_1(scene: Path) -> None:
    path = channels.frame_path(scene, channels.NORMAL, 1)
    frame_files.write_normal(path, frame_files.read_normal(path) * 1.5)


def _unknown_id_2(scene: Path) -> None:
    path = channels.frame_path(scene, channels.MASK, 2)
    mask = frame_files.read_mask(path)
    depth = frame_files.read_depth(channels.frame_path(scene, channels.DEPTH, 2))
    hit = np.argwhere(depth > 0)[0]
    mask[tuple(hit)] = 77  # objects.json has ids 1..3
    frame_files.write_mask(path, mask)


@pytest.mark.parametrize(
    ("damage", "needles"),
    [
        (_remove_rgb_1, ("rgb", "000001")),
        (_truncate_depth_2, ("depth", "000002")),
        (_short_mask_0, ("mask", "000000", "47")),
        (_long_normals_1, ("normal", "000001")),
        (_unknown_id_2, ("000002", "77")),
    ],
    ids=["missing frame", "truncated exr", "wrong-shape mask", "non-unit normals", "unknown mask id"],
)
def test_a_damaged_frame_is_a_problem_naming_it(tiny_scene: Path, tmp_path: Path, damage, needles) -> None:
    problems = _damaged(tiny_scene, tmp_path, damage)
    assert _naming(problems, *needles), problems
    frame = needles[1]
    assert all(frame in p for p in problems), problems  # the other frames are fine


def test_a_non_rigid_pose_names_the_object(tiny_scene: Path, tmp_path: Path) -> None:
    def stretch(scene: Path) -> None:
        path = scene / contract.OBJECTS_FILE
        objects = json.loads(path.read_text())
        pose = np.array(objects["objects"][1]["object_to_world"][1])
        pose[:3, :3] *= 1.01  # a 1 % scale: no longer a rotation
        objects["objects"][1]["object_to_world"][1] = pose.tolist()
        path.write_text(json.dumps(objects))

    problems = _damaged(tiny_scene, tmp_path, stretch)
    name = json.loads((tiny_scene / contract.OBJECTS_FILE).read_text())["objects"][1]["name"]
    assert len(_naming(problems, contract.OBJECTS_FILE, name)) == len(problems) == 1, problems


def test_a_missing_mesh_and_scene_yaml_are_named(tiny_scene: Path, tmp_path: Path) -> None:
    def remove(scene: Path) -> None:
        (scene / contract.object_mesh_file(2)).unlink()
        (scene / contract.SCENE_SPEC_FILE).unlink()

    problems = _damaged(tiny_scene, tmp_path, remove)
    assert _naming(problems, contract.object_mesh_file(2)) and _naming(problems, contract.SCENE_SPEC_FILE), problems
    assert len(problems) == 2, problems


def test_ends_reads_only_the_first_and_last_frame(tiny_scene: Path, tmp_path: Path) -> None:
    """``frames="ends"`` does not decode frame 1, yet still sees that a file of it is missing."""
    scene = copy_scene(tiny_scene, tmp_path)
    _long_normals_1(scene)
    assert validate_scene(scene, frames="ends").ok
    assert _naming(validate_scene(scene).problems, "000001")
    _remove_rgb_1(scene)
    assert _naming(validate_scene(scene, frames="ends").problems, "rgb", "000001")


def test_a_malformed_camera_json_names_the_key(tiny_scene: Path, tmp_path: Path) -> None:
    def drop_width(scene: Path) -> None:
        path = scene / contract.CAMERA_FILE
        camera = json.loads(path.read_text())
        del camera["width"]
        path.write_text(json.dumps(camera))

    problems = _damaged(tiny_scene, tmp_path, drop_width)
    assert _naming(problems, contract.CAMERA_FILE, "width"), problems


def test_a_truncated_json_file_is_named(tiny_scene: Path, tmp_path: Path) -> None:
    def truncate(scene: Path) -> None:
        path = scene / contract.OBJECTS_FILE
        path.write_text(path.read_text()[:100])

    problems = _damaged(tiny_scene, tmp_path, truncate)
    assert _naming(problems, contract.OBJECTS_FILE), problems


def test_the_command_prints_each_problem_and_fails(
    tiny_scene: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """``transphy3d validate RUN``: one line per problem naming the scene, a count, exit 1."""
    run = tmp_path / "run"
    run.mkdir()
    copy_scene(tiny_scene, run)
    bad = copy_scene(tiny_scene, tmp_path / "second").rename(run / "scene_000002")
    _remove_rgb_1(bad)
    result = run_in_process(capsys, "validate", str(run))
    assert result.returncode == 1, result
    lines = result.stdout.splitlines()
    assert [line for line in lines if line.startswith("scene_000002: ")] == lines[:1]
    assert "rgb" in lines[0] and "000001" in lines[0]
    assert lines[-1] == "validated 2 scene(s), 6 frames: 1 ok, 1 with problems"
