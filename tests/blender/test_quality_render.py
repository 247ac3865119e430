"""A tiny scene rendered at each render.quality preset: scene.yaml and meta.json record the
preset's settings, and the ground truth (depth, normals, masks) is the same file whatever the
preset."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import yaml
from helpers import render, run_cli
from PIL import Image

from transphy3d.output import contract
from transphy3d.scene.quality import DEFAULT, QUALITY_PRESETS

pytestmark = pytest.mark.blender

TINY = ("--seed", "5", "--set", "render.width=32", "--set", "render.height=24", "--set", "camera.frames=1",
        "--set", "objects.count=2")  # fmt: skip


@pytest.fixture(scope="module")
def renders(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("quality")
    for name in QUALITY_PRESETS:
        render("scene_configs/default.yaml", tmp / name, *TINY, "--set", f"render.quality={name}")
    return tmp


@pytest.mark.parametrize("name", sorted(QUALITY_PRESETS))
def test_the_scene_records_the_preset_it_rendered(renders, name: str) -> None:
    raw = yaml.safe_load((renders / name / contract.SCENE_SPEC_FILE).read_text())["render"]
    assert raw["quality"] == name
    assert {key: raw[key] for key in DEFAULT} == QUALITY_PRESETS[name]
    meta = json.loads((renders / name / contract.META_FILE).read_text())
    assert meta["samples"] == QUALITY_PRESETS[name]["samples"] and meta["render_quality"] == name


def test_the_report_shows_seconds_per_frame_by_device_and_preset(renders, tmp_path) -> None:
    """What a run cost: one row per (device, preset), with the scenes' own seconds per frame."""
    run = tmp_path / "run"
    for i, name in enumerate(sorted(QUALITY_PRESETS)):
        shutil.copytree(renders / name, run / f"scene_{i:06d}")
    result = run_cli("report", str(run), "--out", str(tmp_path / "report"))
    assert result.returncode == 0, result.stderr
    rows = json.loads((tmp_path / "report" / "report.json").read_text())["render_cost"]
    assert [(r["device"], r["quality"], r["scenes"]) for r in rows] == [("CPU", n, 1) for n in sorted(QUALITY_PRESETS)]
    for row in rows:
        meta = json.loads((renders / row["quality"] / contract.META_FILE).read_text())
        assert row["seconds_per_frame"]["median"] == pytest.approx(meta["seconds_per_frame"], abs=1e-5)
        assert f"render: 1 scenes on CPU at quality {row['quality']}:" in result.stdout
    assert "<h2>Render cost</h2>" in (tmp_path / "report" / "report.html").read_text()


def test_ground_truth_does_not_depend_on_the_preset(renders) -> None:
    for folder in ("depth", "normal", "mask"):
        files = [sorted((renders / name / folder).iterdir()) for name in QUALITY_PRESETS]
        assert len(files[0]) == 1
        first = [f.read_bytes() for f in files[0]]
        assert all([f.read_bytes() for f in other] == first for other in files[1:])


def test_presets_render_the_same_image(renders) -> None:
    """Different noise, same picture: draft and default within a few 8-bit levels of final."""
    rgb = {name: np.asarray(Image.open(renders / name / "rgb" / "000000.png"), dtype=float) for name in QUALITY_PRESETS}
    for name in ("draft", "default"):
        assert np.abs(rgb[name] - rgb["final"]).mean() < 8.0
    assert not np.array_equal(rgb["draft"], rgb["final"])
