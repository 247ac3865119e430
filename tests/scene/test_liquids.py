"""Liquids in containers (pure Python): the config, the draws, the liquid's geometry against
hand-computed numbers, and what pouring decides from the settled pose."""

from __future__ import annotations

import math

import numpy as np
import pytest
import trimesh
from helpers import at_rest, sampled_spec

from transphy3d.errors import UserError
from transphy3d.scene.config_loader import load_config
from transphy3d.scene.liquid_mesh import OVERLAP, cavity
from transphy3d.scene.liquids import liquid_mesh, pour, world_up_in
from transphy3d.scene.meshes import object_mesh
from transphy3d.scene.procedural import FAMILIES, build_mesh, sample_params
from transphy3d.scene.spec import Pose, spec_to_yaml

# A straight-sided tapered cup without a fillet: its cavity is a frustum, known by hand.
CUP = {"height": 0.1, "bottom_radius": 0.03, "top_ratio": 1.2, "wall": 0.003, "base": 0.006, "fillet": 0.0}


def frustum_volume(fill: float) -> float:
    """Cubic metres of CUP's cavity up to ``fill`` of its inner height (the wall is offset along
    its normal, so the inner radius is the outer one less wall * sqrt(1 + slope^2))."""
    h, rb, rt, wall, base = CUP["height"], CUP["bottom_radius"], 0.036, CUP["wall"], CUP["base"]
    slope = (rt - rb) / h

    def inner(z: float) -> float:
        return rb + slope * z - wall * math.sqrt(1 + slope**2)

    top = base + fill * (h - base)
    r0, r1 = inner(base), inner(top)
    return math.pi / 3 * (top - base) * (r0 * r0 + r0 * r1 + r1 * r1)


def tilted(deg: float, about: tuple[float, float, float] = (1.0, 0.0, 0.0)) -> np.ndarray:
    """A rotation of ``deg`` about ``about`` as a pose matrix (the container 5 cm up)."""
    pose = trimesh.transformations.rotation_matrix(math.radians(deg), about)
    pose[:3, 3] = (0.01, -0.02, 0.05)
    return pose


def cup_spec(pose: np.ndarray, fill: float = 0.5, **overrides):
    """One settled glass cup (CUP) at ``pose`` that was drawn to hold water, poured."""
    spec = at_rest({"objects.liquid.probability": 1.0, "objects.liquid.types": "water", **overrides})
    obj = spec.objects[0]
    obj = obj.model_copy(
        update={
            "source": obj.source.model_copy(update={"params": CUP, "segments": 64}),
            "scale": 1.0,
            "settled_pose": Pose.from_matrix(pose),
            "liquid": obj.liquid.model_copy(update={"fill": fill}),
        }
    )
    return pour(spec.model_copy(update={"objects": [obj, *spec.objects[1:]]}))


@pytest.mark.parametrize("tilt_deg", [0.0, 5.0])
def test_a_filled_cup_is_closed_inside_the_cavity_level_and_of_the_right_volume(tilt_deg: float) -> None:
    pose = tilted(tilt_deg, (0.6, 0.8, 0.0))
    obj = cup_spec(pose, fill=0.6).objects[0]
    assert obj.filled and obj.liquid.outcome == "filled"
    mesh = liquid_mesh(obj)
    assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0
    # Inside the cavity: within the cup's hull, and no point deeper in the glass than the overlap.
    cup = object_mesh(obj)
    assert cup.convex_hull.contains(mesh.vertices).all()
    assert trimesh.proximity.signed_distance(cup, mesh.vertices).max() <= OVERLAP + 1e-6
    # Level in the world: the free surface's faces face world up within 0.1 degree.
    world_normals = mesh.face_normals @ pose[:3, :3].T
    top = world_normals[:, 2] > 0.99
    assert mesh.area_faces[top].sum() > 0.5 * math.pi * 0.03**2
    angles = np.degrees(np.arccos(np.clip(world_normals[top, 2], -1, 1)))
    assert angles.max() < 0.1
    # Volume: the recorded one and the mesh's within 2 % of the frustum's up to the fill level.
    expected = frustum_volume(0.6)
    assert obj.liquid.volume_ml == pytest.approx(expected * 1e6, rel=0.02)
    assert mesh.volume == pytest.approx(expected, rel=0.02)


def test_the_surface_tilts_in_the_cup_frame_when_the_cup_tilts() -> None:
    upright = liquid_mesh(cup_spec(tilted(0.0)).objects[0])
    leaning = liquid_mesh(cup_spec(tilted(8.0)).objects[0])
    up = world_up_in(tilted(8.0))
    top = leaning.face_normals @ up > 0.9999
    assert np.degrees(np.arccos(leaning.face_normals[top][:, 2].min())) == pytest.approx(8.0, abs=0.1)
    assert leaning.volume == pytest.approx(upright.volume, rel=1e-3)


@pytest.mark.parametrize("family", sorted(f for f, fam in FAMILIES.items() if fam.cavity is not None))
def test_every_container_family_holds_a_closed_liquid_of_its_fill(family: str) -> None:
    rng = np.random.default_rng(5)
    for _ in range(3):
        params = sample_params(family, rng)
        inner = cavity(family, params, 32, 1.1)
        solid = build_mesh(family, params, 32, 1.1)
        fill = float(rng.uniform(0.2, 0.9))
        volume = inner.fill_volume(fill)
        up = np.array([0.0, 0.0, 1.0])
        mesh = inner.liquid(up, inner.level_for(up, volume))
        assert mesh.is_watertight and mesh.volume == pytest.approx(volume, rel=0.02), (family, params)
        # The cavity's floor and rim lie within the container's extent, the liquid inside both.
        lo, hi = solid.bounds
        assert lo[2] < inner.floor < inner.rim <= hi[2] + 1e-9
        assert mesh.bounds[1, 2] < inner.rim and mesh.bounds[0, 2] >= inner.floor - 2 * OVERLAP


def test_containers_off_their_base_hold_no_liquid() -> None:
    assert cup_spec(tilted(180.0)).objects[0].liquid.outcome == "not_upright"
    assert cup_spec(tilted(90.0)).objects[0].liquid.outcome == "not_upright"
    # 25 degrees is within MAX_TILT_DEG, but a 90 % fill would reach over the rim.
    assert cup_spec(tilted(25.0), fill=0.9).objects[0].liquid.outcome == "spills"
    assert cup_spec(tilted(25.0), fill=0.3).objects[0].liquid.outcome == "filled"


def test_the_rendered_fall_gets_no_liquid() -> None:
    spec = cup_spec(tilted(0.0), **{"physics.mode": "fall"})
    assert spec.objects[0].liquid.outcome == "fall" and not spec.objects[0].filled


def test_an_object_inside_the_liquid_blocks_it() -> None:
    spec = at_rest(
        {
            "objects.count": 2,
            "objects.families": "superquadric",
            "objects.family_params": {"superquadric": {"size_x": [0.02, 0.02], "size_y": [0.02, 0.02]}},
        }
    )
    cup = cup_spec(tilted(0.0)).objects[0].model_copy(update={"instance_id": 1})
    cup = cup.model_copy(update={"liquid": cup.liquid.model_copy(update={"outcome": None})})
    ball = spec.objects[1].model_copy(update={"settled_pose": Pose.from_matrix(tilted(0.0))})  # in the cup
    poured = pour(spec.model_copy(update={"objects": [cup, ball]}))
    assert poured.objects[0].liquid.outcome == "blocked"
    away = ball.model_copy(update={"settled_pose": Pose(position=(0.5, 0.5, 0.0), quaternion=(1, 0, 0, 0))})
    assert pour(spec.model_copy(update={"objects": [cup, away]})).objects[0].liquid.outcome == "filled"


def test_liquid_is_drawn_from_its_own_stream_and_recorded() -> None:
    with_liquid = sampled_spec(4, "objects.count=6", "objects.liquid.probability=1.0")
    without = sampled_spec(4, "objects.count=6", "objects.liquid.probability=0.0")
    assert any(o.liquid for o in with_liquid.objects) and not any(o.liquid for o in without.objects)
    # Everything else in the scene is drawn as before: only the liquid records differ.
    strip = [o.model_copy(update={"liquid": None}) for o in with_liquid.objects]
    assert strip == without.objects and with_liquid.camera == without.camera and with_liquid.lights == without.lights
    assert "liquid:" in spec_to_yaml(with_liquid) and "outcome" not in spec_to_yaml(with_liquid)
    assert sampled_spec(4, "objects.count=6", "objects.liquid.probability=1.0") == with_liquid
    for o in with_liquid.objects:
        holds = o.source.kind == "procedural" and FAMILIES[o.source.family].cavity is not None
        assert (o.liquid is not None) == holds


def test_the_default_config_fills_containers() -> None:
    liquid = load_config("default").objects.liquid
    assert liquid.probability > 0
    kinds = {o.liquid.type for seed in range(12) for o in sampled_spec(seed, config="default").objects if o.liquid}
    assert len(kinds) >= 3


def test_bad_liquid_values_name_the_field_and_the_allowed_values() -> None:
    with pytest.raises(UserError) as info:
        load_config("tiny", {"objects.liquid.types": "lava"})
    message = str(info.value)
    assert "\n" not in message and "objects.liquid.types" in message and "water" in message and "milk" in message
    with pytest.raises(UserError, match=r"objects\.liquid\.fill.*allowed"):
        load_config("tiny", {"objects.liquid.fill": {"uniform": [0.5, 1.5]}})
