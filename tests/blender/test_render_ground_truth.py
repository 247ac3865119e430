"""Rendered ground truth against an independent oracle: ray casting the exported meshes with
the exported cameras and poses (trimesh + Embree), never the renderer's own code."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import render, sampled_spec, save

from transphy3d.geometry.camera import project
from transphy3d.output import contract
from transphy3d.output.oracle import compare, raycast
from transphy3d.output.reader import open_scene
from transphy3d.scene.procedural import build_mesh
from transphy3d.scene.spec import CameraPathSpec, EnvironmentPart, Pose, WaveSpec

pytestmark = pytest.mark.blender


@pytest.fixture(scope="module")
def mixed_scene(tmp_path_factory):
    """A tiny tabletop scene in a room with one glass, one metal and one diffuse object."""
    spec = sampled_spec(
        11,
        "objects.count=3",
        "environment.type=tabletop",
        "environment.room.probability=1.0",
        "render.width=80",
        "render.height=60",
    )
    materials = ["glass/clear_glass", "metal/steel_polished", "diffuse/painted"]
    from transphy3d.rng import stream
    from transphy3d.scene.config_loader import load_config
    from transphy3d.scene.materials import load_library, sample_material
    from transphy3d.scene.spec import MaterialSpec

    library = load_library(load_config("tiny").materials_dir or "materials")
    objects = [
        o.model_copy(update={"material": MaterialSpec.model_validate(sample_material(library, m, stream(1, i)))})
        for i, (o, m) in enumerate(zip(spec.objects, materials, strict=True))
    ]
    tmp = tmp_path_factory.mktemp("mixed")
    path = save(spec.model_copy(update={"objects": objects}), tmp / "input.yaml")
    render(path, tmp / "scene")
    return open_scene(tmp / "scene")


def test_depth_normals_and_masks_match_the_oracle(mixed_scene) -> None:
    assert {o.material_class for o in mixed_scene.objects} == {"glass", "metal", "diffuse"}
    for frame in range(mixed_scene.num_frames):
        agreement = compare(mixed_scene, frame)
        assert agreement.pixels > 1000, agreement
        assert agreement.depth_within_1mm >= 0.99, agreement
        assert agreement.hit_agreement >= 0.99, agreement
        assert agreement.mask_agreement >= 0.99, agreement
        assert agreement.flat_pixels > 200, agreement
        assert agreement.normal_within_2deg >= 0.99, agreement


def test_every_object_is_seen(mixed_scene) -> None:
    seen = set()
    for frame in range(mixed_scene.num_frames):
        seen |= set(np.unique(mixed_scene.mask(frame)).tolist())
    assert {o.instance_id for o in mixed_scene.objects} <= seen


def test_files_follow_the_contract(mixed_scene) -> None:
    s = mixed_scene
    assert (s.width, s.height, s.num_frames) == (80, 60, 4)
    for f in range(s.num_frames):
        frame = s.frame(f)
        assert frame.rgb.shape == (60, 80, 3) and frame.rgb.dtype == np.uint8
        assert frame.depth.dtype == np.float32 and frame.mask.dtype == np.uint16
        hit = frame.depth > 0
        np.testing.assert_allclose(np.linalg.norm(frame.normal[hit], axis=-1), 1.0, atol=2e-3)
        assert not frame.normal[~hit].any() and not frame.mask[~hit].any()
        rays = np.linalg.inv(frame.K) @ np.array([40.0, 30.0, 1.0])
        if hit[30, 40]:
            assert frame.normal[30, 40] @ rays < 0  # facing the camera
        assert set(np.unique(frame.mask)) <= {0} | {o.instance_id for o in s.objects}
    assert 5 < frame.rgb.mean() < 250
    meta = s.meta
    assert meta.device.type == "CPU" and meta.denoiser == "OPENIMAGEDENOISE"
    assert meta.blender_version.startswith("4.5")
    for obj in s.objects:
        mesh = obj.load_mesh()
        assert mesh.is_watertight and mesh.volume > 0
        assert obj.object_to_world.shape == (4, 4, 4)
    assert {e.name for e in s.environment} >= {"env_floor", "env_table_top", "env_wall_0"}


@pytest.fixture(scope="module")
def glass_and_wall(tmp_path_factory):
    """A glass cup 0.3 m in front of a wall, and a 3 cm marker sphere at a known point."""
    base = sampled_spec(2, "render.width=96", "render.height=72", "objects.count=1", "lighting.world=gradient")
    floor = base.environment.parts[0]
    wall = EnvironmentPart(
        name="env_wall",
        shape="box",
        size=(3.0, 0.1, 1.5),
        position=(0.0, 0.35, 0.0),
        material=floor.material,
        collision=False,
    )
    glass = base.objects[0].model_copy(
        update={
            "name": "obj_0001_cup",
            "source": base.objects[0].source.model_copy(
                update={
                    "family": "cup",
                    "params": {
                        "height": 0.12,
                        "bottom_radius": 0.035,
                        "top_ratio": 1.2,
                        "wall": 0.003,
                        "base": 0.008,
                        "fillet": 0.002,
                    },
                }
            ),
            "scale": 1.0,
            "material": base.objects[0].material.model_copy(
                update={
                    "class_name": "glass",
                    "preset": "clear_glass",
                    "transparent": True,
                    "reflective": True,
                    "params": base.objects[0].material.params.model_copy(
                        update={"transmission": 1.0, "roughness": 0.0, "metallic": 0.0, "base_color": (1, 1, 1)}
                    ),
                    "texture": base.objects[0].material.texture.model_copy(update={"type": "none"}),
                }
            ),
        }
    )
    mesh = build_mesh("cup", glass.source.params, glass.source.segments)
    glass = glass.model_copy(
        update={"settled_pose": Pose(position=(0.0, 0.0, float(-mesh.bounds[0, 2])), quaternion=(1.0, 0.0, 0.0, 0.0))}
    )
    marker_params = {"size_x": 0.03, "size_y": 0.03, "size_z": 0.03, "e1": 1.0, "e2": 1.0}
    marker = glass.model_copy(
        update={
            "instance_id": 2,
            "name": "obj_0002_marker",
            "source": glass.source.model_copy(update={"family": "superquadric", "params": marker_params}),
            "material": base.objects[0].material.model_copy(
                update={
                    "class_name": "diffuse",
                    "preset": "painted",
                    "transparent": False,
                    "reflective": False,
                    "params": base.objects[0].material.params.model_copy(update={"transmission": 0.0, "metallic": 0.0}),
                }
            ),
            "settled_pose": Pose(position=(0.09, -0.05, 0.16), quaternion=(1.0, 0.0, 0.0, 0.0)),
        }
    )
    still = WaveSpec(amplitude=0.0, frequency=1.0, phase=0.0)
    camera = base.camera.model_copy(
        update={
            "elevation_deg": 8.0,
            "start_azimuth_deg": -90.0,
            "sweep_deg": 20.0,
            "direction": 1,
            "radius_wave": still,
            "height_wave": still,
            "look_waves": (still, still, still),
            "focal_length_mm": 35.0,
        }
    )
    spec = base.model_copy(
        update={
            "environment": base.environment.model_copy(update={"parts": [floor, wall], "room": None}),
            "objects": [glass, marker],
            "camera": camera,
            "camera_path": CameraPathSpec(centre=(0.0, 0.0, 0.07), bound_radius=0.1, distance=0.55, distance_scale=1.0),
        }
    )
    tmp = tmp_path_factory.mktemp("glass")
    render(save(spec, tmp / "scene_input.yaml"), tmp / "scene")
    return open_scene(tmp / "scene")


def test_glass_has_its_own_depth_not_the_walls(glass_and_wall) -> None:
    scene = glass_and_wall
    for f in range(scene.num_frames):
        depth, mask = scene.depth(f), scene.mask(f)
        glass = mask == 1
        assert glass.sum() > 200
        oracle = raycast(scene, f)
        interior = glass & (oracle.instance == 1)
        # The rendered depth is the glass surface's (the oracle's first hit) ...
        assert np.mean(np.abs(depth[interior] - oracle.depth[interior]) < 1e-3) >= 0.99
        # ... and the wall, seen through the glass, is a good 30 cm further away.
        wall_distance = scene.world_to_camera[f][2, 3] + 0.3
        assert np.all(depth[interior] < wall_distance - 0.2)
        assert compare(scene, f).depth_within_1mm >= 0.99


def test_projected_point_lands_where_it_was_drawn(glass_and_wall) -> None:
    scene = glass_and_wall
    marker = scene.object_by_id(2)
    centre = marker.object_to_world[0][:3, 3]
    for f in range(scene.num_frames):
        uv, z = project(scene.K, scene.world_to_camera[f], centre[None])
        rows, cols = np.nonzero(scene.mask(f) == 2)
        assert len(rows) >= 12
        # A sphere's outline centroid is the projection of its centre up to perspective skew
        # (far below a pixel for a 3 cm sphere at 0.5 m) and pixel quantisation.
        assert abs(cols.mean() - uv[0, 0]) < 0.35 and abs(rows.mean() - uv[0, 1]) < 0.35, (
            f,
            cols.mean(),
            rows.mean(),
            uv,
        )
        assert abs(scene.depth(f)[rows, cols].min() - (z[0] - 0.015)) < 1e-3


def test_scene_yaml_of_a_recorded_spec_is_kept(glass_and_wall) -> None:
    from transphy3d.scene.recorded import load_spec

    spec = load_spec(glass_and_wall.path / contract.SCENE_SPEC_FILE)
    assert spec.camera_path.distance == 0.55 and spec.placement == []
    assert glass_and_wall.meta.physics_recorded is True


def test_flow_points_to_the_same_surface(tmp_path) -> None:
    """Following the rendered flow from frame t lands on pixels of frame t+1 whose depth is the
    depth the moved point should have, where nothing nearer hides it at t+1 (few pixels)."""
    render(
        "scene_configs/tiny.yaml",
        tmp_path / "scene",
        "--seed",
        "6",
        "--set",
        "output.flow=true",
        "--set",
        "render.width=96",
        "--set",
        "render.height=72",
        "--set",
        "camera.sweep_deg=8",  # a few degrees per frame: little occlusion between frames
        "--set",
        "camera.fill=0",  # every object whole in view: no object enters or leaves the frame
    )
    scene = open_scene(tmp_path / "scene")
    from transphy3d.geometry.camera import invert_rigid, unproject

    assert scene.flow(scene.num_frames - 1) is None
    for f in range(scene.num_frames - 1):
        flow, depth, next_depth = scene.flow(f), scene.depth(f), scene.depth(f + 1)
        valid = depth > 0
        v, u = np.nonzero(valid)
        u1 = np.rint(u + flow[v, u, 0]).astype(int)
        v1 = np.rint(v + flow[v, u, 1]).astype(int)
        inside = (u1 >= 0) & (u1 < scene.width) & (v1 >= 0) & (v1 < scene.height)
        points = unproject(depth, scene.K)[v, u]
        world = (
            points @ invert_rigid(scene.world_to_camera[f])[:3, :3].T + invert_rigid(scene.world_to_camera[f])[:3, 3]
        )
        expected = (world @ scene.world_to_camera[f + 1][:3, :3].T + scene.world_to_camera[f + 1][:3, 3])[:, 2]
        got = next_depth[v1[inside], u1[inside]]
        close = np.abs(got - expected[inside]) < 0.01 * expected[inside]
        hidden = got < 0.99 * expected[inside]  # something nearer covers the point at t+1
        assert hidden.mean() < 0.15, hidden.mean()
        assert close[~hidden].mean() > 0.95, close[~hidden].mean()
        assert np.abs(flow[valid]).max() > 0.5  # the camera does move


def test_requested_gpu_falls_back_to_cpu(tmp_path) -> None:
    render("scene_configs/tiny.yaml", tmp_path / "scene", "--set", "render.device=CUDA", "--set", "camera.frames=1")
    meta = open_scene(tmp_path / "scene").meta
    assert meta.device.type == "CPU" and meta.denoiser == "OPENIMAGEDENOISE"
    assert any(reason.startswith("CUDA:") for reason in meta.device.fallback)
