"""``transphy3d report`` and the quality figures in meta.json, checked against a direct count of
mask pixels (Pillow, numpy) in three tiny rendered scenes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import render, run_cli
from PIL import Image

from transphy3d.output.quality import measure_scene
from transphy3d.scene.recorded import load_spec
from transphy3d.scene.visibility import VISIBLE_SHARE


def _direct_counts(scene: Path) -> tuple[list[float], list[float], int, int]:
    """Per frame object and transparent shares, visible pairs and pairs, from the files alone."""
    objects = json.loads((scene / "objects.json").read_text())["objects"]
    transparent = [o["instance_id"] for o in objects if o["material"]["transparent"]]
    ids = [o["instance_id"] for o in objects]
    shares, transparent_shares, seen = [], [], 0
    for path in sorted((scene / "mask").glob("*.png")):
        mask = np.asarray(Image.open(path))
        shares.append(np.count_nonzero(mask) / mask.size)
        transparent_shares.append(np.isin(mask, transparent).sum() / mask.size)
        seen += sum(np.count_nonzero(mask == i) >= VISIBLE_SHARE * mask.size for i in ids)
    return shares, transparent_shares, seen, len(ids) * len(shares)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report") / "run"
    for index, seed in enumerate((2, 5, 7)):
        liquid = ("--set", "objects.liquid.probability=1.0") if seed == 5 else ()  # its upright cup holds some
        render("tiny", root / f"scene_{index:06d}", "--seed", str(seed), *liquid)
    return root


@pytest.mark.blender
def test_meta_quality_matches_a_direct_count(run_dir: Path) -> None:
    for scene in sorted(run_dir.glob("scene_*")):
        quality = json.loads((scene / "meta.json").read_text())["quality"]
        shares, transparent, seen, pairs = _direct_counts(scene)
        np.testing.assert_allclose(quality["object_share"], shares, atol=1e-5)
        np.testing.assert_allclose(quality["transparent_share"], transparent, atol=1e-5)
        assert (quality["visible_pairs"], quality["pairs"]) == (seen, pairs)
        counted = measure_scene(scene).to_json()  # counted again from the files: the same
        if counted["liquid_share"] is None:  # but for the liquid's pixels, which only the data pass tells
            counted["liquid_share"] = quality["liquid_share"]
        assert counted == quality


@pytest.mark.blender
def test_report_figures_match_a_direct_count(run_dir: Path, tmp_path: Path) -> None:
    result = run_cli("report", str(run_dir), "--out", str(tmp_path / "r"), "--thumbnails", "2")
    assert result.returncode == 0, result.stderr
    figures = json.loads((tmp_path / "r" / "report.json").read_text())
    counts = [_direct_counts(scene) for scene in sorted(run_dir.glob("scene_*"))]
    shares = [s for c in counts for s in c[0]]
    transparent = [s for c in counts for s in c[1]]
    assert figures["scenes"] == 3 and figures["frames"] == len(shares) == 12
    assert figures["object_share"]["median"] == pytest.approx(np.median(shares), abs=1e-4)
    assert figures["object_share"]["mean"] == pytest.approx(np.mean(shares), abs=1e-4)
    assert figures["transparent_share"]["mean"] == pytest.approx(np.mean(transparent), abs=1e-4)
    assert figures["visibility"]["visible_pairs"] == pytest.approx(
        sum(c[2] for c in counts) / sum(c[3] for c in counts), abs=1e-4
    )
    assert sum(figures["materials"]["classes"].values()) == figures["objects"]
    layouts = [json.loads((scene / "objects.json").read_text()) for scene in sorted(run_dir.glob("scene_*"))]
    with_liquid = sum(any("liquid" in o for o in layout["objects"]) for layout in layouts)
    assert figures["liquids"]["scenes"] == with_liquid >= 1
    assert figures["liquids"]["pixel_share"]["max"] > 0
    assert figures["liquids"]["containers"] == sum("liquid" in o for layout in layouts for o in layout["objects"])
    assert f"liquid: {with_liquid} scenes" in result.stdout
    assert f"objects cover {100 * np.median(shares):.1f} % of a frame" in result.stdout
    page = (tmp_path / "r" / "report.html").read_text()
    for plot in ("object_share.png", "visibility.png", "materials.png", "elevation.png"):
        assert (tmp_path / "r" / plot).stat().st_size > 1000 and plot in page
    assert len(list((tmp_path / "r" / "thumbnails").glob("*.png"))) == 2


@pytest.mark.blender
def test_report_of_scenes_written_before_quality_existed(run_dir: Path, tmp_path: Path) -> None:
    old = shutil.copytree(run_dir, tmp_path / "old")
    for meta_path in old.glob("scene_*/meta.json"):
        meta = json.loads(meta_path.read_text())
        del meta["quality"]
        meta_path.write_text(json.dumps(meta))
    fresh = run_cli("report", str(run_dir), "--out", str(tmp_path / "a"), "--no-plots", "--thumbnails", "0")
    counted = run_cli("report", str(old), "--no-plots", "--thumbnails", "0")
    assert counted.returncode == 0 and "3 scenes had no quality figures in meta.json" in counted.stdout
    a = json.loads((tmp_path / "a" / "report.json").read_text())
    b = json.loads((old / "report" / "report.json").read_text())
    for key in ("object_share", "transparent_share", "visibility", "materials", "kinds"):
        assert a[key] == b[key], key
    assert fresh.returncode == 0


def test_report_bad_input(tmp_path: Path) -> None:
    result = run_cli("report", str(tmp_path))
    assert result.returncode == 2 and "no finished scenes" in result.stderr
    (tmp_path / "file").write_text("x")
    result = run_cli("report", str(tmp_path / "file"))
    assert result.returncode == 2 and "not a directory" in result.stderr


@pytest.mark.blender
def test_the_framing_the_camera_check_predicts_is_what_renders(run_dir: Path) -> None:
    """The check before rendering ray casts the scene at the render's 64 pixels across: its share
    of object pixels is the rendered masks' (median over frames), and the camera came close
    enough for the objects to fill a good part of the image."""
    for scene in sorted(run_dir.glob("scene_*")):
        spec = load_spec(scene / "scene.yaml")
        check = spec.camera_check
        shares, _, seen, pairs = _direct_counts(scene)
        assert check.passed
        assert abs(float(np.median(shares)) - check.object_share) < 0.02
        assert seen / pairs >= spec.camera.min_visible_pairs
        assert np.median(shares) >= 0.1
