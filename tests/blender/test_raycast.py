"""Blender's BVH tree, which the renderer's visibility check casts with, hits the same triangles
as trimesh/Embree, which the tests and the ground-truth oracle use."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from helpers import at_rest, deep_bin

pytest.importorskip("bpy")
pytestmark = pytest.mark.blender


def test_a_ray_hits_the_face_it_meets_first_or_nothing() -> None:
    from transphy3d.blender.raycast import bvh_first_hit

    box = trimesh.creation.box()  # the unit cube around the origin
    origins = np.array([[0.1, 0.2, 5.0], [0.1, 0.2, 5.0], [0.0, 0.0, 5.0]])
    directions = np.array([[0.0, 0.0, -1.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    hits = bvh_first_hit(box)(origins, directions)
    assert hits[1:].tolist() == [-1, -1]
    assert np.allclose(box.face_normals[hits[0]], [0.0, 0.0, 1.0])  # the top, not the bottom


def test_blenders_bvh_and_embree_see_the_same_scene() -> None:
    from transphy3d.blender.raycast import bvh_first_hit
    from transphy3d.scene.visibility import SceneRays, check_camera, check_frames, choose_camera

    for spec in (deep_bin(elevation_deg=60.0), at_rest({"objects.count": 5, "environment.type": "tabletop"})):
        chosen = choose_camera(spec)
        frames = check_frames(chosen.render.frames)
        embree, bvh = SceneRays(chosen, frames), SceneRays(chosen, frames, bvh_first_hit)
        assert check_camera(chosen, embree, frames) == check_camera(chosen, bvh, frames)
        assert choose_camera(spec, caster=bvh_first_hit) == chosen
