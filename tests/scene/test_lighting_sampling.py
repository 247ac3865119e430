"""Sampled worlds and lights: bundled HDRIs by name, users' HDRIs by file, softboxes and ceiling
panels shaped and placed like real lamps."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from transphy3d.errors import UserError
from transphy3d.resources import CONFIG_DIR
from transphy3d.scene.config_loader import load_config
from transphy3d.scene.sampling import PANEL_CEILING_GAP, sample_spec
from transphy3d.scene.spec import BUNDLED_HDRIS

DEFAULT = CONFIG_DIR / "default.yaml"


def test_the_default_world_is_mostly_blenders_own_hdris_recorded_by_name():
    worlds = Counter()
    for seed in range(60):
        world = sample_spec(load_config(DEFAULT), seed).world
        worlds[world.label] += 1
        if world.type == "hdri":
            assert world.params["name"] in BUNDLED_HDRIS and "file" not in world.params
            assert 0.0 <= world.params["rotation_deg"] <= 360.0
    hdri = sum(n for label, n in worlds.items() if label.startswith("hdri/"))
    assert 0.4 < hdri / 60 < 0.8  # weights 6:2:2
    assert len([label for label in worlds if label.startswith("hdri/")]) >= 6  # the names vary


def test_a_users_hdri_folder_is_recorded_by_file(tmp_path):
    folder = tmp_path / "hdris"
    folder.mkdir()
    for name in ("b.exr", "a.hdr", "notes.txt"):
        (folder / name).write_bytes(b"x")
    overrides = {"lighting.world": "hdri", "lighting.hdri.bundled": [], "lighting.hdri.directory": str(folder)}
    files = {sample_spec(load_config(DEFAULT, overrides), seed).world.params["file"] for seed in range(12)}
    assert files == {str((folder / "a.hdr").resolve()), str((folder / "b.exr").resolve())}
    mixed = {**overrides, "lighting.hdri.bundled": ["night"]}
    picks = {sample_spec(load_config(DEFAULT, mixed), seed).world.label for seed in range(20)}
    assert picks == {"hdri/night", "hdri/file"}


def test_an_hdri_world_without_hdris_is_an_error_naming_the_field():
    with pytest.raises(UserError, match=r"lighting\.hdri\.bundled"):
        sample_spec(load_config(DEFAULT, {"lighting.world": "hdri", "lighting.hdri.bundled": []}), 0)


@pytest.mark.parametrize("room", [0.0, 1.0])
def test_ceiling_panels_face_down_from_the_ceiling_and_softboxes_aim_at_the_objects(room):
    overrides = {
        "lighting.lights.count": 4,
        "lighting.lights.type": {"choice": ["panel", "softbox"]},
        "environment.room.probability": room,
    }
    seen = Counter()
    for seed in range(10):
        spec = sample_spec(load_config(DEFAULT, overrides), seed)
        support = spec.environment.support
        centre = np.array([sum(support.x_range) / 2, sum(support.y_range) / 2, support.z])
        for light in spec.lights:
            seen[light.type] += 1
            assert 1.0 <= light.size / light.size_y <= 2.5
            position, target = np.array(light.position), np.array(light.target)
            if light.type == "panel":
                assert np.allclose(target, position - [0, 0, 1])
                if room:
                    assert position[2] == pytest.approx(spec.environment.room.height - PANEL_CEILING_GAP)
                else:
                    assert 2.3 <= position[2] <= 3.0
                assert np.linalg.norm(position[:2] - centre[:2]) <= 3.0
            else:
                assert np.allclose(target, centre)
                assert 1.0 <= np.linalg.norm(position - centre) <= 3.0
    assert seen["panel"] > 5 and seen["softbox"] > 5
