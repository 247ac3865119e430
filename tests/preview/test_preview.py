"""``transphy3d preview`` end to end with real Cycles renders at tiny sizes: the files it promises,
a .blend that Blender opens again with the same objects, contact-sheet panels that hold the
rendered depth, normals, masks and colour, recorded scenes re-created exactly, the warnings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import trimesh
import yaml
from helpers import render, run_cli
from PIL import Image

from transphy3d.geometry.camera import invert_rigid, opencv_to_blender_camera_to_world
from transphy3d.output import channels, contract
from transphy3d.output.colormaps import DEPTH_LUT, instance_color
from transphy3d.output.derive import LIQUID_INDEX_OFFSET
from transphy3d.output.reader import open_scene
from transphy3d.scene.liquids import liquid_interfaces
from transphy3d.scene.recorded import load_spec

pytestmark = pytest.mark.blender

PREVIEW_ARGS = ("--frames", "3", "--width", "96", "--samples", "4")


def preview(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    result = run_cli("preview", *args, cwd=cwd, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def default_preview(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The shipped default config, two seeds side by side."""
    out = tmp_path_factory.mktemp("preview") / "default"
    result = preview("scene_configs/default.yaml", "--seed", "1", "--seeds", "2", "--out", str(out), *PREVIEW_ARGS)
    return out, result


def _info(out: Path) -> dict:
    return json.loads((out / "preview.json").read_text())


def _panel(sheet: np.ndarray, box: list[int], scale: int) -> np.ndarray:
    x, y, w, h = box
    return sheet[y : y + h : scale, x : x + w : scale]


def test_preview_writes_sheet_animation_and_blend(default_preview) -> None:
    out, result = default_preview
    info = _info(out)
    assert info["frames"] == [0, 60, 119] and info["num_frames"] == 120  # spread over the whole path
    assert [s["seed"] for s in info["scenes"]] == [1, 2]
    sheet = out / "contact_sheet.png"
    animation = out / info["animation"]
    assert animation.suffix == ".mp4"
    for path in (sheet, animation, *(out / s["blend"] for s in info["scenes"])):
        assert path.is_file() and path.stat().st_size > 0
        assert str(path) in result.stdout  # the paths are printed
    with Image.open(sheet) as image:
        assert image.width > 2 * 4 * 96  # two seeds side by side, four panels each
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(animation))
    next(reader)
    assert len(list(reader)) == 3
    for record in info["scenes"]:
        rendered = sorted(p.name for p in (out / record["render"] / channels.RGB).iterdir())
        assert rendered == ["000000.png", "000060.png", "000119.png"]


def test_seeds_are_different_scenes_at_the_configs_settings(default_preview) -> None:
    out, _ = default_preview
    specs = [load_spec(out / s["scene_yaml"]) for s in _info(out)["scenes"]]
    assert specs[0].objects != specs[1].objects
    for record, spec in zip(_info(out)["scenes"], specs, strict=True):
        # scene.yaml is the settled scene at the config's own settings: render-scene it for the full render
        assert spec.is_settled and (spec.render.width, spec.render.height, spec.render.samples) == (832, 480, 32)
        shown = load_spec(out / record["render"] / contract.SCENE_SPEC_FILE)
        assert (shown.render.width, shown.render.height, shown.render.samples) == (96, 55, 4)
        assert shown.camera_path == spec.camera_path and shown.objects == spec.objects


BLEND_PROBE = """
import json, sys
import bpy
bpy.ops.wm.open_mainfile(filepath=sys.argv[1])
scene = bpy.context.scene
scene.frame_set(int(sys.argv[2]))
objects = {
    o.name: {
        "type": o.type,
        "pass_index": o.pass_index,
        "vertices": len(o.data.vertices) if o.type == "MESH" else None,
        "materials": [m.name for m in o.data.materials] if o.type == "MESH" else [],
        "matrix": [list(row) for row in o.matrix_world],
    }
    for o in scene.objects
}
info = {"camera": scene.camera.name, "range": [scene.frame_start, scene.frame_end], "objects": objects}
print("PROBE" + json.dumps(info))
"""


def test_blend_opens_again_with_the_same_objects(default_preview) -> None:
    out, _ = default_preview
    record = _info(out)["scenes"][0]
    frame = 60
    result = subprocess.run(
        [sys.executable, "-c", BLEND_PROBE, str(out / record["blend"]), str(frame)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    blend = json.loads(next(line for line in result.stdout.splitlines() if line.startswith("PROBE"))[5:])
    scene = open_scene(out / record["render"])
    spec = load_spec(out / record["scene_yaml"])
    assert blend["range"] == [0, 119]
    meshes = {name: o for name, o in blend["objects"].items() if o["type"] == "MESH"}
    # A filled container's liquid is one object (opaque container) or two (free surface and
    # interface, transparent container), at the container's pose, marked by its object index.
    liquids = {name: o for name, o in meshes.items() if name.endswith(("_liquid", "_liquid_interface"))}
    assert set(meshes) - set(liquids) == {o.name for o in scene.objects} | {o.name for o in scene.environment}
    filled = {o.name: o for o in scene.objects if o.liquid is not None}
    assert {name.split("_liquid")[0] for name in liquids} == set(filled)
    for name, mine in liquids.items():
        container = filled[name.split("_liquid")[0]]
        assert mine["pass_index"] == LIQUID_INDEX_OFFSET + container.instance_id
        np.testing.assert_allclose(mine["matrix"], container.object_to_world[frame], atol=1e-5)
    assert sum(o["type"] == "LIGHT" for o in blend["objects"].values()) == len(spec.lights)
    by_name = {o.name: o for o in spec.objects}
    for obj in [*scene.objects, *scene.environment]:
        mine = meshes[obj.name]
        assert mine["pass_index"] == obj.instance_id
        assert mine["materials"] == [f"mat_{obj.name}"]
        ply = trimesh.load(obj.mesh_path, force="mesh", process=False)
        if f"{obj.name}_liquid_interface" in liquids:  # rendered without its wetted inner wall
            ply = liquid_interfaces(by_name[obj.name]).container_air
        assert mine["vertices"] == len(ply.vertices)
        np.testing.assert_allclose(mine["matrix"], obj.object_to_world[frame], atol=1e-5)
    camera = opencv_to_blender_camera_to_world(invert_rigid(scene.world_to_camera[frame]))
    np.testing.assert_allclose(blend["objects"][blend["camera"]]["matrix"], camera, atol=1e-5)


def test_depth_panel_holds_the_rendered_depth(default_preview) -> None:
    """Decode the depth panels' colours back to metres and compare with the depth EXRs."""
    out, _ = default_preview
    info = _info(out)
    sheet = np.asarray(Image.open(out / "contact_sheet.png").convert("RGB"))
    scale = info["layout"]["panel_scale"]
    level_of = {tuple(int(c) for c in colour): level for level, colour in enumerate(DEPTH_LUT)}
    for record, layout in zip(info["scenes"], info["layout"]["seeds"], strict=True):
        scene = open_scene(out / record["render"])
        depths = [scene.depth(row["frame"]) for row in layout["rows"]]
        valid_all = np.concatenate([d[d > 0] for d in depths])
        lo, hi = layout["depth_range"]
        np.testing.assert_allclose([lo, hi], np.percentile(valid_all, [1, 99]), rtol=1e-9)
        assert hi - lo > 0.3  # a real scene, not a flat image
        step = (1 / lo - 1 / hi) / 255
        for row, depth in zip(layout["rows"], depths, strict=True):
            panel = _panel(sheet, row["boxes"]["depth"], scale)
            assert panel.shape[:2] == depth.shape
            hit = depth > 0
            assert (panel[~hit] == 0).all()  # black: no surface
            levels = np.array([level_of[tuple(int(c) for c in p)] for p in panel[hit]])
            inverse = 1 / hi + levels / 255 * (1 / lo - 1 / hi)  # inverse-depth scale, near = 255
            expected = 1 / np.clip(depth[hit], lo, hi)
            assert np.abs(inverse - expected).max() <= step * 0.5001  # half a colour level
            assert len(np.unique(levels)) > 20


def test_other_panels_hold_the_rendered_frames(default_preview) -> None:
    out, _ = default_preview
    info = _info(out)
    sheet = np.asarray(Image.open(out / "contact_sheet.png").convert("RGB"))
    scale = info["layout"]["panel_scale"]
    for record, layout in zip(info["scenes"], info["layout"]["seeds"], strict=True):
        scene = open_scene(out / record["render"])
        id_of = {tuple(colour): int(i) for i, colour in layout["instances"].items()}
        id_of[instance_color(0)] = 0
        assert len(id_of) == len(scene.objects) + 1
        for row in layout["rows"]:
            frame = scene.frame(row["frame"])
            np.testing.assert_array_equal(_panel(sheet, row["boxes"]["rgb"], scale), frame.rgb)
            mask = _panel(sheet, row["boxes"]["mask"], scale)
            ids = np.array([id_of[tuple(int(c) for c in p)] for p in mask.reshape(-1, 3)]).reshape(mask.shape[:2])
            np.testing.assert_array_equal(ids, frame.mask)
            assert set(np.unique(frame.mask)) > {0}  # objects in view
            normal = _panel(sheet, row["boxes"]["normal"], scale).astype(float) / 255 * 2 - 1
            hit = frame.depth > 0
            shown = normal[hit] * np.array([1.0, -1.0, -1.0])  # x right, y up, z to the camera
            assert np.abs(shown - frame.normal[hit]).max() < 2.5 / 255 + 2e-3


# --- recorded scenes ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def production(tmp_path_factory) -> Path:
    """A finished scene in a render output, as the farm leaves it."""
    root = tmp_path_factory.mktemp("farm")
    render("scene_configs/tiny.yaml", root / "scene_000003", "--seed", "3", "--set", "objects.count=3")
    return root / "scene_000003"


def test_recorded_scene_preview_is_the_same_scene(production: Path, tmp_path: Path) -> None:
    """Preview a recorded scene.yaml from inside the render output, with the default --out: it
    goes to a temporary directory, runs no physics and renders the recorded poses and cameras."""
    result = preview("scene.yaml", "--frames", "2", cwd=production, env={"TMPDIR": str(tmp_path)})
    out = tmp_path / "transphy3d-previews" / "scene_000003"
    assert f"contact sheet  {out / 'contact_sheet.png'}" in result.stdout
    info = _info(out)
    assert info["recorded"] and info["frames"] == [0, 3]
    record = info["scenes"][0]
    assert record["timings"]["physics"] < 0.05
    assert (out / record["scene_yaml"]).read_text() == (production / contract.SCENE_SPEC_FILE).read_text()
    original, shown = open_scene(production), open_scene(out / record["render"])
    for a, b in zip(original.objects, shown.objects, strict=True):
        np.testing.assert_array_equal(a.object_to_world, b.object_to_world)
    np.testing.assert_array_equal(original.world_to_camera, shown.world_to_camera)
    for frame in (0, 3):  # tiny renders at 64x48: the preview's data pass is the production one
        np.testing.assert_array_equal(original.depth(frame), shown.depth(frame))
        np.testing.assert_array_equal(original.mask(frame), shown.mask(frame))
    assert not any(p.name.startswith("previews") for p in production.parent.rglob("*"))


def test_config_preview_settles_like_a_full_render(production: Path, tmp_path: Path) -> None:
    """Same config and seed: the preview's scene.yaml is the one render-scene recorded."""
    out = tmp_path / "p"
    preview("scene_configs/tiny.yaml", "--seed", "3", "--set", "objects.count=3", "--frames", "1", "--out", str(out))
    spec_yaml = out / _info(out)["scenes"][0]["scene_yaml"]
    assert spec_yaml.read_text() == (production / contract.SCENE_SPEC_FILE).read_text()


def test_warnings_for_artist_mistakes(production: Path, tmp_path: Path) -> None:
    """Edit a recorded scene: object 1 moved far out of view, object 2 placed on the camera,
    every object made metal (nothing transparent)."""
    raw = yaml.safe_load((production / contract.SCENE_SPEC_FILE).read_text())
    eye = invert_rigid(open_scene(production).world_to_camera[0])[:3, 3]
    raw["objects"][0]["settled_pose"]["position"][0] += 100.0
    raw["objects"][1]["settled_pose"]["position"] = [float(v) for v in eye]
    for obj in raw["objects"]:
        obj["material"].update({"class": "metal", "transparent": False})
    path = tmp_path / "edited.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    out = tmp_path / "p"
    result = preview(str(path), "--frames", "2", "--out", str(out))
    names = [o["name"] for o in raw["objects"]]
    expected = [
        f"warning: seed 3: the camera is inside {names[1]} (metal) in frame 0",
        f"warning: seed 3: {names[0]} (metal) is out of view in every previewed frame",
        "warning: seed 3: all 3 objects are metal (objects.materials)",
        "warning: seed 3: no transparent object in the scene (objects.materials drew none)",
    ]
    for line in expected:
        assert line in result.stderr.splitlines(), result.stderr
    assert [f"warning: seed 3: {w}" for w in _info(out)["scenes"][0]["warnings"]] == [
        line for line in result.stderr.splitlines() if line.startswith("warning:")
    ]
