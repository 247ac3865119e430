"""Clips from render output and image folders, the disparity rule, the co-training sampler,
and bad data: wrong frame counts and sizes, corrupt frames."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from dkt_fixtures import write_scene
from PIL import Image

from transphy3d.dkt.data import (
    ClipDataset,
    ClipKey,
    CorruptData,
    DatasetSource,
    collate,
    cover_size,
    model_inputs,
    normalize_disparity,
)
from transphy3d.dkt.mixture import MixtureSampler, build_mixture, make_loader
from transphy3d.dkt.settings import ClipSettings, FrameSettings
from transphy3d.dkt.sources import SourceSpec, detect_kind, load_mixture_file, parse_data_arg
from transphy3d.errors import UserError
from transphy3d.output import channels
from transphy3d.output.png import write_rgb_png


def test_disparity_rule_by_hand() -> None:
    depth = np.array([1.0, 2.0, 4.0, 0.0], np.float32)
    valid = depth > 0
    # disparity (1, 0.5, 0.25): lo 0.25, hi 1 -> 2 (d - lo) / 0.75 - 1 = (1, -1/3, -1); no surface -1
    np.testing.assert_allclose(normalize_disparity(depth, valid), [1.0, -1 / 3, -1.0, -1.0], rtol=1e-6)
    flat = normalize_disparity(np.array([2.0, 2.0, 0.0]), np.array([True, True, False]))
    np.testing.assert_array_equal(flat, [0.0, 0.0, -1.0])
    assert np.all(normalize_disparity(np.zeros(3), np.zeros(3, bool)) == -1.0)
    depth = 1.0 / np.arange(1, 102, dtype=np.float64)  # disparities 1..101
    robust = normalize_disparity(depth, np.ones(101, bool), (10.0, 90.0))
    assert robust[10] == pytest.approx(-1.0) and robust[90] == pytest.approx(1.0)
    assert robust[0] == -1.0 and robust[100] == 1.0  # clipped
    assert robust[50] == pytest.approx(0.0)


def test_render_clip_shapes_resize_and_masks(tmp_path: Path) -> None:
    write_scene(tmp_path / "r" / "scene_000000", frames=9, width=48, height=40)
    source = DatasetSource("render", tmp_path / "r")
    assert source.lengths == [9]
    dataset = ClipDataset([source], ClipSettings(resolution=(32, 32), random_crop=False))
    sample = dataset[ClipKey(0, 0, 2, 5, seed=0, stride=1)]
    assert sample["rgb"].shape == (3, 5, 32, 32) and sample["rgb"].dtype == torch.uint8
    assert sample["target"].shape == (1, 5, 32, 32) and sample["target"].dtype == torch.float32
    assert sample["valid"].shape == (5, 32, 32) and sample["valid"].dtype == torch.bool
    rgb, target_video = model_inputs(collate([sample]), "cpu")
    assert rgb.shape == target_video.shape == (1, 3, 5, 32, 32)
    assert float(rgb.min()) >= -1 and float(rgb.max()) <= 1
    assert torch.equal(target_video[0, 0], target_video[0, 2])  # grey repeated to 3 channels
    target = sample["target"][0]
    assert float(target[sample["valid"]].max()) == pytest.approx(1.0)
    assert float(target[sample["valid"]].min()) == pytest.approx(-1.0)
    assert torch.all(target[~sample["valid"]] == -1.0)
    assert not sample["valid"][:, 0].any()  # the sky rows of the fixture stay invalid after resizing
    assert cover_size(40, 48, 32, 32) == (32, 39)
    stride = dataset[ClipKey(0, 0, 0, 3, seed=0, stride=4)]
    assert stride["rgb"].shape[1] == 3
    normals = ClipDataset(
        [DatasetSource("render", tmp_path / "r", task="normal")], ClipSettings(resolution=(32, 32), task="normal")
    )
    n = normals[ClipKey(0, 0, 0, 1, seed=0)]
    assert torch.allclose(n["target"][2][n["valid"]], torch.tensor(-1.0))
    assert torch.all(n["target"][:, ~n["valid"]] == 0)


def test_bad_clip_settings() -> None:
    with pytest.raises(UserError, match="multiples of 16"):
        ClipSettings(resolution=(830, 480))
    with pytest.raises(UserError, match="4N"):
        FrameSettings.fixed(6)
    with pytest.raises(UserError, match="task"):
        ClipSettings(task="albedo")


def test_corrupt_and_inconsistent_frames_are_counted_and_named(tmp_path: Path) -> None:
    root = tmp_path / "r"
    write_scene(root / "scene_000000", frames=9)
    write_scene(root / "scene_000001", frames=9, seed=1)
    channels.frame_path(root / "scene_000000", "depth", 3).write_bytes(b"not an exr at all")
    write_rgb_png(channels.frame_path(root / "scene_000000", "rgb", 5), np.zeros((16, 16, 3), np.uint8))
    source = DatasetSource("render", root)
    with pytest.raises(CorruptData, match=r"depth/000003\.exr"):
        source.load(0, [2, 3])
    with pytest.raises(CorruptData, match=r"rgb/000005\.png: rgb is 16x16, the frame is 32x32"):
        source.load(0, [5])
    dataset = ClipDataset([source], ClipSettings(resolution=(32, 32), random_crop=False))
    sample = dataset[ClipKey(0, 0, 1, 5, seed=4)]  # frames 1..5 hit both bad files
    assert sample["rgb"].shape == (3, 5, 32, 32)
    assert sample["skipped"] and "scene_000000" in sample["skipped"][0]
    key = sample["key"]
    assert key.item == 1 or not {3, 5} & set(key.frames)  # the replacement avoids the bad files
    loader = make_loader(dataset, MixtureSampler([source], [1.0], FrameSettings.fixed(5), 2, seed=0), 0, 10)
    batches = list(loader)
    assert all(b["rgb"].shape == (2, 3, 5, 32, 32) for b in batches)
    skipped = sum(len(b["skipped"]) for b in batches)
    assert skipped > 0


def test_all_clips_corrupt_is_an_error(tmp_path: Path) -> None:
    root = tmp_path / "r"
    write_scene(root / "scene_000000", frames=5)
    for t in range(5):
        channels.frame_path(root / "scene_000000", "rgb", t).write_bytes(b"garbage")
    dataset = ClipDataset([DatasetSource("render", root)], ClipSettings(resolution=(32, 32)))
    with pytest.raises(UserError, match="could not be read"):
        dataset[ClipKey(0, 0, 0, 5, seed=0)]
    (root / "scene_000001").mkdir()
    (root / "scene_000001" / "camera.json").write_text("{broken")
    source = DatasetSource("render", root)
    assert len(source.sequences) == 1 and "scene_000001" in source.skipped[0]
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no scene directories"):
        DatasetSource("render", tmp_path / "empty")
    (root / "index.jsonl").write_text('{"scene": "scene_000000"}\n{"scene": "scene_000009"}\n')
    source = DatasetSource("render", root)  # a scene the index lists but the disk lacks is a counted skip
    assert len(source.sequences) == 1 and any("scene_000009" in s for s in source.skipped)


def _image_folder(root: Path, count: int = 3) -> Path:
    (root / "rgb").mkdir(parents=True)
    (root / "depth").mkdir()
    for i in range(count):
        write_rgb_png(root / "rgb" / f"im{i}.png", np.full((20, 24, 3), 40 * i, np.uint8))
        mm = np.full((20, 24), 1000 + 500 * i, np.uint16)
        mm[0, 0] = 0
        Image.fromarray(mm).save(root / "depth" / f"im{i}.png")
    write_rgb_png(root / "rgb" / "orphan.png", np.zeros((20, 24, 3), np.uint8))
    return root


def test_image_folder_source(tmp_path: Path) -> None:
    root = _image_folder(tmp_path / "imgs")
    source = DatasetSource("images", root, options={"depth_scale": 0.001})
    assert source.lengths == [1, 1, 1] and "orphan" in source.skipped[0]
    clip = source.load(2, [0])
    assert clip.target.shape == (1, 20, 24) and clip.target[0, 5, 5] == pytest.approx(2.0)
    assert not clip.valid[0, 0, 0] and clip.valid[0, 1, 1]
    np.save(root / "depth" / "im1.npy", np.ones((20, 24)))
    with pytest.raises(UserError, match="rgb/"):
        DatasetSource("images", tmp_path)
    Image.fromarray(np.zeros((5, 5), np.uint16)).save(root / "depth" / "im0.png")
    with pytest.raises(CorruptData, match=r"im0\.png: depth is 5x5, the frame is 24x20"):
        DatasetSource("images", root, options={"depth_scale": 0.001}).load(0, [0])


def test_co_training_sampler(tmp_path: Path, render_root: Path) -> None:
    images = _image_folder(tmp_path / "imgs")
    specs = [
        SourceSpec(kind="render", path=str(render_root), weight=1.0),
        SourceSpec(kind="images", path=str(images), weight=3.0, options={"depth_scale": 0.001}),
    ]
    dataset, weights, _ = build_mixture(specs, ClipSettings(resolution=(32, 32)))
    sampler = MixtureSampler(dataset.sources, weights, FrameSettings(n_range=(0, 2)), micro_batch=4, seed=7)
    by_length: dict[int, Counter] = {}
    for index in range(300):
        keys = sampler.keys(index)
        assert len({k.num_frames for k in keys}) == 1
        for key in keys:
            by_length.setdefault(key.num_frames, Counter())[key.source] += 1
            assert key.start + key.num_frames <= dataset.sources[key.source].lengths[key.item]
    assert set(by_length) == {1, 5, 9}
    assert set(by_length[5]) == {0} and set(by_length[9]) == {0}  # F > 1: video only
    ones = by_length[1]
    assert ones[0] > 0 and ones[1] > 0  # F = 1: images and single video frames mixed
    assert ones[1] / (ones[0] + ones[1]) == pytest.approx(0.75, abs=0.08)  # weights 1 : 3
    assert sampler.keys(12) == sampler.keys(12)
    other = MixtureSampler(dataset.sources, weights, FrameSettings(n_range=(0, 2)), micro_batch=4, seed=7, rank=1)
    assert other.keys(12) != sampler.keys(12)
    batch = next(iter(make_loader(dataset, sampler, start=3, count=1)))
    assert batch["keys"] == sampler.keys(3)
    assert batch["rgb"].shape[:2] == (4, 3)
    with pytest.raises(UserError, match="at least 41 frames"):
        MixtureSampler(dataset.sources, weights, FrameSettings.fixed(41), seed=0)
    only_images = MixtureSampler(dataset.sources, [0.0, 1.0], FrameSettings(n_range=(0, 5)), seed=0)
    assert {k.num_frames for i in range(20) for k in only_images.keys(i)} == {1}


def test_data_arguments_and_mixture_file(tmp_path: Path, render_root: Path) -> None:
    images = _image_folder(tmp_path / "imgs")
    assert detect_kind(render_root) == "render" and detect_kind(images) == "images"
    spec = parse_data_arg(f"{render_root}@0.25")
    assert (spec.kind, spec.path, spec.weight) == ("render", str(render_root), 0.25)
    assert parse_data_arg(f"images:{images}").kind == "images"
    with pytest.raises(UserError, match="weight"):
        parse_data_arg(f"{render_root}@heavy")
    with pytest.raises(UserError, match="cannot tell"):
        detect_kind(tmp_path)
    mixture = tmp_path / "mix.yaml"
    mixture.write_text(
        f"sources:\n  - path: {render_root}\n    weight: 2\n  - kind: images\n    path: imgs\n    depth_scale: 0.001\n"
    )
    specs = load_mixture_file(mixture)
    assert [(s.kind, s.weight) for s in specs] == [("render", 2.0), ("images", 1.0)]
    assert specs[1].path == str(images) and specs[1].options == {"depth_scale": 0.001}
    mixture.write_text("sources:\n  - path: x\n    colour: red\n")
    with pytest.raises(UserError, match=r"mix\.yaml: sources\[0\]: unknown keys \['colour'\]"):
        load_mixture_file(mixture)
