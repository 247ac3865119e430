"""Pure-Python parts of ``transphy3d preview``: frame choice, colour maps, contact sheet layout,
artist warnings, output-directory rules and the animation writers (no Blender)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import trimesh
from helpers import sampled_spec
from PIL import Image

from transphy3d.errors import OutputError
from transphy3d.files import publish_directory
from transphy3d.geometry.camera import intrinsics, invert_rigid, look_at
from transphy3d.output import colormaps as cm
from transphy3d.preview.animation import write_gif
from transphy3d.preview.checks import (
    Solid,
    camera_inside_warnings,
    material_warnings,
    point_inside,
    visibility_warnings,
)
from transphy3d.preview.contact_sheet import FramePanels, SeedBlock, animation_frames, compose_contact_sheet
from transphy3d.preview.output import (
    PREVIEW_FILE,
    check_out_dir,
    default_out_dir,
    preview_name,
    production_root,
)
from transphy3d.preview.settings import PreviewSettings, preview_frames, preview_resolution, preview_spec


# --- settings -------------------------------------------------------------------------------
def test_preview_frames_span_the_whole_path() -> None:
    assert preview_frames(120, 8) == [0, 17, 34, 51, 68, 85, 102, 119]
    assert preview_frames(120, 6) == [0, 24, 48, 71, 95, 119]
    assert preview_frames(4, 8) == [0, 1, 2, 3]
    assert preview_frames(120, 1) == [0]
    with pytest.raises(ValueError):
        preview_frames(120, 0)


def test_preview_resolution_keeps_aspect_and_never_enlarges() -> None:
    assert preview_resolution(832, 480, 256) == (256, 148)
    assert preview_resolution(64, 48, 256) == (64, 48)
    w, h = preview_resolution(1920, 1080, 320)
    assert (w, h) == (320, 180)


def test_preview_spec_changes_only_render_quality() -> None:
    spec = sampled_spec(5, config="default")
    shown = preview_spec(spec, PreviewSettings(frames=8, width=128, samples=3))
    assert (shown.render.width, shown.render.height, shown.render.samples) == (128, 74, 3)
    assert shown.render.denoise and shown.render.denoise_prefilter == "FAST"
    assert shown.output.keep_blend and not shown.output.flow
    assert shown.render.frames == spec.render.frames == 120  # the whole camera path
    same = ("objects", "environment", "camera", "lights", "world", "physics", "seed")
    assert all(getattr(shown, k) == getattr(spec, k) for k in same)


# --- colour maps ----------------------------------------------------------------------------
def test_depth_colour_map_decodes_to_the_depth() -> None:
    rng = np.random.default_rng(0)
    depth = rng.uniform(0.3, 12.0, size=(40, 50))
    depth[rng.random(depth.shape) < 0.1] = 0.0
    lo, hi = cm.depth_range([depth])
    assert lo == pytest.approx(np.percentile(depth[depth > 0], 1))
    rgb = cm.colorize_depth(depth, lo, hi)
    assert (rgb[depth == 0] == 0).all() and (rgb[depth > 0].max(axis=-1) > 0).all()
    decoded = cm.decode_depth(rgb, lo, hi)
    assert (decoded[depth == 0] == 0).all()
    valid = depth > 0
    step = (1 / lo - 1 / hi) / (cm.LEVELS - 1)
    error = np.abs(1 / decoded[valid] - 1 / np.clip(depth[valid], lo, hi))
    assert error.max() <= step / 2 + 1e-9
    assert len({tuple(c) for c in cm.DEPTH_LUT}) == cm.LEVELS  # every level its own colour


def test_depth_colours_run_from_near_yellow_to_far_purple() -> None:
    rgb = cm.colorize_depth(np.array([[1.0, 2.0, 4.0]]), 1.0, 4.0)
    assert tuple(rgb[0, 0]) == tuple(cm.DEPTH_LUT[-1]) and tuple(rgb[0, 2]) == tuple(cm.DEPTH_LUT[0])
    brightness = rgb[0].astype(int).sum(axis=-1)
    assert brightness[0] > brightness[1] > brightness[2]


def test_normal_and_mask_colours() -> None:
    normal = np.array([[[0.0, 0.0, -1.0], [1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 0.0]]])
    rgb = cm.colorize_normal(normal)
    assert rgb[0].tolist() == [[128, 128, 255], [255, 128, 128], [128, 255, 128], [0, 0, 0]]
    colours = {cm.instance_color(i) for i in range(65)}
    assert len(colours) == 65
    mask = np.array([[0, 3], [3, 7]], dtype=np.uint16)
    assert cm.colorize_mask(mask)[1, 1].tolist() == list(cm.instance_color(7))


# --- contact sheet --------------------------------------------------------------------------
def _frame(index: int, rng: np.random.Generator, h: int = 30, w: int = 40) -> FramePanels:
    depth = rng.uniform(0.5, 3.0, (h, w))
    depth[:4] = 0.0
    normal = rng.normal(size=(h, w, 3))
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    mask = np.zeros((h, w), dtype=np.uint16)
    mask[10:20, 5:15] = 1
    mask[10:20, 20:30] = 2
    rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    return FramePanels(index, {"rgb": rgb, "depth": depth, "normal": normal, "mask": mask})


def test_contact_sheet_layout_holds_the_panels() -> None:
    rng = np.random.default_rng(1)
    blocks = [
        SeedBlock(seed, f"scene {seed}", [_frame(f, rng) for f in (0, 5, 9)], {1: "a", 2: "b"}, ["w"])
        for seed in (3, 4)
    ]
    sheet, layout = compose_contact_sheet(blocks, "a title")
    pixels = np.asarray(sheet)
    scale = layout["panel_scale"]
    assert scale == 4  # 40 px enlarged to at least 160
    assert [s["seed"] for s in layout["seeds"]] == [3, 4]
    assert layout["seeds"][1]["rows"][0]["boxes"]["rgb"][0] > layout["seeds"][0]["rows"][0]["boxes"]["mask"][0]
    for block, seed_layout in zip(blocks, layout["seeds"], strict=True):
        lo, hi = seed_layout["depth_range"]
        assert (lo, hi) == cm.depth_range(f.arrays["depth"] for f in block.frames)
        for frame, row in zip(block.frames, seed_layout["rows"], strict=True):
            assert row["frame"] == frame.frame
            x, y, w, h = row["boxes"]["rgb"]
            assert (w, h) == (40 * scale, 30 * scale)
            np.testing.assert_array_equal(pixels[y : y + h : scale, x : x + w : scale], frame.arrays["rgb"])
            x, y, w, h = row["boxes"]["depth"]
            np.testing.assert_array_equal(
                pixels[y : y + h : scale, x : x + w : scale], cm.colorize_depth(frame.arrays["depth"], lo, hi)
            )
            x, y, w, h = row["boxes"]["mask"]
            panel = pixels[y : y + h : scale, x : x + w : scale]
            assert panel[15, 10].tolist() == seed_layout["instances"]["1"] == list(cm.instance_color(1))
    movie = animation_frames(sheet, layout)
    assert len(movie) == 3 and len({m.shape for m in movie}) == 1
    assert movie[0].shape[1] < sheet.width and movie[0].shape[0] > 2 * 30 * scale


# --- warnings -------------------------------------------------------------------------------
def _box_solid(instance_id: int, centre, material: str = "glass", transparent: bool = True, frames: int = 3) -> Solid:
    box = trimesh.creation.box(extents=(0.2, 0.2, 0.2))
    pose = np.eye(4)
    pose[:3, 3] = centre
    return Solid(
        instance_id,
        f"obj_{instance_id}",
        material,
        transparent,
        np.asarray(box.vertices),
        np.asarray(box.faces),
        np.broadcast_to(pose, (frames, 4, 4)).copy(),
    )


def _cameras(eye, target, frames: int = 3) -> np.ndarray:
    return np.broadcast_to(invert_rigid(look_at(np.array(eye, float), np.array(target, float))), (frames, 4, 4)).copy()


def test_point_inside_a_closed_mesh() -> None:
    mesh = trimesh.creation.icosphere(subdivisions=2, radius=0.5)
    v, f = np.asarray(mesh.vertices), np.asarray(mesh.faces)
    assert point_inside([0.0, 0.0, 0.0], v, f)
    assert point_inside([0.3, -0.2, 0.1], v, f)
    assert not point_inside([0.6, 0.0, 0.0], v, f)
    assert not point_inside([0.4, 0.4, 0.0], v, f)  # inside the bounding box, outside the sphere


def test_camera_inside_an_object_is_reported() -> None:
    solids = [_box_solid(1, (0, 0, 0)), _box_solid(2, (1, 0, 0))]
    inside = camera_inside_warnings(solids, _cameras((0.05, 0, 0), (1, 1, 0)), [0, 2])
    assert inside == ["the camera is inside obj_1 (glass) in frames 0, 2"]
    assert camera_inside_warnings(solids, _cameras((0, -2, 1), (0, 0, 0)), [0, 2]) == []


def test_visibility_warnings() -> None:
    K = intrinsics(64, 48, 35.0, 36.0)
    cams = _cameras((0, -3, 1), (0, 0, 0))
    seen, hidden, away, cut = (
        _box_solid(1, (0, 0, 0)),
        _box_solid(2, (0, 0.5, 0)),
        _box_solid(3, (0, 5, -40)),
        _box_solid(4, (1.6, 0, 0)),
    )
    mask = np.zeros((48, 64), dtype=np.uint16)
    mask[20:25, 30:35] = 1
    mask[20:25, 60:64] = 4
    glimpse = mask.copy()
    glimpse[mask == 1] = 0
    glimpse[20, 30] = 1  # one pixel, 0.03 % of the image: below VISIBLE_SHARE, not visible
    warnings = visibility_warnings([seen, hidden, away, cut], [mask, glimpse], K, cams, [0, 1])
    assert warnings == [
        "obj_1 (glass) cannot be seen in frame 1",
        "obj_2 (glass) is hidden (by other objects or the environment) in every previewed frame",
        "obj_3 (glass) is out of view in every previewed frame",
        "obj_4 (glass) is partly out of view in frames 0, 1",
    ]
    # With camera.fill objects may be cut by the border on purpose: no warning for that.
    cropped = visibility_warnings([seen, hidden, away, cut], [mask, glimpse], K, cams, [0, 1], whole_in_view=False)
    assert cropped == warnings[:3]


def test_material_warnings() -> None:
    mask = np.zeros((4, 4), dtype=np.uint16)
    mask[0, 0] = 1
    metal = [_box_solid(i, (0, 0, 0), "metal", False) for i in (1, 2)]
    assert material_warnings(metal, [mask]) == [
        "all 2 objects are metal (objects.materials)",
        "no transparent object in the scene (objects.materials drew none)",
    ]
    mixed = [_box_solid(1, (0, 0, 0), "metal", False), _box_solid(2, (0, 0, 0), "glass", True)]
    assert material_warnings(mixed, [mask]) == ["no transparent object is visible in any previewed frame"]
    mask[1, 1] = 2
    assert material_warnings(mixed, [mask]) == []


# --- output directory -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "layout",
    [
        {"index.jsonl": ""},
        {"run.yaml": ""},
        {"scene_000001/camera.json": "{}"},
        {"camera.json": "{}", "scene.yaml": ""},
    ],
)
def test_render_outputs_are_recognised(tmp_path: Path, layout: dict[str, str]) -> None:
    root = tmp_path / "out"
    for name, text in layout.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    assert production_root(root) == root
    assert production_root(root / "previews" / "x") == root
    with pytest.raises(OutputError, match="inside the render output"):
        check_out_dir(root / "previews" / "x")
    assert production_root(tmp_path) is None


def test_scene_partial_and_other_dirs_are_not_render_outputs(tmp_path: Path) -> None:
    (tmp_path / "scene_000001.partial-12").mkdir()
    (tmp_path / "scene_000002").mkdir()  # no camera.json
    (tmp_path / "notes.txt").write_text("")
    assert production_root(tmp_path) is None


def test_default_out_dir_avoids_render_outputs(tmp_path: Path) -> None:
    assert default_out_dir("default_seed0", tmp_path) == tmp_path / "previews" / "default_seed0"
    (tmp_path / "index.jsonl").write_text("")
    fallback = default_out_dir("default_seed0", tmp_path)
    assert production_root(fallback) is None and fallback.name == "default_seed0"


def test_preview_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert preview_name("scene_configs/default.yaml", [0], False) == "default_seed0"
    assert preview_name("scene_configs/default.yaml", [3, 4, 5], False) == "default_seeds3-5"
    assert preview_name("out/scene_000042/scene.yaml", [42], True) == "scene_000042"
    assert preview_name("out/edited.yaml", [42], True) == "edited"
    (tmp_path / "scene_000007").mkdir()
    monkeypatch.chdir(tmp_path / "scene_000007")
    assert preview_name("scene.yaml", [7], True) == "scene_000007"


def test_only_previews_are_replaced(tmp_path: Path) -> None:
    other = tmp_path / "mine"
    other.mkdir()
    (other / "thesis.tex").write_text("keep me")
    with pytest.raises(OutputError, match="not a preview directory"):
        check_out_dir(other)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OutputError, match="not a directory"):
        check_out_dir(blocker)
    old = tmp_path / "old"
    old.mkdir()
    (old / PREVIEW_FILE).write_text("{}")
    check_out_dir(old)  # an older preview: fine
    new = tmp_path / "new.partial"
    new.mkdir()
    (new / PREVIEW_FILE).write_text(json.dumps({"n": 2}))
    publish_directory(new, old)
    assert json.loads((old / PREVIEW_FILE).read_text()) == {"n": 2} and not new.exists()


# --- animation ------------------------------------------------------------------------------
def _movie(n: int = 3) -> list[np.ndarray]:
    frames = []
    for i in range(n):
        frame = np.zeros((37, 50, 3), dtype=np.uint8)
        frame[:, : 10 * (i + 1)] = 255
        frames.append(frame)
    return frames


def test_gif_has_every_frame(tmp_path: Path) -> None:
    path = write_gif(tmp_path / "a.gif", _movie())
    with Image.open(path) as gif:
        assert gif.n_frames == 3 and gif.size == (50, 37)
        gif.seek(2)
        assert np.asarray(gif.convert("RGB"))[5, 25].tolist() == [255, 255, 255]


def test_scene_yaml_without_denoise_prefilter_still_loads() -> None:
    """``render.denoise_prefilter`` (added for previews) defaults to ACCURATE in older scene.yaml files."""
    import yaml

    from transphy3d.scene.recorded import parse_spec
    from transphy3d.scene.spec import spec_to_yaml

    raw = yaml.safe_load(spec_to_yaml(sampled_spec(2)))
    raw["render"].pop("denoise_prefilter")  # the default preset's prefilter is FAST
    assert parse_spec(raw, "old.yaml").render.denoise_prefilter == "ACCURATE"


def test_contact_sheet_shows_the_raw_depth_when_the_scene_has_a_sensor() -> None:
    rng = np.random.default_rng(2)
    frames = [_frame(f, rng) for f in (0, 5)]
    for frame in frames:
        depth = frame.arrays["depth"]
        frame.arrays["raw_depth"] = np.where(rng.random(depth.shape) < 0.7, depth * 1.01, 0.0)
    sheet, layout = compose_contact_sheet([SeedBlock(0, "scene", frames, {1: "a", 2: "b"})], "title")
    assert layout["columns"] == ["rgb", "depth", "normal", "mask", "raw_depth"]
    pixels, scale = np.asarray(sheet), layout["panel_scale"]
    lo, hi = layout["seeds"][0]["depth_range"]  # the depth panel's scale
    for frame, row in zip(frames, layout["seeds"][0]["rows"], strict=True):
        x, y, w, h = row["boxes"]["raw_depth"]
        np.testing.assert_array_equal(
            pixels[y : y + h : scale, x : x + w : scale], cm.colorize_depth(frame.arrays["raw_depth"], lo, hi)
        )
    plain, plain_layout = compose_contact_sheet([SeedBlock(0, "scene", [_frame(0, rng)], {})], "title")
    assert plain_layout["columns"] == ["rgb", "depth", "normal", "mask"] and plain.width < sheet.width


def test_the_caption_names_the_liquids() -> None:
    from transphy3d.preview.run import _caption

    spec = sampled_spec(4, "objects.count=6", "objects.liquid.probability=1.0")
    poured = [
        o.model_copy(update={"liquid": o.liquid.model_copy(update={"outcome": "filled", "level": 0.0})})
        if o.liquid
        else o
        for o in spec.objects
    ]
    filled = [o.liquid.type for o in poured if o.liquid]
    assert f"liquid in {len(filled)} ({', '.join(filled)})" in _caption(spec.model_copy(update={"objects": poured}), "")
    assert "liquid" not in _caption(spec, "")
