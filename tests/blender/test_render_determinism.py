"""Determinism: same config + seed in separate processes = same spec and settled poses; a
recorded scene.yaml replays exactly without running physics."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import render

from transphy3d.output import contract
from transphy3d.output.reader import open_scene
from transphy3d.scene.recorded import load_spec

pytestmark = pytest.mark.blender


@pytest.fixture(scope="module")
def three_renders(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("determinism")
    args = ("--seed", "3", "--set", "objects.count=4", "--set", "environment.type=container")
    render("scene_configs/tiny.yaml", tmp / "a", *args)
    render("scene_configs/tiny.yaml", tmp / "b", *args)
    render(tmp / "a" / contract.SCENE_SPEC_FILE, tmp / "replay")
    return tmp


def test_same_seed_gives_identical_specs_and_settled_poses(three_renders) -> None:
    a = (three_renders / "a" / contract.SCENE_SPEC_FILE).read_text()
    b = (three_renders / "b" / contract.SCENE_SPEC_FILE).read_text()
    assert a == b
    spec = load_spec(three_renders / "a" / contract.SCENE_SPEC_FILE)
    assert spec.is_settled and spec.placement
    assert all(o.settled_pose != o.initial_pose for o in spec.objects)


def test_replay_reproduces_the_scene_without_physics(three_renders) -> None:
    original = load_spec(three_renders / "a" / contract.SCENE_SPEC_FILE)
    replay = load_spec(three_renders / "replay" / contract.SCENE_SPEC_FILE)
    assert replay == original
    a, r = open_scene(three_renders / "a"), open_scene(three_renders / "replay")
    assert r.meta.physics_recorded is True and a.meta.physics_recorded is False
    assert r.meta.timings["physics"] < 0.05  # no simulation ran
    for name in (contract.CAMERA_FILE, contract.OBJECTS_FILE):
        assert (three_renders / "a" / name).read_text() == (three_renders / "replay" / name).read_text()
    for f in range(a.num_frames):
        assert np.array_equal(a.depth(f), r.depth(f))
        assert np.array_equal(a.mask(f), r.mask(f))
        assert np.array_equal(a.normal(f), r.normal(f))
        assert np.array_equal(a.rgb(f), r.rgb(f))  # fixed Cycles seed: bit-identical colour too


def test_replay_does_not_depend_on_the_physics_engine(three_renders, tmp_path) -> None:
    """Edit the recorded poses (as a different Bullet build would have settled them): the replay
    must render the recorded poses, proving it never re-simulates."""
    import yaml

    raw = yaml.safe_load((three_renders / "a" / contract.SCENE_SPEC_FILE).read_text())
    first = raw["objects"][0]
    first["settled_pose"]["position"][2] += 0.05  # lift object 1 by 5 cm
    path = tmp_path / "edited.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    render(path, tmp_path / "edited")
    edited = open_scene(tmp_path / "edited")
    original = open_scene(three_renders / "a")
    lift = edited.objects[0].object_to_world[0][:3, 3] - original.objects[0].object_to_world[0][:3, 3]
    np.testing.assert_allclose(lift, [0, 0, 0.05], atol=1e-12)
    np.testing.assert_allclose(edited.objects[1].object_to_world, original.objects[1].object_to_world)
