"""Each published layout, written in its real encodings, decodes to the values, masks, intrinsics
and order its format facts say; bad data is a one-line error naming the file."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from layouts import H, W, camera_pose, write_cleargrasp, write_clearpose, write_dreds, write_hiss

from transphy3d.datasets import CorruptData, detect_kind, open_dataset
from transphy3d.errors import UserError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dkt"))
from dkt_fixtures import write_scene


def test_dreds_values_masks_intrinsics_and_order(tmp_path: Path) -> None:
    expected = write_dreds(tmp_path)
    root = tmp_path / "DREDS-CatKnown"
    assert detect_kind(root) == "dreds"
    ds = open_dataset(f"dreds:{root}")
    (seq,) = ds.sequences()
    assert seq.name == "test/00001" and not seq.is_video
    frames = list(seq.frames())
    assert [f.id for f in frames] == ["0000", "0002"]  # ids as the files spell them, gaps kept
    for frame in frames:
        want = expected[frame.id]
        assert frame.rgb.shape == (H, W, 3) and frame.rgb.dtype == np.uint8  # 1280x720 -> the depth grid
        np.testing.assert_array_equal(frame.rgb, np.rint(want["rgb"]))  # the 2x2 block means, rounded
        np.testing.assert_array_equal(frame.depth, want["depth"])
        np.testing.assert_allclose(frame.raw_depth, want["raw"], rtol=0, atol=0)
        assert frame.raw_depth[1, 0] == 0 and frame.raw_depth[1, 1] == 0  # -0.001 and 3.7 m are invalid
        np.testing.assert_array_equal(frame.transparent, want["transparent"])
        assert frame.transparent.sum() == 12  # material 2 only: not the diffuse 3 nor the specular 7
        np.testing.assert_allclose(frame.normal[3, 3], want["normal"], atol=1e-6)
        # 446.31 px at 640x360, scaled to 16x8; principal point at W / 2 - 0.5
        np.testing.assert_allclose(
            frame.K, [[446.31 * W / 640, 0, 7.5], [0, 446.31 * H / 360, 3.5], [0, 0, 1]], rtol=1e-12
        )


def test_hiss_skip_list_half_float_and_fov(tmp_path: Path) -> None:
    expected = write_hiss(tmp_path)
    ds = open_dataset(tmp_path / "HISS")
    assert ds.kind == "hiss"
    (seq,) = ds.sequences()
    assert seq.ids == ["0000", "0002"]  # 0001 is in bad_his.txt
    assert any("0001_depth.exr" in s and "bad_his.txt" in s for s in ds.skipped)
    frame = seq.frame(1)
    assert frame.depth.dtype == np.float32
    np.testing.assert_array_equal(frame.depth, expected["0002"])
    assert frame.depth[3, 3] == 0  # NaN -> 0
    assert frame.transparent is None and not frame.raw_depth.any()
    fx = (W / 2) / math.tan(math.radians(71.28) / 2)
    np.testing.assert_allclose(frame.K, [[fx, 0, 7.5], [0, fx, 3.5], [0, 0, 1]])


def test_cleargrasp_synthetic_and_real(tmp_path: Path) -> None:
    expected = write_cleargrasp(tmp_path)
    ds = open_dataset(f"cleargrasp:{tmp_path / 'cleargrasp'}")
    syn, real = ds.sequences()
    assert syn.name.endswith("cup-with-waves-val") and real.name.endswith("real-test/d435")
    frame = syn.frame(0)
    assert frame.id == "000000003"
    np.testing.assert_array_equal(frame.depth, expected["syn_depth"])  # half float, NaN and 0 -> 0
    assert frame.depth[0, 0] == 0 and frame.depth[0, 1] == 0 and frame.depth[0, 2] > 0
    np.testing.assert_array_equal(frame.transparent, expected["syn_mask"])
    np.testing.assert_allclose(frame.normal[0, 0], [0.0, -0.6, -0.8], atol=1e-6)  # +Y up, +Z to camera -> OpenCV
    fx, fy = expected["syn_K"]
    np.testing.assert_allclose(frame.K, [[fx, 0, 7.5], [0, fy, 3.5], [0, 0, 1]])
    assert abs(int(frame.rgb[4, 4, 0]) - 200) <= 2
    frame = real.frame(0)
    np.testing.assert_array_equal(frame.depth, expected["real_depth"])
    assert frame.depth[4, 4] == 0  # NaN is invalid in the opaque ground truth
    np.testing.assert_array_equal(frame.raw_depth, expected["real_raw"])
    assert not frame.raw_depth[2:4, 2:4].any()
    np.testing.assert_allclose(frame.K, expected["real_K"])
    assert frame.normal is None


def test_clearpose_video_subsets_distractors_and_metadata(tmp_path: Path) -> None:
    expected = write_clearpose(tmp_path)
    root = tmp_path / "clearpose"
    ds = open_dataset(root)
    assert [s.name for s in ds.sequences()] == ["set1/scene1", "set1/scene5", "set2/scene1"]
    assert all(s.is_video for s in ds.sequences())
    heavy = open_dataset(f"clearpose:{root}", subset="heavy_occlusion").sequences()
    assert [s.name for s in heavy] == ["set2/scene1"]
    new_bg = open_dataset(f"clearpose:{root}", subset="new_background").sequences()
    assert [s.name for s in new_bg] == ["set1/scene5"]
    assert [s.name for s in open_dataset(f"clearpose:{root / 'set1'}", subset="train").sequences()] == ["scene1"]
    frames = list(heavy[0].frames())
    assert [f.id for f in frames] == ["000000", "000005", "000010"]
    for t, frame in enumerate(frames):
        want = expected[("set2/scene1", frame.id)]
        world_from_camera = np.vstack([camera_pose(t), [0, 0, 0, 1]])
        np.testing.assert_allclose(frame.camera_from_world @ world_from_camera, np.eye(4), atol=1e-12)
        np.testing.assert_array_equal(frame.depth, want["depth"])
        np.testing.assert_array_equal(frame.raw_depth, want["raw"])
        np.testing.assert_array_equal(frame.transparent, want["transparent"])
        assert frame.transparent.sum() == 12  # ids 5 and 63; distractors 200 and 203 are not
        np.testing.assert_array_equal(frame.K, want["K"])
    assert frames[0].depth[0, 0] == 0 and frames[0].depth[1, 1] == pytest.approx(
        expected[("set2/scene1", "000000")]["depth"][1, 1]
    )
    with pytest.raises(UserError, match=r"--subset.*allowed: heavy_occlusion"):
        open_dataset(f"clearpose:{root}", subset="heavy")


def test_render_and_images_through_the_same_interface(tmp_path: Path) -> None:
    write_scene(tmp_path / "run" / "scene_000003", frames=3)
    (seq,) = open_dataset(tmp_path / "run").sequences()
    assert seq.name == "scene_000003" and seq.ids == ["000000", "000001", "000002"]
    frame = seq.frame(2)
    assert frame.rgb.shape == (32, 32, 3) and frame.K[0, 0] == 32
    assert frame.transparent.any() and not frame.transparent[:2].any()  # the glass disc, not the sky
    np.testing.assert_array_equal(frame.transparent, np.abs(frame.depth - 0.802) < 1e-6)  # disc depth 0.8 + 0.001 t
    images = tmp_path / "imgs"
    (images / "rgb").mkdir(parents=True)
    (images / "depth").mkdir()
    from PIL import Image

    Image.fromarray(np.zeros((4, 6, 3), np.uint8)).save(images / "rgb" / "a.png")
    Image.fromarray(np.full((4, 6), 1500, np.uint16)).save(images / "depth" / "a.png")
    ds = open_dataset(images, depth_scale=0.001)
    (seq,) = ds.sequences()
    frame = seq.frame(0)
    assert frame.id == "a" and frame.K is None and frame.depth[0, 0] == pytest.approx(1.5)


def test_bad_data_is_one_line_naming_the_file(tmp_path: Path) -> None:
    write_dreds(tmp_path)
    scene = tmp_path / "DREDS-CatKnown" / "test" / "00001"
    (scene / "0000_depth_120.exr").write_bytes(b"not an exr")
    (scene / "0002_meta.txt").write_text("1 2 3\n")
    (seq,) = open_dataset(tmp_path / "DREDS-CatKnown").sequences()
    with pytest.raises(CorruptData, match=r"0000_depth_120\.exr: not a readable OpenEXR file") as error:
        _ = seq.frame(0).depth
    assert len(str(error.value).splitlines()) == 1
    with pytest.raises(CorruptData, match=r"0002_meta\.txt: line 1 has 3 columns"):
        _ = seq.frame(1).transparent
    (scene / "0002_simDepthImage.exr").unlink()
    assert seq.frame(1).raw_depth is None  # an optional modality may be absent
    (scene / "0002_color.png").unlink()
    with pytest.raises(CorruptData, match=r"0002_color\.png: missing file"):
        _ = seq.frame(1).rgb
    write_clearpose(tmp_path / "cp", scenes=("set3/scene2",))
    scene = tmp_path / "cp" / "clearpose" / "set3" / "scene2"
    from PIL import Image

    Image.fromarray(np.zeros((H + 1, W), np.uint16)).save(scene / "000005-depth_true.png")
    (seq,) = open_dataset(scene.parent.parent).sequences()
    with pytest.raises(CorruptData, match=r"000005-depth_true\.png: depth is 16x9, the frame is 16x8"):
        frame = seq.frame(1)
        _ = frame.rgb, frame.depth
    (scene / "metadata.mat").write_bytes(b"MATLAB garbage")
    with pytest.raises(CorruptData, match=r"metadata\.mat"):
        _ = seq.frame(0).K
    (tmp_path / "cp" / "clearpose" / "set3" / "scene9").mkdir()
    (tmp_path / "cp" / "clearpose" / "set3" / "scene9" / "metadata.mat").write_bytes(b"")
    dataset = open_dataset(tmp_path / "cp" / "clearpose")
    assert [s.name for s in dataset.sequences()] == ["set3/scene2"]
    assert dataset.skipped == [f"{tmp_path / 'cp' / 'clearpose' / 'set3' / 'scene9'}: no frames; skipped"]
    empty = tmp_path / "empty-hiss" / "scene"
    empty.mkdir(parents=True)
    (empty.parent / "bad_his.txt").write_text("")
    with pytest.raises(UserError, match="no hiss frames found"):
        open_dataset(f"hiss:{empty.parent}")
    with pytest.raises(UserError, match="cannot tell the dataset kind"):
        open_dataset(tmp_path / "empty-hiss" / "scene")
    with pytest.raises(UserError, match=r"options \['subset'\] do not apply to dreds"):
        open_dataset(f"dreds:{tmp_path / 'DREDS-CatKnown'}", subset="x")


def test_scan_cache_is_reused_until_a_folder_changes(tmp_path: Path) -> None:
    write_clearpose(tmp_path, scenes=("set1/scene1",))
    root = tmp_path / "clearpose"
    cache = tmp_path / "cache"
    first = open_dataset(root, cache_dir=cache)
    (entry,) = cache.iterdir()
    assert [s.ids for s in first.sequences()] == [["000000", "000005", "000010"]]
    stamp = entry.stat().st_mtime_ns
    again = open_dataset(root, cache_dir=cache)  # warm: the cache file is read, not rewritten
    assert entry.stat().st_mtime_ns == stamp and [s.ids for s in again.sequences()] == [
        s.ids for s in first.sequences()
    ]
    scene = root / "set1" / "scene1"
    for suffix in ("color", "depth_true"):
        (scene / f"000007-{suffix}.png").write_bytes((scene / f"000005-{suffix}.png").read_bytes())
    changed = open_dataset(root, cache_dir=cache)
    assert changed.sequences()[0].ids == ["000000", "000005", "000007", "000010"]


def test_an_edited_skip_list_invalidates_the_cached_scan(tmp_path: Path) -> None:
    write_hiss(tmp_path)
    cache = tmp_path / "cache"
    assert open_dataset(tmp_path / "HISS", cache_dir=cache).sequences()[0].ids == ["0000", "0002"]
    bad = tmp_path / "HISS" / "train" / "bad_his.txt"
    bad.write_text("datasets/HISS/train/scene_a/0002_depth.exr 0.9\n")
    stamp = bad.stat().st_mtime_ns + 10**9  # a later time: some file systems keep coarse mtimes
    os.utime(bad, ns=(stamp, stamp))
    assert open_dataset(tmp_path / "HISS", cache_dir=cache).sequences()[0].ids == ["0000", "0001"]
