"""The COCO export read back with pycocotools and the published tars with webdataset (and the
project's own published-tar reader), checked against the scenes as the reader gives them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import run_in_process

from transphy3d.output.reader import iter_scenes

pytestmark = [pytest.mark.blender, pytest.mark.slow]


def export(capsys, run_dir: Path, out: Path, *args: str) -> str:
    result = run_in_process(capsys, "export", str(run_dir), "--out", str(out), "--no-progress", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.parametrize("categories", ["family", "material", "transparency"])
def test_coco_reads_back_with_pycocotools(run_dir: Path, tmp_path: Path, capsys, categories: str) -> None:
    from pycocotools import mask as coco_mask
    from pycocotools.coco import COCO

    out = tmp_path / "coco"
    export(capsys, run_dir, out, "--format", "coco", "--categories", categories)
    coco = COCO(str(out / "annotations.json"))
    names = {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())}
    scenes = list(iter_scenes(run_dir))
    assert len(coco.getImgIds()) == sum(s.num_frames for s in scenes)
    assert [v["name"] for v in coco.dataset["videos"]] == [s.path.name for s in scenes]
    for image in coco.loadImgs(coco.getImgIds()):
        scene = scenes[image["video_id"]]
        f = image["frame_id"]
        assert (out / image["file_name"]).read_bytes() == (scene.path / "rgb" / f"{f:06d}.png").read_bytes()
        mask = scene.read("mask", f)
        anns = coco.loadAnns(coco.getAnnIds(imgIds=image["id"]))
        assert sorted(a["instance_id"] for a in anns) == sorted(i for i in np.unique(mask) if i)
        for ann in anns:
            visible = mask == ann["instance_id"]
            assert np.array_equal(coco.annToMask(ann).astype(bool), visible)
            assert np.array_equal(coco_mask.decode(ann["segmentation"]).astype(bool), visible)
            assert ann["area"] == visible.sum() and ann["iscrowd"] == 0
            np.testing.assert_array_equal(ann["bbox"], coco_mask.toBbox(ann["segmentation"]))
            obj = scene.object_by_id(ann["instance_id"])
            expected = {
                "family": obj.source.get("family") or obj.source.get("asset_id"),
                "material": obj.material_class,
                "transparency": "transparent" if obj.material.get("transparent") else "opaque",
            }[categories]
            assert names[ann["category_id"]] == expected


@pytest.mark.parametrize("shard_frames", [None, 2])
def test_published_tars_read_back_with_webdataset(run_dir: Path, tmp_path: Path, capsys, shard_frames) -> None:
    import webdataset as wds

    from transphy3d.datasets import open_dataset
    from transphy3d.datasets.published import decode_depth, decode_normal, intrinsics_to_pixels

    out = tmp_path / "tars"
    export(
        capsys, run_dir, out, "--format", "transphy3d", *(["--shard-frames", str(shard_frames)] if shard_frames else [])
    )
    scenes = list(iter_scenes(run_dir))
    tars = sorted(out.glob("*.tar"))
    per_scene = 1 if shard_frames is None else -(-scenes[0].num_frames // shard_frames)
    assert [t.name for t in tars] == [
        f"{i:06d}_materials.{k:06d}.tar" for i in range(len(scenes)) for k in range(per_scene)
    ]
    samples = list(wds.WebDataset([str(t) for t in tars], shardshuffle=False, empty_check=False))
    assert [s["__key__"] for s in samples] == [
        f"{i:06d}_{f:08d}" for i, s in enumerate(scenes) for f in range(s.num_frames)
    ]
    for sample in samples:
        i, f = (int(part) for part in sample["__key__"].split("_"))
        frame = scenes[i].frame(f)
        max_depth = json.loads(sample["depth.json"])["max_depth"]
        depth = decode_depth(sample["depth.png"], max_depth)
        assert np.abs(depth - frame.depth).max() <= max_depth / 65535 / 2 + 1e-6  # the 16-bit quantum
        hit = frame.depth > 0
        normal = decode_normal(sample["normal.png"])
        assert np.abs(normal[hit] - frame.normal[hit]).max() < 2.5 / 255 * 2  # 8 bits per component, renormalised
        meta = json.loads(sample["metadata.json"])
        K = intrinsics_to_pixels(np.asarray(meta["camera_matrices"]["intrinsics"]), scenes[i].width, scenes[i].height)
        np.testing.assert_allclose(K, frame.K, atol=1e-9)
        np.testing.assert_allclose(meta["camera_matrices"]["extrinsics"], frame.world_to_camera)
        assert (meta["frame_id"], meta["sequence_id"]) == (f, f"{i:06d}")
    release = open_dataset(f"published:{out}")  # the trainer's reader of the release
    sequences = list(release.sequences())
    assert [len(list(s.frames())) for s in sequences] == [s.num_frames for s in scenes]
    for sequence, scene in zip(sequences, scenes, strict=True):
        for f, read in enumerate(sequence.frames()):
            frame = scene.frame(f)
            quantum = float(frame.depth.max()) / 65535 / 2 + 1e-6  # max_depth is the frame's largest depth
            assert np.abs(read.depth - frame.depth).max() <= quantum
            np.testing.assert_allclose(read.K, frame.K, atol=1e-9)
            assert np.array_equal(read.rgb, frame.rgb)
