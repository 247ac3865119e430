"""The ray-casting oracle: exact depth, normals and ids of a hand-built scene (a unit cube in
front of a wall), silhouettes, the agreement figures of ``compare`` on files that match or
differ by known amounts, and a real rendered scene against it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import trimesh
from helpers import copy_scene

from transphy3d.files import write_json
from transphy3d.geometry import camera as cam
from transphy3d.output import channels, contract, frame_files
from transphy3d.output.oracle import compare, raycast, silhouettes
from transphy3d.output.reader import open_scene

W, H = 32, 24  # fx = fy = 32 px (36 mm lens on a 36 mm sensor), cx = 15.5, cy = 11.5
INTERIOR = W * H - 96 - 108  # pixels off the silhouettes in frame 0 (test_silhouettes_...)
EYE = np.array([0.0, -3.0, 0.0])  # looking along +y at the cube, whose near face is 2.5 m away


def _translation(x: float, y: float, z: float) -> list[list[float]]:
    pose = np.eye(4)
    pose[:3, 3] = x, y, z
    return pose.tolist()


def _cube_scene(path: Path) -> Path:
    """A scene directory of two frames: cube 1 at the origin, then 1 m farther (y = 1); a wall
    (instance 0, environment) at y = 5 behind it. The per-frame files are written by ``_write``."""
    (path / contract.MESH_DIR).mkdir(parents=True)
    trimesh.creation.box(extents=(1.0, 1.0, 1.0)).export(path / contract.object_mesh_file(1))
    trimesh.creation.box(extents=(40.0, 0.2, 40.0)).export(path / contract.part_mesh_file("wall"))
    w2c = cam.invert_rigid(cam.look_at(EYE, np.zeros(3)))
    camera = contract.CameraFile.from_arrays(W, H, 24, cam.intrinsics(W, H, 36.0, 36.0), [w2c, w2c], 0.01, 100)
    write_json(path / contract.CAMERA_FILE, camera.to_json())
    objects = {
        "objects": [
            {"instance_id": 1, "name": "cube", "source": {}, "material": {"class": "diffuse"},
             "mesh": contract.object_mesh_file(1), "object_to_world": [_translation(0, 0, 0), _translation(0, 1, 0)]},
        ],
        "environment": [
            {"name": "wall", "material": {}, "mesh": contract.part_mesh_file("wall"),
             "object_to_world": _translation(0, 5.1, 0)},
        ],
    }  # fmt: skip
    write_json(path / contract.OBJECTS_FILE, objects)
    for kind in (channels.DEPTH, channels.NORMAL, channels.MASK):
        (path / kind).mkdir()
    return path


def _write(path: Path, frame: int, depth: np.ndarray, normal: np.ndarray, mask: np.ndarray) -> None:
    frame_files.write_depth(channels.frame_path(path, channels.DEPTH, frame), depth.astype(np.float32))
    frame_files.write_normal(channels.frame_path(path, channels.NORMAL, frame), normal)
    frame_files.write_mask(channels.frame_path(path, channels.MASK, frame), mask.astype(np.uint16))


@pytest.fixture
def cube(tmp_path: Path):
    """The cube scene with files equal to the oracle's own answer."""
    path = _cube_scene(tmp_path / "cube")
    scene = open_scene(path)
    for f in range(2):
        oracle = raycast(scene, f)
        _write(path, f, oracle.depth, oracle.normal, oracle.instance)
    return open_scene(path)


def test_the_cube_seen_head_on(cube) -> None:
    """Frame 0: pixel centres within 0.5 m of the axis at 2.5 m, |u - 15.5| < 6.4 px: 12 x 12."""
    oracle = raycast(cube, 0)
    on_cube = oracle.instance == 1
    assert on_cube.sum() == 144 and np.array_equal(np.argwhere(on_cube.any(0)).ravel(), np.arange(10, 22))
    assert np.array_equal(np.argwhere(on_cube.any(1)).ravel(), np.arange(6, 18))
    np.testing.assert_allclose(oracle.depth[on_cube], 2.5, atol=1e-6)
    np.testing.assert_allclose(oracle.depth[~on_cube], 3.0 + 5.1 - 0.1, atol=1e-6)  # the wall's near face
    np.testing.assert_allclose(oracle.normal[on_cube], np.tile([0.0, 0.0, -1.0], (144, 1)), atol=1e-9)
    assert oracle.flat.all()  # a box: every face meets its neighbours at 0 or 90 degrees


def test_the_pose_of_each_frame_is_used(cube) -> None:
    """Frame 1: the cube 1 m farther, |u - 15.5| < 0.5 / 3.5 * 32 = 4.57 px: 10 x 10 at 3.5 m."""
    oracle = raycast(cube, 1)
    on_cube = oracle.instance == 1
    assert on_cube.sum() == 100
    np.testing.assert_allclose(oracle.depth[on_cube], 3.5, atol=1e-6)


def test_silhouettes_are_the_pixels_next_to_a_change(cube) -> None:
    """Around the 12 x 12 square: its own border (144 - 100) and the ring outside (196 - 144); and
    the image's outermost pixels (2 * 32 + 2 * 22), whose neighbours are unknown."""
    edge = silhouettes(raycast(cube, 0))
    assert edge.sum() == 44 + 52 + 108
    assert edge[0].all() and edge[:, -1].all() and edge[5, 9] and edge[6, 10]
    assert not edge[1:5, 1:-1].any() and not edge[7:17, 11:21].any()


def test_files_equal_to_the_oracle_agree_everywhere(cube) -> None:
    agreement = compare(cube, 0)
    assert agreement.pixels == INTERIOR  # every pixel off the silhouettes has a surface
    assert agreement.depth_within_1mm == agreement.hit_agreement == agreement.mask_agreement == 1.0
    assert agreement.flat_pixels == agreement.pixels and agreement.normal_within_2deg == 1.0
    assert agreement.max_depth_error_p99 < 1e-6


def test_the_figures_count_what_differs(cube) -> None:
    """Half the cube's interior 5 mm too deep, its normals tilted 5 degrees, its id wrong on the
    other half; the sky where the wall was on rows 1 and 2 (30 interior pixels each)."""
    oracle = raycast(cube, 0)
    interior = ~silhouettes(oracle)
    depth, normal, mask = oracle.depth.copy(), oracle.normal.copy(), oracle.instance.copy()
    left = np.zeros((H, W), bool)
    left[:, :16] = True
    cube_inside = interior & (oracle.instance == 1)
    assert cube_inside.sum() == 100 and (cube_inside & left).sum() == 50
    depth[cube_inside & left] += 0.005
    tilt = np.radians(5.0)
    normal[cube_inside] = [0.0, np.sin(tilt), -np.cos(tilt)]
    mask[cube_inside & ~left] = 7
    depth[1:3], normal[1:3], mask[1:3] = 0.0, 0.0, 0
    _write(cube.path, 0, depth, normal, mask)
    agreement = compare(open_scene(cube.path), 0)
    surface = INTERIOR - 60
    assert agreement.pixels == surface
    assert agreement.depth_within_1mm == pytest.approx(1 - 50 / surface)
    assert agreement.mask_agreement == pytest.approx(1 - 50 / surface)
    assert agreement.normal_within_2deg == pytest.approx(1 - 100 / surface)
    assert agreement.hit_agreement == pytest.approx(1 - 60 / INTERIOR)
    assert agreement.max_depth_error_p99 == pytest.approx(0.005, abs=1e-5)


@pytest.mark.blender
def test_a_rendered_scene_agrees_with_the_oracle(tiny_scene: Path) -> None:
    scene = open_scene(tiny_scene)
    for f in range(scene.num_frames):
        agreement = compare(scene, f)
        assert agreement.pixels > 500 and agreement.flat_pixels > 300, agreement
        assert agreement.depth_within_1mm >= 0.99 and agreement.mask_agreement >= 0.99, agreement
        assert agreement.hit_agreement >= 0.99 and agreement.normal_within_2deg >= 0.95, agreement


@pytest.mark.blender
def test_the_oracle_reads_the_poses_from_the_files(tiny_scene: Path, tmp_path: Path) -> None:
    """An object moved 5 cm in objects.json no longer agrees with its rendered pixels."""
    path = copy_scene(tiny_scene, tmp_path)
    objects = json.loads((path / contract.OBJECTS_FILE).read_text())
    scene = open_scene(path)
    largest = int(np.bincount(scene.mask(0).ravel())[1:].argmax()) + 1
    entry = next(o for o in objects["objects"] if o["instance_id"] == largest)
    for pose in entry["object_to_world"]:
        pose[0][3] += 0.05
    write_json(path / contract.OBJECTS_FILE, objects)
    before, after = compare(open_scene(tiny_scene), 0), compare(open_scene(path), 0)
    assert after.mask_agreement < before.mask_agreement - 0.02, (before, after)
