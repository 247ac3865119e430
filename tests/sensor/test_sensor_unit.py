"""The simulated depth camera without Blender: presets, config, scene.yaml, the dot pattern, and
real OpenCV stereo matching and registration on synthetic pairs of known geometry."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import run_in_process, sampled_spec

from transphy3d.rng import stream
from transphy3d.scene.sensor import SensorSpec, dot_pattern
from transphy3d.scene.sensor_presets import PRESETS
from transphy3d.scene.spec import SceneSpec, spec_to_yaml
from transphy3d.sensor.agreement import REGIONS, material_regions, region_figures
from transphy3d.sensor.ir import ir_pair
from transphy3d.sensor.register import register_depth
from transphy3d.sensor.stereo import disparity, disparity_to_depth

D4_DISPARITIES = 126  # the D4 processor's search range (Intel's tuning white paper)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_reproduce_the_datasheet_min_z(name) -> None:
    """f * B / 126 at 1280 px across, from the datasheet's FOV and baseline, is its min-Z (+-10 %)."""
    info = PRESETS[name]
    assert info.min_depth_at(info.ir_max_width, D4_DISPARITIES) == pytest.approx(info.min_depth_m, rel=0.1)
    # the vertical FOV follows from the horizontal one at 16:9 with square pixels (+-2 degrees)
    half_v = np.degrees(np.arctan(np.tan(np.radians(info.ir_hfov_deg / 2)) * 9 / 16))
    assert 2 * half_v == pytest.approx(info.ir_vfov_deg, abs=2.0)


def test_sensor_is_off_by_default_and_recorded_when_on() -> None:
    assert sampled_spec(0).sensor is None
    assert "\nsensor:" not in spec_to_yaml(sampled_spec(0))
    spec = sampled_spec(0, "sensor.enabled=true", "sensor.preset=d435", "sensor.samples=4")
    assert spec.sensor.preset == "d435" and spec.sensor.baseline_m == 0.05 and spec.sensor.samples == 4
    again = SceneSpec.model_validate(__import__("yaml").safe_load(spec_to_yaml(spec)))
    assert again.sensor == spec.sensor
    older = spec.sensor.model_dump(exclude={"ideal_max_depth_m"})  # recorded before the field existed
    assert SensorSpec.model_validate(older).ideal_max_depth_m == PRESETS["d435"].ideal_max_depth_m
    assert sampled_spec(0).config.digest == sampled_spec(0, "sensor.enabled=false").config.digest


@pytest.mark.parametrize(
    ("setting", "needles"),
    [
        ("sensor.preset=d999", ("sensor.preset", "d415", "d435")),
        ("sensor.baseline_m=-1", ("sensor", "baseline_m")),
        ("sensor.block_size=8", ("sensor", "block_size", "odd")),
        ("sensor.disparities=100", ("sensor", "disparities", "multiple of 16")),
        ("sensor.ideal_max_depth_m=20", ("sensor", "ideal_max_depth_m", "max_depth_m (10.0)")),
    ],
)
def test_bad_sensor_settings_are_one_line_errors(capsys, setting, needles) -> None:
    result = run_in_process(capsys, "sample", "tiny", "--set", "sensor.enabled=true", "--set", setting)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def _sensor(**changes) -> SensorSpec:
    spec = sampled_spec(0, "sensor.enabled=true").sensor
    return spec.model_copy(update=changes)


def test_dot_pattern_is_seeded_and_covers_the_projector_field() -> None:
    spec = _sensor()
    a, b = dot_pattern(spec), dot_pattern(spec)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, dot_pattern(_sensor(pattern_seed=1)))
    assert a.shape == (spec.pattern_size()[1], spec.pattern_size()[0])
    assert a.mean() == pytest.approx(spec.dot_density, abs=0.01)


def _plane_pair(spec: SensorSpec, depth: float) -> tuple[np.ndarray, np.ndarray]:
    """A fronto-parallel dotted plane at ``depth`` seen by both imagers: the right image is the
    left one shifted by d = f * B / depth (sub-pixel, by linear interpolation)."""
    rng = stream(5, "plane")
    w, h = spec.ir_width, spec.ir_height
    texture = rng.random((h, w + 200)).astype(np.float64)
    d = spec.focal_px() * spec.baseline_m / depth
    x = np.arange(w, dtype=np.float64)
    left = texture[:, 100 : 100 + w]
    right = np.stack([np.interp(x + 100 + d, np.arange(w + 200), row) for row in texture])  # x_r = x_l - d
    return ir_pair(left, right, 1.0, stream(5, "noise"))


def test_stereo_matching_recovers_a_plane() -> None:
    spec = _sensor(ir_width=320, ir_height=180, disparities=64)
    left, right = _plane_pair(spec, 0.8)
    depth = disparity_to_depth(disparity(left, right, spec), spec)
    d = spec.focal_px() * spec.baseline_m / 0.8  # 18.6 px here
    # The left invalid band is as wide as the disparity (as on the device), not the search range:
    # left of it the right imager does not see the plane.
    seen = depth[:, int(np.ceil(d)) + spec.block_size :]
    assert (seen > 0).mean() > 0.95
    assert (depth[:, : int(d) - spec.block_size] > 0).mean() < 0.05
    error = np.abs(seen[seen > 0] - 0.8) / 0.8
    assert np.median(error) < 0.015 and (error < 0.02).mean() > 0.9  # sub-pixel


def test_stereo_matching_refuses_unrelated_images() -> None:
    spec = _sensor(ir_width=320, ir_height=180, disparities=64)
    rng = stream(7, "unrelated")
    left, right = ir_pair(rng.random((180, 320)), rng.random((180, 320)), 1.0, rng)
    depth = disparity_to_depth(disparity(left, right, spec), spec)
    # without the uniqueness test, left-right check and speckle filter 79 % would match
    assert (depth > 0).mean() < 0.35


def test_registration_moves_depth_to_the_other_camera() -> None:
    K = np.array([[100.0, 0, 63.5], [0, 100.0, 47.5], [0, 0, 1]])
    depth = np.full((96, 128), 2.0, np.float32)
    same = register_depth(depth, K, np.eye(4), K, 128, 96)
    np.testing.assert_allclose(same, depth)
    moved = np.eye(4)
    moved[0, 3] = 0.1  # the target camera sits 0.1 m to the left: the plane shifts right by 5 px
    out = register_depth(depth, K, moved, K, 128, 96)
    assert not out[:, :5].any() and np.allclose(out[:, 6:], 2.0)
    closer = np.eye(4)
    closer[2, 3] = -0.5  # 0.5 m nearer the plane: it grows and stays hole-free
    out = register_depth(depth, K, closer, K, 128, 96)
    np.testing.assert_allclose(out, 1.5)


def test_region_figures() -> None:
    depth = np.full((2, 5), 1.0)
    raw = np.array([[1.0, 1.01, 1.05, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0]])
    region = np.array([[True] * 5, [False] * 5])
    figures = region_figures(raw, depth, region)
    assert figures == {"pixels": 5, "coverage": 0.8, "within_2pct": 0.75, "failed": pytest.approx(0.4)}


def test_material_regions_split_the_ideal_range_from_the_far_one() -> None:
    depth = np.array([[0.3, 0.5, 2.9, 3.5, 9.0, 12.0, 0.0, 0.1]])
    mask = np.array([[1, 2, 2, 1, 2, 1, 0, 1]])  # object 2 is transparent; 0.1 m is nearer than min-Z
    regions = {
        name: region[0].tolist() for name, region in material_regions(mask, depth, [2], (0.2, 3.0, 10.0)).items()
    }
    assert sorted(regions) == sorted(REGIONS)
    assert regions["opaque"] == [True, False, False, False, False, False, False, False]
    assert regions["transparent"] == [False, True, True, False, False, False, False, False]
    assert regions["opaque_far"] == [False, False, False, True, False, False, False, False]
