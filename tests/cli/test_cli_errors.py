"""Bad input: one-line errors naming the file, key and allowed values; non-zero exit codes; and
nothing already written is lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import one_line_error, render, run_cli, sampled_spec, save

from transphy3d.scene.spec import StaticSource


def test_unknown_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(f"base: {Path('scene_configs/tiny.yaml').resolve()}\nlighting:\n  lightz: {{}}\n")
    one_line_error(
        run_cli("render-scene", str(config), "--out", str(tmp_path / "o")),
        str(config),
        "lighting.lightz",
        "allowed: gradient, hdri, lights",
    )
    assert not (tmp_path / "o").exists()


def test_out_of_range_override(tmp_path: Path) -> None:
    one_line_error(
        run_cli("render-scene", "scene_configs/tiny.yaml", "--out", str(tmp_path / "o"), "--set", "render.samples=0"),
        "--set render.samples",
        "greater than or equal to 1",
    )


def test_missing_material(tmp_path: Path) -> None:
    one_line_error(
        run_cli(
            "render-scene",
            "scene_configs/tiny.yaml",
            "--out",
            str(tmp_path / "o"),
            "--set",
            "environment.floor_material=floor/lava",
        ),
        "environment.floor_material",
        "'floor/lava'",
        "floor/wood_planks",
    )


def test_missing_config_file(tmp_path: Path) -> None:
    one_line_error(run_cli("render-scene", "nope.yaml", "--out", str(tmp_path / "o")), "nope.yaml", "file not found")


def test_bad_spec_field(tmp_path: Path) -> None:
    spec = sampled_spec(0)
    raw = save(spec, tmp_path / "s.yaml").read_text().replace("samples: 8", "samples: lots")
    (tmp_path / "s.yaml").write_text(raw)
    one_line_error(
        run_cli("render-scene", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "o")),
        "render.samples",
        "valid integer",
    )


def test_unwritable_output(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    one_line_error(
        run_cli("render-scene", "scene_configs/tiny.yaml", "--out", str(blocker / "scene")),
        str(blocker),
        "a file is in the way",
        code=3,
    )


@pytest.mark.blender
def test_missing_asset_file_loses_nothing(tmp_path: Path) -> None:
    out = tmp_path / "scene"
    render("scene_configs/tiny.yaml", out, "--set", "camera.frames=1")
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    spec = sampled_spec(1, "camera.frames=1")
    ghost = StaticSource(asset_id="bk-0000", file=str(tmp_path / "missing.glb"), size=0.2)
    spec = spec.model_copy(update={"objects": [spec.objects[0].model_copy(update={"source": ghost})]})
    result = run_cli("render-scene", str(save(spec, tmp_path / "s.yaml")), "--out", str(out), "--overwrite")
    one_line_error(result, "missing.glb", "bk-0000", "mesh file not found")
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before  # the old scene is intact
    assert not list(tmp_path.glob("scene.partial-*"))
    # an HDRI Blender cannot decode would render as a black world: refused, naming the file
    (tmp_path / "hdri").mkdir()
    (tmp_path / "hdri" / "sky.hdr").write_bytes(b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 4 +X 4\n")
    hdri = (
        "--set",
        "lighting.world=hdri",
        "--set",
        "lighting.hdri.bundled=[]",
        "--set",
        f"lighting.hdri.directory={tmp_path / 'hdri'}",
    )
    result = run_cli("render-scene", "tiny", "--out", str(out), "--overwrite", "--set", "camera.frames=1", *hdri)
    one_line_error(result, str(tmp_path / "hdri" / "sky.hdr"), "not an image Blender can decode")
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert not list(tmp_path.glob("scene.partial-*"))


@pytest.mark.blender
def test_existing_scene_needs_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "scene"
    render("scene_configs/tiny.yaml", out, "--set", "camera.frames=1")
    one_line_error(
        run_cli("render-scene", "scene_configs/tiny.yaml", "--out", str(out)), str(out), "--overwrite", code=3
    )


def test_seed_on_a_recorded_spec_is_refused(tmp_path: Path) -> None:
    path = save(sampled_spec(4), tmp_path / "s.yaml")
    one_line_error(
        run_cli("render-scene", str(path), "--out", str(tmp_path / "o"), "--seed", "5"), "--seed 5", "its seed is 4"
    )
