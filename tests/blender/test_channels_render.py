"""The opt-in channels rendered for real: NOCS against ray casting the exported meshes, albedo
against the materials, and both through the validator, the preview and the report."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import render, run_cli

from transphy3d.output.oracle import nocs_error
from transphy3d.output.reader import open_scene
from transphy3d.output.validate import validate_scene

pytestmark = pytest.mark.blender
CHANNELS_ON = "output.channels=[nocs, albedo]"


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """A tiny tabletop scene with the opt-in channels, as one scene of a run directory."""
    run = tmp_path_factory.mktemp("channels")
    render("tiny", run / "scene_000000", "--seed", "3", "--set", CHANNELS_ON, "--set", "render.width=96",
           "--set", "render.height=64", "--set", "camera.frames=2", "--set", "environment.type=tabletop")  # fmt: skip
    return open_scene(run / "scene_000000")


def test_nocs_agrees_with_ray_casting_the_exported_meshes(scene) -> None:
    assert [c.name for c in scene.channels][-2:] == ["nocs", "albedo"]
    for frame in range(scene.num_frames):
        pixels, worst = nocs_error(scene, frame)
        assert pixels > 300, pixels  # enough interior object pixels to mean something
        assert worst < 2e-3, (frame, worst)
        nocs, mask = scene.nocs(frame), scene.mask(frame)
        assert not nocs[mask == 0].any()
        assert nocs[mask > 0].min() >= -1e-3 and nocs[mask > 0].max() <= 1 + 1e-3


def test_albedo_is_the_surface_colour_not_the_lit_image(scene) -> None:
    """On diffuse objects the albedo lies between the material's two texture colours (or at its
    base colour), whatever the light; the lit image does not."""
    frame = scene.frame(0)
    albedo = frame.albedo
    assert albedo.shape == (64, 96, 3) and np.all(np.isfinite(albedo)) and albedo.min() >= 0
    checked = 0
    for obj in scene.objects:
        seen = frame.mask == obj.instance_id
        if obj.material_class != "diffuse" or seen.sum() < 30:
            continue
        params = obj.material["params"]
        colours = np.array(
            [params["base_color"], (obj.material.get("texture") or {}).get("color2", params["base_color"])]
        )
        lo, hi = colours.min(axis=0) - 0.05, colours.max(axis=0) + 0.05
        median = np.median(albedo[seen], axis=0)
        assert np.all((median >= lo) & (median <= hi)), (obj.name, median, colours)
        checked += 1
    assert checked, "the scene has no diffuse object in view"


def test_the_channels_validate_and_a_broken_nocs_is_named(scene, tmp_path) -> None:
    assert validate_scene(scene.path).ok
    import shutil

    from transphy3d.output.channels import channel

    copy = tmp_path / "scene_000000"
    shutil.copytree(scene.path, copy)
    nocs = channel("nocs")
    bad = nocs.read(nocs.path(copy, 1))
    bad[0, 0] = 7.0  # outside the unit cube (or on the environment)
    nocs.write(nocs.path(copy, 1), bad, "zip")
    problems = validate_scene(copy).problems
    assert len(problems) == 1 and "frame 000001: nocs:" in problems[0], problems
    nocs.path(copy, 0).unlink()
    assert any(p.startswith("nocs/: 1 of 2 frames missing") for p in validate_scene(copy).problems)


def test_the_report_counts_and_draws_the_channels(scene, tmp_path) -> None:
    result = run_cli("report", str(scene.path.parent), "--out", str(tmp_path / "report"))
    assert result.returncode == 0, result.stderr
    figures = json.loads((tmp_path / "report" / "report.json").read_text())
    assert figures["channels"] == {"rgb": 1, "depth": 1, "normal": 1, "mask": 1, "nocs": 1, "albedo": 1}
    for name in ("nocs", "albedo"):
        assert (tmp_path / "report" / "channels" / f"{name}.png").is_file()
    assert "channels/nocs.png" in (tmp_path / "report" / "report.html").read_text()


def test_the_preview_shows_the_channels(tmp_path) -> None:
    out = tmp_path / "preview"
    result = run_cli("preview", "tiny", "--frames", "2", "--width", "64", "--samples", "2", "--out", str(out),
                     "--set", CHANNELS_ON)  # fmt: skip
    assert result.returncode == 0, result.stderr
    layout = json.loads((out / "preview.json").read_text())["layout"]
    assert layout["columns"] == ["rgb", "depth", "normal", "mask", "nocs", "albedo"]
    assert set(layout["seeds"][0]["rows"][0]["boxes"]) == set(layout["columns"])
