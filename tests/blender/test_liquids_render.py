"""Liquids rendered: depth and masks with liquid agree with ray casting the exported meshes
(containers and liquids) in glass containers (rendered as container-air, liquid-air and
container-liquid surfaces) and opaque ones, the liquid is counted in meta.json, and a recorded
scene replays to the same files."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from helpers import render

from transphy3d.output import contract
from transphy3d.output.oracle import compare
from transphy3d.output.reader import open_scene

pytestmark = pytest.mark.blender

FILLED = (
    "--seed",
    "5",
    "--set",
    "objects.count=3",
    "--set",
    "objects.families={choice: [cup, wine_glass, bottle]}",
    "--set",
    "objects.rest_pose=upright",
    "--set",
    "objects.materials={choice: [glass, ceramic], weights: [2, 1]}",
    "--set",
    "objects.liquid.probability=1.0",
    "--set",
    "objects.liquid.fill={uniform: [0.7, 0.9]}",
    "--set",
    "camera.elevation_deg={uniform: [45, 55]}",
    "--set",
    "render.width=96",
    "--set",
    "render.height=72",
)


@pytest.fixture(scope="module")
def liquid_scenes(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("liquids")
    render("scene_configs/tiny.yaml", tmp / "a", *FILLED)
    render(tmp / "a" / contract.SCENE_SPEC_FILE, tmp / "replay")
    return tmp


def test_depth_and_masks_with_liquid_agree_with_the_oracle(liquid_scenes, tmp_path) -> None:
    scene = open_scene(liquid_scenes / "a")
    filled = [o for o in scene.objects if o.liquid is not None]
    # Both ways of rendering a liquid: with the interface (glass) and reaching into the wall (ceramic).
    assert {o.material_class for o in filled} == {"glass", "ceramic"}
    for obj in filled:
        mesh = obj.load_liquid_mesh()
        assert mesh.is_watertight
        assert mesh.volume * 1e6 == pytest.approx(obj.liquid.volume_ml, rel=0.02)
    quality = scene.meta.quality
    assert quality.liquid_containers == len(filled)
    assert min(quality.liquid_share) > 0.002
    for frame in range(scene.num_frames):
        agreement = compare(scene, frame)
        assert agreement.pixels > 1000, agreement
        assert agreement.depth_within_1mm >= 0.99, agreement
        assert agreement.mask_agreement >= 0.99, agreement
        assert agreement.hit_agreement >= 0.99, agreement
    # Without the liquid meshes the oracle disagrees where the free surfaces are seen.
    stripped = tmp_path / "no_liquid"
    shutil.copytree(liquid_scenes / "a", stripped)
    layout = json.loads((stripped / contract.OBJECTS_FILE).read_text())
    for entry in layout["objects"]:
        entry.pop("liquid", None)
    (stripped / contract.OBJECTS_FILE).write_text(json.dumps(layout))
    worse = [compare(open_scene(stripped), f).depth_within_1mm for f in range(scene.num_frames)]
    assert min(worse) < 0.99 - min(quality.liquid_share), worse


def test_a_recorded_scene_with_liquid_replays_to_the_same_files(liquid_scenes) -> None:
    a, replay = liquid_scenes / "a", liquid_scenes / "replay"
    for name in (contract.SCENE_SPEC_FILE, contract.CAMERA_FILE, contract.OBJECTS_FILE):
        assert (a / name).read_text() == (replay / name).read_text(), name
    liquids = sorted(p.name for p in (a / contract.MESH_DIR).glob("*_liquid.ply"))
    assert len(liquids) >= 2
    for name in liquids:
        assert (a / contract.MESH_DIR / name).read_bytes() == (replay / contract.MESH_DIR / name).read_bytes()
    first, second = open_scene(a), open_scene(replay)
    assert second.meta.physics_recorded
    for f in range(first.num_frames):
        assert np.array_equal(first.depth(f), second.depth(f))
        assert np.array_equal(first.mask(f), second.mask(f))
        assert np.array_equal(first.rgb(f), second.rgb(f))
