"""The simulated depth camera end to end: real Cycles IR renders, real OpenCV matching, checked
against the exact depth (``frame.depth``) over material regions from the masks and objects.json.
Two fixed tiny scenes: a diffuse cup and a clear glass cup on a wooden table, 0.4 to 1.5 m away."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import at_rest, render, run_in_process, save

from transphy3d.output import channels, contract
from transphy3d.output.reader import open_scene
from transphy3d.output.validate import validate_scene

pytestmark = pytest.mark.blender

SENSOR_SCENE = {
    "camera.frames": 1,
    "camera.focal_length_mm": 40.0,
    "camera.fill": 0.0,
    "camera.framing": 2.2,
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


def _render(tmp_path_factory, material: str):
    spec = at_rest({**SENSOR_SCENE, "objects.materials": material})
    tmp = tmp_path_factory.mktemp(material.replace("/", "_"))
    render(save(spec, tmp / "input.yaml"), tmp / "scene")
    return open_scene(tmp / "scene")


@pytest.fixture(scope="module")
def diffuse_scene(tmp_path_factory):
    return _render(tmp_path_factory, "diffuse")


@pytest.fixture(scope="module")
def glass_scene(tmp_path_factory):
    return _render(tmp_path_factory, "glass/clear_glass")


def _figures(scene, transparent: bool) -> tuple[int, float, float, float]:
    """(pixels, coverage, share of returns within 2 %, share of pixels missing or off by > 2 %) over
    the transparent objects, or over everything else, within the sensor's ideal range."""
    frame = scene.frame(0)
    sensor = scene.camera.sensor
    ids = [o.instance_id for o in scene.objects if o.material.get("transparent")]
    region = np.isin(frame.mask, ids) if transparent else ~np.isin(frame.mask, ids)
    region &= (frame.depth >= sensor.min_depth_m) & (frame.depth <= sensor.ideal_max_depth_m)
    raw, depth = frame.raw_depth[region], frame.depth[region]
    good = (raw > 0) & (np.abs(raw - depth) <= 0.02 * depth)
    return int(region.sum()), float((raw > 0).mean()), float(good.sum() / max((raw > 0).sum(), 1)), 1 - good.mean()


def test_raw_depth_agrees_on_opaque_textured_surfaces(diffuse_scene) -> None:
    pixels, coverage, within, _ = _figures(diffuse_scene, transparent=False)
    assert pixels > 0.9 * 128 * 96
    assert coverage >= 0.70, coverage
    assert within >= 0.85, within
    meta = diffuse_scene.meta.sensor["opaque"]  # what meta.json reports is the same count
    assert meta["coverage"] == pytest.approx(coverage, abs=1e-4) and meta["within_2pct"] == pytest.approx(
        within, abs=1e-4
    )


def test_raw_depth_fails_on_glass(glass_scene) -> None:
    pixels, coverage, within, failed = _figures(glass_scene, transparent=True)
    assert pixels > 300
    assert failed >= 0.5, (coverage, within, failed)  # holes or the table behind the glass
    _, coverage, within, _ = _figures(glass_scene, transparent=False)
    assert coverage >= 0.70 and within >= 0.85  # the table around the glass is still measured


def test_sensor_files_follow_the_contract(glass_scene) -> None:
    s = glass_scene
    assert validate_scene(s.path).ok
    sensor = s.camera.sensor
    assert (sensor.preset, sensor.width, sensor.height, sensor.baseline_m) == ("d415", 320, 180, 0.055)
    assert np.asarray(sensor.rgb_to_ir_right)[0, 3] - np.asarray(sensor.rgb_to_ir_left)[0, 3] == pytest.approx(-0.055)
    frame = s.frame(0)
    assert frame.raw_depth.dtype == np.float32 and frame.raw_depth.shape == frame.depth.shape
    assert frame.raw_depth.min() == 0 and frame.raw_depth.max() <= sensor.max_depth_m
    left, right = s.ir_left(0), s.ir_right(0)
    assert left.shape == right.shape == (180, 320) and left.dtype == np.uint8
    assert 5 < left.mean() < 200 and not np.array_equal(left, right)
    assert "sensor:" in (s.path / contract.SCENE_SPEC_FILE).read_text()
    # a missing raw_depth frame is a validation problem
    (s.path / channels.RAW_DEPTH / "000000.exr").rename(s.path / "moved.exr")
    try:
        assert any("raw_depth/" in p for p in validate_scene(s.path).problems)
    finally:
        (s.path / "moved.exr").rename(s.path / channels.RAW_DEPTH / "000000.exr")


def test_eval_dkt_raw_sensor_per_region(glass_scene, tmp_path, capsys) -> None:
    result = run_in_process(
        capsys, "eval-dkt", str(glass_scene.path), "--pred", "raw-sensor", "--out", str(tmp_path / "ev"),
        "--regions", "all,transparent", "--flow", "none",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "ev" / "metrics.json").read_text())["summary"]
    assert summary["all"]["delta_1.05"] > 0.8  # mostly the table, measured well
    assert summary["transparent"]["delta_1.05"] < summary["all"]["delta_1.05"] - 0.3
    assert 0 < summary["transparent"]["coverage"] <= 1


def test_report_sums_the_sensor_figures_over_a_run(diffuse_scene, glass_scene, tmp_path, capsys) -> None:
    """``transphy3d report`` weighs each scene's sensor figures by its pixels (and returns)."""
    import shutil

    run = tmp_path / "run"
    for index, scene in enumerate((diffuse_scene, glass_scene)):
        shutil.copytree(scene.path, run / f"scene_{index:06d}")
    result = run_in_process(capsys, "report", str(run), "--out", str(tmp_path / "r"), "--thumbnails", "0")
    assert result.returncode == 0, result.stderr
    sensor = json.loads((tmp_path / "r" / "report.json").read_text())["sensor"]
    metas = [diffuse_scene.meta.sensor, glass_scene.meta.sensor]
    opaque = [m["opaque"] for m in metas]
    pixels = sum(r["pixels"] for r in opaque)
    assert sensor["scenes"] == 2 and sensor["opaque"]["pixels"] == pixels
    assert sensor["opaque"]["coverage"] == pytest.approx(
        sum(r["coverage"] * r["pixels"] for r in opaque) / pixels, abs=1e-5
    )
    assert sensor["opaque"]["failed"] == pytest.approx(
        sum(r["failed"] * r["pixels"] for r in opaque) / pixels, abs=1e-5
    )
    assert sensor["transparent"]["failed"] > sensor["opaque"]["failed"]
    assert "Simulated depth camera" in (tmp_path / "r" / "report.html").read_text()
    line = next(line for line in result.stdout.splitlines() if "depth camera (2 scenes" in line)
    assert f"opaque {100 * sensor['opaque']['coverage']:.1f} % with a return" in line
    assert f"transparent {100 * sensor['transparent']['failed']:.1f} % missing" in line


def test_matching_again_on_the_kept_ir_images(glass_scene) -> None:
    """With the recorded settings the kept IR pair gives raw_depth/ exactly; other settings give
    another camera's depth; what the IR images fix cannot change."""
    from transphy3d.sensor.rematch import rematch

    np.testing.assert_array_equal(rematch(glass_scene.path, 0), glass_scene.raw_depth(0))
    wider = rematch(glass_scene.path, 0, block_size=15, uniqueness_ratio=0)
    assert not np.array_equal(wider, glass_scene.raw_depth(0)) and (wider > 0).any()
    with pytest.raises(ValueError, match="ir_width: not a matcher setting; allowed: disparities"):
        rematch(glass_scene.path, 0, ir_width=64)
    with pytest.raises(ValueError, match="block_size"):
        rematch(glass_scene.path, 0, block_size=8)
