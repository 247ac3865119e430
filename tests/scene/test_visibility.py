"""The visibility check before rendering, on constructed scenes (no Blender: the objects are set
down at rest, so their start poses are their settled poses)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import at_rest, deep_bin

from transphy3d.resources import CONFIG_DIR
from transphy3d.scene.config_loader import load_config
from transphy3d.scene.sampling import sample_spec
from transphy3d.scene.spec import CameraAlternative
from transphy3d.scene.visibility import SceneRays, check_camera, check_frames, choose_camera


def test_a_bin_wall_between_camera_and_object_is_seen_and_another_camera_is_chosen():
    low = deep_bin(elevation_deg=5.0)
    alternatives = [
        CameraAlternative(elevation_deg=8.0, start_azimuth_deg=90.0, framing=3.0),  # still behind the wall
        CameraAlternative(elevation_deg=80.0, start_azimuth_deg=30.0, framing=3.0),  # looks into the bin
        CameraAlternative(elevation_deg=75.0, start_azimuth_deg=0.0, framing=1.0),  # never tried
    ]
    low = low.model_copy(update={"camera": low.camera.model_copy(update={"alternatives": alternatives})})

    chosen = choose_camera(low)

    # The sampled camera at 5 degrees sees nothing over the wall; the check of the sampled path says so.
    frames = check_frames(low.render.frames)
    sampled = choose_camera(low.model_copy(update={"camera": low.camera.model_copy(update={"alternatives": []})}))
    assert sampled.camera_check.camera == 0
    assert sampled.camera_check.visible_pairs == 0.0
    assert sampled.camera_check.frames_without_visible_object == len(frames)
    assert not sampled.camera_check.passed
    # The first alternative that passes is kept: the camera and its path are those of alternative 2.
    assert chosen.camera_check.camera == 2
    assert chosen.camera_check.passed
    assert chosen.camera_check.visible_pairs == 1.0
    assert chosen.camera.elevation_deg == 80.0 and chosen.camera.start_azimuth_deg == 30.0
    assert chosen.camera_path.distance != sampled.camera_path.distance
    # The same spec gives the same choice.
    assert choose_camera(low) == chosen


def test_an_open_tabletop_passes_with_the_sampled_camera():
    spec = at_rest({"environment.type": "tabletop", "camera.elevation_deg": 30.0, "objects.count": 3})
    chosen = choose_camera(spec)
    assert chosen.camera_check.camera == 0
    assert chosen.camera_check.passed
    assert chosen.camera_check.frames_without_visible_object == 0


def test_the_check_counts_first_hits_like_a_mask():
    """An object's pixels from the ray cast equal a direct count: a cup straight below a camera
    looking down covers a disc of the image, and nothing hides it."""
    spec = choose_camera(at_rest({"environment.type": "tabletop", "camera.elevation_deg": 88.0}))
    frames = check_frames(spec.render.frames)
    rays = SceneRays(spec, frames)
    check = check_camera(spec, rays, frames)
    assert check.passed and check.visible_pairs == 1.0
    from transphy3d.geometry import camera as cam
    from transphy3d.scene.camera_path import spec_world_to_camera

    K = cam.intrinsics(104, 60, spec.camera.focal_length_mm, spec.camera.sensor_width_mm)
    counts = rays.pixel_counts(K, spec_world_to_camera(spec)[0], 104, 60, 0)
    share = counts[0] / (104 * 60)
    # framed to fill the image's height along the orbit: a large share, never all of it
    assert 0.05 < share < 0.9


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_alternatives_are_drawn_within_the_configs_ranges(seed):
    config = load_config(CONFIG_DIR / "default.yaml")
    spec = sample_spec(config, seed)
    assert len(spec.camera.alternatives) == config.camera.visibility.alternatives
    lo, hi = config.camera.elevation_deg.args
    assert all(lo <= a.elevation_deg <= hi for a in spec.camera.alternatives)
    assert len({a.elevation_deg for a in spec.camera.alternatives}) == len(spec.camera.alternatives)
    assert np.isclose(spec.camera.min_visible_pairs, config.camera.visibility.min_visible_pairs)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_camera_comes_closer_until_the_objects_fill_the_asked_share(seed):
    """Three cups on a table: framed to just fit they cover little of the image; with ``fill``
    the camera comes closer until they cover about that share, and the check still passes."""
    common = {"environment.type": "tabletop", "objects.count": 3, "camera.elevation_deg": 35.0}
    fitted = choose_camera(at_rest({**common, "camera.fill": 0.0}, seed))
    filled = choose_camera(at_rest({**common, "camera.fill": 0.3}, seed))
    assert fitted.camera_check.object_share < 0.25
    assert filled.camera_check.passed
    assert filled.camera_check.object_share == pytest.approx(0.3, abs=0.04)
    assert filled.camera_path.distance < fitted.camera_path.distance
    assert filled.camera_path.centre == fitted.camera_path.centre
