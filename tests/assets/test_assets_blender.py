"""Asset bank with Blender: import of good and broken files into a manifest, thumbnails cached by
content hash, and a scene with static assets that renders and agrees with the ray-cast oracle."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import trimesh
from helpers import REPO, render, run_cli

from transphy3d.output.oracle import compare
from transphy3d.output.reader import open_scene
from transphy3d.scene.asset_bank import read_manifest, resolve, sha256_file

pytestmark = pytest.mark.blender
STARTER_SRC = REPO / "assets_manifest" / "starter"


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """A folder of good files (every format; multi-part; own materials) and broken ones."""
    tmp = tmp_path_factory.mktemp("import")
    src = tmp / "src"
    (src / "nested").mkdir(parents=True)
    for name in ("perfume_bottle.glb", "lidded_jar.obj", "kettle.ply", "goblet.blend"):
        shutil.copy(STARTER_SRC / name, src / "nested" / name if name.endswith("obj") else src / name)
        shutil.copy(STARTER_SRC / f"{name}.json", (src / "nested" if name.endswith("obj") else src) / f"{name}.json")
    # A file without sidecar metadata gets a content-hash id and the command-line licence.
    trimesh.creation.icosphere(subdivisions=2, radius=0.05).export(src / "ball.ply")
    (src / "broken.obj").write_text("this is not an OBJ file\n")
    (src / "bad.glb").write_bytes(b"glTF\x02\x00\x00\x00garbage")
    (src / "truncated.blend").write_bytes(b"BLENDER-v405" + bytes(40))
    (src / "empty.ply").write_bytes(b"")
    (src / "lines.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nl 1 2\nl 2 3\n")  # edges, no faces
    (src / "notes.txt").write_text("not an asset")
    manifest = tmp / "bank" / "bank.jsonl"
    result = run_cli("assets", "import", str(src), "--manifest", str(manifest), "--licence", "own")
    assert result.returncode == 1, result.stderr[-3000:]  # the good files imported, the broken ones reported
    return tmp, manifest, result


def test_import_lists_good_files_and_reports_broken_ones(imported) -> None:
    tmp, manifest, result = imported
    records = {r.asset_id: r for r in read_manifest(manifest)}
    ball_id = f"sha-{sha256_file(tmp / 'src' / 'ball.ply')[:16]}"
    assert set(records) == {
        "tp3d-starter-perfume_bottle",
        "tp3d-starter-lidded_jar",
        "tp3d-starter-kettle",
        "tp3d-starter-goblet",
        ball_id,
    }
    report = json.loads(Path(f"{manifest}.import.json").read_text())
    broken = {Path(b["path"]).name: b["reason"] for b in report["broken"]}
    assert set(broken) == {"broken.obj", "bad.glb", "truncated.blend", "empty.ply", "lines.obj"}
    assert all(reason and "\n" not in reason for reason in broken.values())
    assert "0 bytes" in broken["empty.ply"] and "no mesh" in broken["lines.obj"]
    assert "5 imported" in result.stdout and "5 broken" in result.stdout
    for name in broken:
        assert f"broken: {tmp / 'src' / name}" in result.stderr
    ball = records[ball_id]
    assert ball.licence == "own" and ball.name == "ball" and ball.canonical.blend is None
    bottle = records["tp3d-starter-perfume_bottle"]
    assert bottle.objects == 2 and bottle.licence == "cc_zero" and bottle.source.format == "glb"
    goblet = records["tp3d-starter-goblet"]
    assert goblet.canonical.blend and goblet.materials == ["starter_glass"]
    # outside the manifest's folder: absolute; inside it: relative (cache/...)
    assert records["tp3d-starter-lidded_jar"].source.file == str(tmp / "src" / "nested" / "lidded_jar.obj")
    assert goblet.canonical.mesh.startswith("cache/")


def test_canonical_meshes_are_z_up_metres_and_match_the_sources(imported) -> None:
    _, manifest, _ = imported
    from transphy3d.assets.starter import STARTER

    built = {f"tp3d-starter-{a.name}": trimesh.util.concatenate(a.build()) for a in STARTER}
    for record in read_manifest(manifest):
        mesh = trimesh.load(resolve(manifest, record.canonical.mesh), process=False)
        assert sha256_file(resolve(manifest, record.canonical.mesh)) == record.canonical.mesh_sha256
        assert len(mesh.faces) == record.triangles
        np.testing.assert_allclose(mesh.bounds, [record.bbox_min, record.bbox_max], atol=1e-6)
        if record.asset_id in built:  # glb/obj were written y-up: the import turned them back
            np.testing.assert_allclose(mesh.bounds, built[record.asset_id].bounds, atol=1e-5)
            assert mesh.area == pytest.approx(built[record.asset_id].area, rel=1e-4)


def test_import_again_skips_known_content(imported) -> None:
    tmp, manifest, _ = imported
    before = manifest.read_text()
    result = run_cli("assets", "import", str(tmp / "src" / "kettle.ply"), "--manifest", str(manifest))
    assert result.returncode == 0 and "0 imported, 1 skipped" in result.stdout
    assert manifest.read_text() == before


def test_thumbnails_are_rendered_once_and_cached(imported) -> None:
    _, manifest, _ = imported
    args = ("assets", "thumbnails", "--manifest", str(manifest), "--views", "2", "--size", "48", "--samples", "2")
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "5 assets rendered, 0 from cache" in first.stdout
    records = read_manifest(manifest)
    from PIL import Image

    for record in records:
        assert len(record.thumbnails) == 2
        for stored in record.thumbnails:
            image = np.asarray(Image.open(resolve(manifest, stored)).convert("RGB"), dtype=np.float64)
            assert image.shape == (48, 48, 3)
            assert image.std() > 3  # the object is there, not an empty frame
    second = run_cli(*args)
    assert "0 assets rendered, 5 from cache" in second.stdout


@pytest.fixture(scope="module")
def static_scene(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("static")
    out = tmp / "scene"
    render(
        "scene_configs/mixed.yaml",
        out,
        "--seed",
        "5",
        "--set",
        "objects.count=4",
        "--set",
        "objects.static_fraction=0.8",
        "--set",
        "camera.frames=2",
        "--set",
        "render.width=96",
        "--set",
        "render.height=72",
        "--set",
        "render.samples=4",
    )
    return open_scene(out)


def test_scene_with_static_assets_names_them_and_matches_the_oracle(static_scene) -> None:
    sources = [o.source for o in static_scene.objects]
    static = [s for s in sources if s["kind"] == "static"]
    assert len(static) >= 2 and all(s["asset_id"].startswith("tp3d-starter-") for s in static)
    assert any(s["keep_materials"] for s in static)  # own materials from the canonical .blend
    assert any(o.material_class == "asset" for o in static_scene.objects)
    for frame in range(static_scene.num_frames):
        agreement = compare(static_scene, frame)
        assert agreement.pixels > 1500, agreement
        assert agreement.depth_within_1mm >= 0.99, agreement
        assert agreement.mask_agreement >= 0.99, agreement
    seen = set()
    for frame in range(static_scene.num_frames):
        seen |= set(np.unique(static_scene.mask(frame)).tolist())
    assert {o.instance_id for o in static_scene.objects if o.source["kind"] == "static"} <= seen


def test_import_cli_errors_are_one_line(tmp_path: Path) -> None:
    result = run_cli("assets", "import", str(tmp_path / "nothing"), "--manifest", str(tmp_path / "m.jsonl"))
    assert result.returncode == 2 and "no such file or folder" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    (tmp_path / "a.txt").write_text("x")
    result = run_cli("assets", "import", str(tmp_path / "a.txt"), "--manifest", str(tmp_path / "m.jsonl"))
    assert result.returncode == 2 and "not an asset file" in result.stderr


def test_a_hanging_file_costs_only_itself(tmp_path: Path) -> None:
    """A file Blender blocks on (a named pipe nobody writes) times out; the worker restarts and
    imports the files after it."""
    import os

    from transphy3d.assets.importer import run_worker

    fifo = tmp_path / "hang.ply"
    os.mkfifo(fifo)
    good = [STARTER_SRC / "kettle.ply", STARTER_SRC / "faceted_gem.glb"]
    requests = [
        {"path": str(good[0]), "format": "ply", "out_dir": str(tmp_path / "a")},
        {"path": str(fifo), "format": "ply", "out_dir": str(tmp_path / "b")},
        {"path": str(good[1]), "format": "glb", "out_dir": str(tmp_path / "c")},
    ]
    results = run_worker(requests, timeout=8.0)
    assert results[str(good[0])]["ok"] and results[str(good[1])]["ok"]
    assert not results[str(fifo)]["ok"] and "longer than 8 s" in results[str(fifo)]["reason"]


def test_missing_textures_and_empty_folders_are_named(tmp_path: Path) -> None:
    """An .obj whose .mtl names a texture that did not travel with it is refused (it would render
    without it); a folder without asset files is a one-line error."""
    models = tmp_path / "models"
    models.mkdir()
    (models / "tri.obj").write_text("mtllib tri.mtl\nv 0 0 0\nv 0.1 0 0\nv 0 0.1 0\nusemtl skin\nf 1 2 3\n")
    (models / "tri.mtl").write_text("newmtl skin\nKd 1 1 1\nmap_Kd textures/skin.png\n")
    result = run_cli("assets", "import", str(models), "--manifest", str(tmp_path / "m.jsonl"))
    assert result.returncode == 1 and "0 imported, 0 skipped, 1 broken" in result.stdout
    assert "broken: " in result.stderr and "texture" in result.stderr and "skin.png" in result.stderr
    (tmp_path / "empty").mkdir()
    result = run_cli("assets", "import", str(tmp_path / "empty"), "--manifest", str(tmp_path / "m.jsonl"))
    assert result.returncode == 2 and "no asset files (.blend, .glb, .gltf, .obj, .ply) in" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
