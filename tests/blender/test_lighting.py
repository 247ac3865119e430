"""World and lights in Blender: every bundled HDRI loads by name and lights the world with its own
picture, the rotation turns it, softboxes and ceiling panels are lit rectangles facing where they
should. Runs bpy in this process (tiny world-only renders)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from transphy3d.scene.spec import BUNDLED_HDRIS, LightSpec, WorldSpec

bpy = pytest.importorskip("bpy")
pytestmark = pytest.mark.blender


def render_world(world: WorldSpec, tmp_path, name: str) -> np.ndarray:
    """A 48x24 equirectangular-ish look around: a 360-degree panoramic camera at the origin."""
    from PIL import Image

    from transphy3d.blender.lighting import build_world
    from transphy3d.blender.session import reset

    scene = reset()
    build_world(scene, world)
    camera = bpy.data.objects.new("camera", bpy.data.cameras.new("camera"))
    scene.collection.objects.link(camera)
    camera.data.type = "PANO"
    camera.data.panorama_type = "EQUIRECTANGULAR"
    camera.rotation_euler = (math.pi / 2, 0.0, 0.0)
    scene.camera = camera
    scene.cycles.samples = 1
    scene.cycles.use_denoising = False
    scene.render.resolution_x, scene.render.resolution_y, scene.render.resolution_percentage = 48, 24, 100
    scene.render.filepath = str(tmp_path / f"{name}.png")
    scene.view_settings.view_transform = "Standard"
    bpy.ops.render.render(write_still=True)
    return np.asarray(Image.open(tmp_path / f"{name}.png").convert("RGB"), dtype=np.float64)


def test_every_bundled_hdri_lights_the_world_with_its_own_picture(tmp_path) -> None:
    images = {}
    for name in BUNDLED_HDRIS:
        world = WorldSpec(type="hdri", params={"name": name, "strength": 1.0, "rotation_deg": 0.0})
        images[name] = render_world(world, tmp_path, name)
        assert images[name].mean() > 3, f"{name} renders black"
        assert images[name].std() > 2, f"{name} renders flat"
    names = list(images)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert np.abs(images[a] - images[b]).mean() > 2, f"{a} and {b} look the same"
    turned = render_world(
        WorldSpec(type="hdri", params={"name": "forest", "strength": 1.0, "rotation_deg": 90.0}), tmp_path, "turned"
    )
    assert np.abs(turned - images["forest"]).mean() > 2
    # a quarter turn of the world is a quarter of the panorama's width (12 of 48 pixels)
    shifts = [np.abs(np.roll(images["forest"], s, axis=1) - turned).mean() for s in range(48)]
    assert min(range(48), key=lambda s: shifts[s]) in (11, 12, 13, 35, 36, 37)


def light(kind: str, position, target, size_y=None) -> LightSpec:
    return LightSpec(
        type=kind, position=position, target=target, power_w=50.0, temperature_k=5000.0, size=0.8, size_y=size_y,
        spot_angle_deg=60.0,
    )  # fmt: skip


def test_softboxes_and_panels_are_lit_rectangles_aimed_at_their_targets() -> None:
    from mathutils import Vector

    from transphy3d.blender.lighting import SOFTBOX_SPREAD_DEG, build_light
    from transphy3d.blender.session import reset

    scene = reset()
    softbox = build_light(0, light("softbox", (1.0, 0.0, 1.5), (0.0, 0.0, 0.75), 0.5), scene.collection)
    panel = build_light(1, light("panel", (0.3, 0.2, 2.8), (0.3, 0.2, 1.8), 0.4), scene.collection)
    disc = build_light(2, light("area", (0.0, 1.0, 1.5), (0.0, 0.0, 0.75)), scene.collection)
    for obj, size_y in ((softbox, 0.5), (panel, 0.4)):
        assert obj.data.type == "AREA" and obj.data.shape == "RECTANGLE"
        assert obj.data.size == pytest.approx(0.8) and obj.data.size_y == pytest.approx(size_y)
    assert softbox.data.spread == pytest.approx(math.radians(SOFTBOX_SPREAD_DEG))
    assert disc.data.shape == "DISK"
    # A light shines along its local -z.
    facing = panel.rotation_quaternion @ Vector((0.0, 0.0, -1.0))
    assert tuple(facing) == pytest.approx((0.0, 0.0, -1.0), abs=1e-6)
    aim = softbox.rotation_quaternion @ Vector((0.0, 0.0, -1.0))
    expected = (Vector((0.0, 0.0, 0.75)) - Vector((1.0, 0.0, 1.5))).normalized()
    assert tuple(aim) == pytest.approx(tuple(expected), abs=1e-6)
