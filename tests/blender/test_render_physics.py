"""Physics: objects settle on the support, strays are re-sampled (and recorded), the fall can
be rendered."""

from __future__ import annotations

import pytest
from helpers import render, sampled_spec, save

from transphy3d.output import contract
from transphy3d.output.oracle import compare
from transphy3d.output.reader import open_scene
from transphy3d.scene.placement import Body, check_resting_poses
from transphy3d.scene.recorded import load_spec
from transphy3d.scene.spec import Pose

pytestmark = pytest.mark.blender


def test_stray_objects_are_resampled_and_recorded(tmp_path) -> None:
    spec = sampled_spec(5, "objects.count=2", "environment.type=tabletop", "camera.frames=1")
    stray = spec.objects[0].model_copy(
        update={"initial_pose": Pose(position=(3.0, 0.0, 1.5), quaternion=(1.0, 0.0, 0.0, 0.0))}
    )
    spec = spec.model_copy(update={"objects": [stray, spec.objects[1]]})
    render(save(spec, tmp_path / "in.yaml"), tmp_path / "scene")
    out = load_spec(tmp_path / "scene" / contract.SCENE_SPEC_FILE)
    first = out.placement[0]
    assert [(r.instance_id, r.reason) for r in first.rejected] == [(1, "left the support area")]
    assert out.placement[-1].rejected == [] and not out.dropped
    assert len(out.objects) == 2
    # The new start was drawn from the attempt-1 stream, inside the drop region.
    start = out.objects[0].initial_pose.position
    (x0, x1), (y0, y1) = out.environment.support.drop_x_range, out.environment.support.drop_y_range
    assert x0 <= start[0] <= x1 and y0 <= start[1] <= y1


def test_settled_objects_rest_on_the_support(tmp_path) -> None:
    render(
        "scene_configs/tiny.yaml",
        tmp_path / "scene",
        "--seed",
        "8",
        "--set",
        "objects.count=3",
        "--set",
        "environment.type=tabletop",
        "--set",
        "camera.frames=1",
        "--set",
        "physics.max_seconds=15",  # a dropped bottle may roll for 9 s before it rests
    )
    spec = load_spec(tmp_path / "scene" / contract.SCENE_SPEC_FILE)
    scene = open_scene(tmp_path / "scene")
    support = spec.environment.support
    bodies = [Body(o.instance_id, o.load_mesh()) for o in scene.objects]
    poses = {o.instance_id: o.object_to_world[0] for o in scene.objects}
    assert check_resting_poses(bodies, poses, support, spec.physics.max_penetration) == []
    for body in bodies:
        lowest = (body.mesh.vertices @ poses[body.instance_id][:3, :3].T + poses[body.instance_id][:3, 3])[:, 2].min()
        assert abs(lowest - support.z) < 0.005  # touching the table top, not floating
    last = spec.placement[-1]
    assert last.settled and last.simulated_seconds < spec.physics.max_seconds


def test_the_fall_can_be_rendered(tmp_path) -> None:
    render(
        "scene_configs/tiny.yaml",
        tmp_path / "scene",
        "--seed",
        "4",
        "--set",
        "physics.mode=fall",
        "--set",
        "camera.frames=12",
        "--set",
        "objects.count=2",
    )
    scene = open_scene(tmp_path / "scene")
    spec = load_spec(tmp_path / "scene" / contract.SCENE_SPEC_FILE)
    assert all(len(o.trajectory) == 12 for o in spec.objects)
    for obj in scene.objects:
        heights = obj.object_to_world[:, 2, 3]
        assert heights[0] - heights[-1] > 0.02  # it fell
    for frame in (0, 6, 11):
        agreement = compare(scene, frame)
        assert agreement.depth_within_1mm >= 0.99 and agreement.mask_agreement >= 0.99, (frame, agreement)


@pytest.mark.parametrize("rest_pose", ["upright", "upside_down"])
def test_objects_set_down_upright_or_upside_down_stay_so(rest_pose) -> None:
    """Cups, mugs and bottles set down on their base (or top) are still standing after physics:
    the angle of their z axis from world up, at rest. An object that would tip over standing
    upside down (a bottle on its neck) was stood upright instead, and is recorded so."""
    from transphy3d.blender.session import captured_output
    from transphy3d.blender.settle import settle
    from transphy3d.output.quality import tilt_deg

    expected = {"upright": (0.0, 10.0), "upside_down": (170.0, 180.0)}
    as_asked = 0
    for seed in (0, 1):
        spec = sampled_spec(
            seed,
            "objects.count=4",
            "environment.type=tabletop",
            "objects.families={choice: [cup, mug, bottle, bowl]}",
            f"objects.rest_pose={rest_pose}",
            "objects.static_fraction=0",
            "camera.frames=1",
        )
        with captured_output("/dev/null"):
            settled = settle(spec)
        assert len(settled.objects) == 4
        for obj in settled.objects:
            assert obj.rest_pose in expected
            if obj.source.family == "bottle":
                assert obj.rest_pose == "upright"
            as_asked += obj.rest_pose == rest_pose
            low, high = expected[obj.rest_pose]
            assert low <= tilt_deg(obj.settled_pose.matrix()) <= high, (seed, obj.name)
    assert as_asked >= 4
