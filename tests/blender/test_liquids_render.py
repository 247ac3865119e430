"""Liquids rendered: depth and masks with liquid agree with ray casting the exported meshes
(containers and liquids) in glass containers (rendered as container-air, liquid-air and
container-liquid surfaces) and opaque ones, the liquid is counted in meta.json, and a recorded
scene replays to the same files."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from helpers import at_rest, render, save

from transphy3d.output import contract
from transphy3d.output.oracle import compare
from transphy3d.output.reader import open_scene
from transphy3d.output.validate import validate_scene

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
    assert validate_scene(scene.path).ok
    # Without the liquid meshes the oracle disagrees where the free surfaces are seen.
    stripped = tmp_path / "no_liquid"
    shutil.copytree(liquid_scenes / "a", stripped)
    (stripped / filled[0].liquid.mesh).unlink()
    assert any("liquid mesh" in p for p in validate_scene(stripped).problems)
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


SENSOR_CUP = {
    "objects.materials": "glass/clear_glass",
    "objects.liquid.types": "water",
    "objects.liquid.fill": 0.8,
    "camera.frames": 1,
    "camera.focal_length_mm": 40.0,
    "camera.fill": 0.0,
    "camera.framing": 2.2,
    "camera.elevation_deg": 45.0,
    "lighting.world": "gradient",
    "render.width": 128,
    "render.height": 96,
    "render.samples": 8,
    "sensor.enabled": True,
    "sensor.ir_width": 320,
    "sensor.ir_height": 180,
    "sensor.disparities": 48,
    "sensor.keep_ir": True,
}


@pytest.fixture(scope="module")
def sensor_cups(tmp_path_factory):
    """A clear glass cup seen by the simulated depth camera, full of water and empty."""
    tmp = tmp_path_factory.mktemp("liquid_sensor")
    scenes = {}
    for name, probability in (("water", 1.0), ("empty", 0.0)):
        spec = at_rest({**SENSOR_CUP, "objects.liquid.probability": probability})
        render(save(spec, tmp / f"{name}.yaml"), tmp / name)
        scenes[name] = open_scene(tmp / name)
    return scenes


def test_the_depth_camera_sees_the_liquid(sensor_cups) -> None:
    water, empty = sensor_cups["water"], sensor_cups["empty"]
    assert water.objects[0].liquid is not None and empty.objects[0].liquid is None
    cup = water.mask(0) == water.objects[0].instance_id
    assert cup.sum() > 200 and np.array_equal(cup, empty.mask(0) == empty.objects[0].instance_id)
    # The exact depth inside the cup's opening is the water's surface, above the empty cup's floor.
    assert np.mean(water.depth(0)[cup] < empty.depth(0)[cup] - 0.01) > 0.05
    assert water.meta.quality.liquid_share[0] > 0
    # The IR pair is rendered with the water in it: the IR image changes (same seeds otherwise).
    ir_water, ir_empty = (np.asarray(s.read("ir_left", 0), dtype=np.float64) for s in (water, empty))
    assert np.abs(ir_water - ir_empty).mean() > 0.2 and np.abs(ir_water - ir_empty).max() > 30
    assert water.meta.sensor["transparent"]["pixels"] > 0
