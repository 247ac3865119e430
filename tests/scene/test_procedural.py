"""Procedural meshes: watertight, positive volume, deterministic, within their limits."""

from __future__ import annotations

import numpy as np
import pytest

from transphy3d.scene.procedural import FAMILIES, build_mesh, check_params, sample_params

DRAWS = 25


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_meshes_are_watertight_with_positive_volume(family: str) -> None:
    rng = np.random.default_rng(1234)
    for _ in range(DRAWS):
        params = sample_params(family, rng)
        mesh = build_mesh(family, params, segments=32)
        assert mesh.is_watertight, (family, params)
        assert mesh.is_winding_consistent, (family, params)
        assert mesh.volume > 0, (family, params)
        # Re-centred on the centre of mass.
        np.testing.assert_allclose(mesh.center_mass, 0.0, atol=1e-6)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_extreme_parameters_still_build(family: str) -> None:
    fam = FAMILIES[family]
    for corner in ("low", "high"):
        params = {n: (p.default[0] if corner == "low" else p.default[1]) for n, p in fam.params.items()}
        mesh = build_mesh(family, params, segments=24)
        assert mesh.is_watertight and mesh.volume > 0, (family, corner)


def test_hollow_vessels_have_walls() -> None:
    """A cup holds less material than the solid of its outline: it is really hollow."""
    params = {"height": 0.1, "bottom_radius": 0.03, "top_ratio": 1.0, "wall": 0.003, "base": 0.006, "fillet": 0.0}
    mesh = build_mesh("cup", params, segments=128)
    solid = np.pi * 0.03**2 * 0.1
    cavity = np.pi * 0.027**2 * (0.1 - 0.006)
    assert mesh.volume == pytest.approx(solid - cavity, rel=0.01)


def test_same_parameters_give_identical_meshes() -> None:
    params = sample_params("mug", np.random.default_rng(7))
    a, b = build_mesh("mug", params, 48), build_mesh("mug", params, 48)
    assert np.array_equal(a.vertices, b.vertices) and np.array_equal(a.faces, b.faces)


def test_scale_scales_the_mesh() -> None:
    params = sample_params("bottle", np.random.default_rng(3))
    a, b = build_mesh("bottle", params, 32), build_mesh("bottle", params, 32, scale=2.0)
    np.testing.assert_allclose(b.extents, 2 * a.extents, rtol=1e-9)
    assert b.volume == pytest.approx(8 * a.volume, rel=1e-9)


def test_parameters_are_checked() -> None:
    params = sample_params("cup", np.random.default_rng(0))
    with pytest.raises(ValueError, match="outside its limits"):
        check_params("cup", {**params, "wall": 1.0})
    with pytest.raises(ValueError, match="missing height"):
        check_params("cup", {k: v for k, v in params.items() if k != "height"})
    with pytest.raises(ValueError, match="unknown colour"):
        check_params("cup", {**params, "colour": 1.0})
