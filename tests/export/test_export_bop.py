"""The BOP export read back with bop_toolkit's own loaders (``bop_inout``: its inout.py) and
pycocotools, checked against the scenes as the reader gives them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import trimesh
from bop_inout import load_depth, load_json, load_ply, load_scene_camera, load_scene_gt
from helpers import run_in_process
from scipy.ndimage import binary_dilation, binary_erosion

from transphy3d.output.reader import iter_scenes

pytestmark = [pytest.mark.blender, pytest.mark.slow]


@pytest.fixture(scope="module")
def bop(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transphy3d.cli import main

    out = tmp_path_factory.mktemp("bop") / "bop"
    assert main(["export", str(run_dir), "--format", "bop", "--out", str(out), "--no-progress"]) == 0
    return out


def model_depth(model: dict, R: np.ndarray, t: np.ndarray, K: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """Planar depth (mm) of the BOP model posed by (R, t) at pixel centres (N, 2 as (u, v)); 0 = miss."""
    mesh = trimesh.Trimesh(model["pts"] @ R.T + t.ravel(), model["faces"].astype(np.int64), process=False)
    rays = np.c_[pixels, np.ones(len(pixels))] @ np.linalg.inv(K).T
    directions = rays / np.linalg.norm(rays, axis=1, keepdims=True)
    _tri, ray, loc = mesh.ray.intersects_id(
        np.zeros_like(directions), directions, multiple_hits=False, return_locations=True
    )
    depth = np.zeros(len(pixels))
    depth[ray] = loc[:, 2]
    return depth


def test_models_and_their_info(bop: Path) -> None:
    info = load_json(bop / "models" / "models_info.json", keys_to_int=True)
    sources = load_json(bop / "obj_sources.json", keys_to_int=True)
    assert sorted(info) == sorted(sources) == list(range(1, len(info) + 1))
    for obj_id, entry in info.items():
        pts = load_ply(bop / "models" / f"obj_{obj_id:06d}.ply")["pts"]
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        np.testing.assert_allclose([entry["min_x"], entry["min_y"], entry["min_z"]], lo, atol=1e-3)
        np.testing.assert_allclose([entry["size_x"], entry["size_y"], entry["size_z"]], hi - lo, atol=1e-3)
        np.testing.assert_allclose((lo + hi) / 2, 0.0, atol=1e-3)  # centred on its box
        far = np.max(np.linalg.norm(pts[:, None] - pts[None, :: max(len(pts) // 300, 1)], axis=-1))
        assert far - 1e-3 <= entry["diameter"] <= np.linalg.norm(hi - lo) + 1e-3
        assert 20 < entry["diameter"] < 400  # millimetres: tableware
        assert sources[obj_id]["kind"] in ("procedural", "static") and sources[obj_id]["material_class"]


def test_scenes_read_back_with_bop_toolkit(bop: Path, run_dir: Path) -> None:
    for index, scene in enumerate(iter_scenes(run_dir)):
        folder = bop / "train_pbr" / f"{index:06d}"
        cameras = load_scene_camera(folder / "scene_camera.json")
        gts = load_scene_gt(folder / "scene_gt.json")
        infos = load_json(folder / "scene_gt_info.json", keys_to_int=True)
        assert sorted(cameras) == sorted(gts) == sorted(infos) == list(range(scene.num_frames))
        models = {g["obj_id"]: load_ply(bop / "models" / f"obj_{g['obj_id']:06d}.ply") for g in gts[0]}
        for f in range(scene.num_frames):
            cam, frame = cameras[f], scene.frame(f)
            np.testing.assert_allclose(cam["cam_K"], scene.K)
            np.testing.assert_allclose(cam["cam_R_w2c"], frame.world_to_camera[:3, :3], atol=1e-12)
            np.testing.assert_allclose(cam["cam_t_w2c"].ravel(), frame.world_to_camera[:3, 3] * 1000, atol=1e-9)
            depth_mm = load_depth(folder / "depth" / f"{f:06d}.png") * cam["depth_scale"]
            assert np.abs(depth_mm - frame.depth * 1000).max() <= cam["depth_scale"] / 2 + 1e-6  # the uint16 quantum
            assert np.array_equal(depth_mm > 0, frame.depth > 0)
            assert (folder / "rgb" / f"{f:06d}.png").read_bytes() == (scene.path / "rgb" / f"{f:06d}.png").read_bytes()
            assert len(gts[f]) == len(infos[f]) == len(scene.objects)
            for gt_id, (gt, info, obj) in enumerate(zip(gts[f], infos[f], scene.objects, strict=True)):
                check_instance(folder, f, gt_id, gt, info, obj, frame, cam["cam_K"], models[gt["obj_id"]])


def check_instance(folder, f, gt_id, gt, info, obj, frame, K, model) -> None:
    """One annotation: masks, counts and the pose against our mask and depth."""
    amodal = load_depth(folder / "mask" / f"{f:06d}_{gt_id:06d}.png") > 0
    visible = load_depth(folder / "mask_visib" / f"{f:06d}_{gt_id:06d}.png") > 0
    ours = frame.mask == obj.instance_id  # a container's liquid carries the container's id
    assert np.array_equal(visible, ours) if obj.liquid is None else not np.any(visible & ~ours)
    assert not np.any(visible & ~amodal)
    assert info["px_count_all"] == amodal.sum() and info["px_count_visib"] == visible.sum()
    assert info["px_count_valid"] == (amodal & (frame.depth > 0)).sum()
    assert 0.0 <= info["visib_fract"] <= 1.0
    assert info["visib_fract"] == pytest.approx(visible.sum() / max(amodal.sum(), 1))
    R, t = gt["cam_R_m2c"], gt["cam_t_m2c"]
    # The model's vertices, posed and projected, fall on the amodal mask (within 1 px: vertices on its rim).
    cam = model["pts"] @ R.T + t.ravel()
    uv = cam @ K.T
    uv = np.round(uv[:, :2] / uv[:, 2:]).astype(int)
    h, w = amodal.shape
    inside = (uv[:, 0] >= 0) & (uv[:, 0] < w) & (uv[:, 1] >= 0) & (uv[:, 1] < h)
    if amodal.any():
        near = binary_dilation(amodal, iterations=1)
        assert np.mean(near[uv[inside, 1], uv[inside, 0]]) > 0.98  # parts thinner than a pixel fall between centres
    # The model ray cast in the exported pose: the silhouette is the amodal mask, the depth is ours.
    v, u = np.nonzero(np.ones_like(amodal))
    cast = model_depth(model, R, t, K, np.c_[u, v].astype(float)).reshape(amodal.shape)
    assert np.mean((cast > 0) == amodal) > 0.995
    core = binary_erosion(visible, iterations=1)
    if core.any():
        error = np.abs(cast[core] - frame.depth[core] * 1000)
        assert np.mean(error < 1.0) > 0.99, np.quantile(error, [0.5, 0.99])
    # What the visible mask leaves out of ours is the liquid: a surface in front of the container's own.
    left_out = binary_erosion(ours & ~visible, iterations=1)
    assert np.all(frame.depth[left_out] * 1000 < cast[left_out] - 1.0)


def test_an_occluded_object_has_more_amodal_than_visible_pixels(bop: Path) -> None:
    fracts = [i["visib_fract"] for p in (bop / "train_pbr").glob("*/scene_gt_info.json")
              for frame in load_json(p).values() for i in frame]  # fmt: skip
    assert min(fracts) < 0.9 and max(fracts) > 0.9  # the run has occlusion: the amodal masks are not the visible ones


def test_scene_gt_coco_reads_with_pycocotools(bop: Path) -> None:
    from pycocotools.coco import COCO

    folder = bop / "train_pbr" / "000001"
    coco = COCO(str(folder / "scene_gt_coco.json"))
    gts = load_scene_gt(folder / "scene_gt.json")
    assert coco.getImgIds() == sorted(gts)
    for ann in coco.loadAnns(coco.getAnnIds()):
        frame = ann["image_id"]
        gt_id = next(i for i, g in enumerate(gts[frame]) if g["obj_id"] == ann["category_id"])
        visible = load_depth(folder / "mask_visib" / f"{frame:06d}_{gt_id:06d}.png") > 0
        assert np.array_equal(coco.annToMask(ann).astype(bool), visible)
    assert len(coco.getAnnIds()) == sum((load_depth(p) > 0).any() for p in (folder / "mask_visib").glob("*.png"))


def test_each_distinct_mesh_has_one_id(run_dir: Path, tmp_path: Path, capsys) -> None:
    """A scene whose meshes repeat another's (a static asset drawn again at its size) keeps its ids."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    shutil.copytree(run / "scene_000000", run / "scene_000007")
    out = tmp_path / "bop"
    result = run_in_process(capsys, "export", str(run), "--format", "bop", "--out", str(out), "--no-progress")
    assert result.returncode == 0, result.stderr
    ids = {
        s: [g["obj_id"] for g in load_scene_gt(out / "train_pbr" / s / "scene_gt.json")[0]]
        for s in ("000000", "000001", "000007")
    }
    assert ids["000007"] == ids["000000"]
    assert not set(ids["000000"]) & set(ids["000001"])  # procedural instances and other assets: ids of their own
    sources = json.loads((out / "obj_sources.json").read_text())
    assert len(sources) == len(ids["000000"]) + len(ids["000001"])
