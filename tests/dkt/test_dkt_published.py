"""The published TransPhy3D tar format: decoding a fixture tar, exporting our renders to it."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from transphy3d.dkt.data import ClipDataset, ClipKey, CorruptData, DatasetSource
from transphy3d.dkt.published import export_render_output
from transphy3d.dkt.settings import ClipSettings
from transphy3d.output.reader import open_scene


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def write_fixture_tar(
    path: Path, depths: dict[int, np.ndarray], max_depths: dict[int, float], sequence: str = "000007"
) -> None:
    """A tar written the way the release is laid out (independently of our exporter)."""
    h, w = next(iter(depths.values())).shape
    with tarfile.open(path, "w") as archive:
        for frame in sorted(depths, reverse=True):  # out of order on purpose
            key = f"{sequence}_{frame:08d}"
            m = max_depths[frame]
            values = np.zeros((h, w), np.uint16) if m == 0 else np.round(depths[frame] / m * 65535).astype(np.uint16)
            rgb = np.full((h, w, 3), 10 * frame, np.uint8)
            normal = np.zeros((h, w, 3), np.uint8)
            normal[..., 2] = 0  # z = -1: facing the camera
            normal[..., :2] = 128
            meta = {
                "camera_matrices": {
                    "extrinsics": np.eye(4).tolist(),
                    "intrinsics": [[1.3737, 0, 0.5], [0, 1.3737, 0.5], [0, 0, 1]],
                },
                "frame_id": frame,
                "sequence_id": sequence,
            }
            _add(archive, f"{key}.image.png", _png(rgb))
            _add(archive, f"{key}.depth.png", _png(values))
            _add(archive, f"{key}.depth.json", json.dumps({"max_depth": m}).encode())
            _add(archive, f"{key}.normal.png", _png(normal))
            _add(archive, f"{key}.metadata.json", json.dumps(meta).encode())


def test_reader_decodes_metric_depth(tmp_path: Path) -> None:
    rng = np.random.Generator(np.random.PCG64(0))
    depths, max_depths = {}, {}
    for frame in range(3):
        d = rng.uniform(0.3, 2.37890625, size=(8, 12)).astype(np.float32)
        d[0, 0] = 0.0  # no surface
        d[1, 1] = 2.37890625
        depths[frame], max_depths[frame] = d, 2.37890625
    depths[3], max_depths[3] = np.zeros((8, 12), np.float32), 0.0  # a frame with nothing in view
    write_fixture_tar(tmp_path / "000007_materials.000000.tar", depths, max_depths)
    source = DatasetSource("published", tmp_path)
    assert source.lengths == [4] and source.sequences[0].name == "000007"
    clip = source.load(0, [0, 1, 2, 3])
    assert clip.rgb.shape == (4, 8, 12, 3) and clip.rgb[2, 0, 0, 0] == 20  # frames sorted by id
    step = 2.37890625 / 65535
    for frame in range(3):
        np.testing.assert_allclose(clip.target[frame], depths[frame], atol=step / 2 + 1e-7)
    assert clip.target[0, 1, 1] == pytest.approx(2.37890625)
    assert not clip.valid[0, 0, 0] and clip.valid[0, 1, 1]
    assert not clip.valid[3].any()
    frame = source.dataset.published[0].read(1)
    np.testing.assert_allclose(frame.K, [[1.3737 * 12, 0, 5.5], [0, 1.3737 * 8, 3.5], [0, 0, 1]])
    np.testing.assert_allclose(frame.normal[0, 0], [0.0039, 0.0039, -1.0], atol=1e-3)
    normals = DatasetSource("published", tmp_path, task="normal").load(0, [1])
    assert normals.target.shape == (1, 8, 12, 3)


def test_export_roundtrip(render_root: Path, tmp_path: Path) -> None:
    written = export_render_output(render_root, tmp_path / "pub")
    assert [p.name for p in written] == ["000000_materials.000000.tar", "000001_materials.000000.tar"]
    source = DatasetSource("published", tmp_path / "pub")
    scene = open_scene(render_root / "scene_000001")
    clip = source.load(1, range(scene.num_frames))
    for t in range(scene.num_frames):
        f = scene.frame(t)
        np.testing.assert_array_equal(clip.rgb[t], f.rgb)
        np.testing.assert_allclose(clip.target[t], f.depth, atol=f.depth.max() / 65535)
        np.testing.assert_array_equal(clip.valid[t], f.depth > 0)
    frame = source.dataset.published[1].read(4)
    np.testing.assert_allclose(frame.K, scene.K, atol=1e-9)
    np.testing.assert_allclose(frame.camera_from_world, scene.world_to_camera[4])
    np.testing.assert_allclose(frame.normal[5, 5], scene.normal(4)[5, 5], atol=2 / 255)


def test_corrupt_member_is_skipped_with_its_name(render_root: Path, tmp_path: Path) -> None:
    export_render_output(render_root, tmp_path / "pub")
    bad = tmp_path / "pub" / "000000_materials.000000.tar"
    with tarfile.open(bad) as archive:
        members = [(m, archive.extractfile(m).read()) for m in archive.getmembers()]
    with tarfile.open(bad, "w") as archive:
        for info, data in members:
            if info.name.endswith("00000002.depth.png"):
                data = b"\x89PNG broken"
                info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    source = DatasetSource("published", tmp_path / "pub")
    with pytest.raises(CorruptData, match="000000_00000002"):
        source.load(0, [1, 2, 3])
    dataset = ClipDataset([source], ClipSettings(resolution=(32, 32), random_crop=False))
    sample = dataset[ClipKey(0, 0, 0, 5, seed=1)]
    assert sample["rgb"].shape == (3, 5, 32, 32)
    assert len(sample["skipped"]) >= 1 and "000000_00000002" in sample["skipped"][0]


def test_index_is_compact_cached_once_and_mapped(render_root: Path, tmp_path: Path) -> None:
    import pickle

    from transphy3d.datasets.published_index import PublishedIndex, cached_index, scan_tars

    tars = export_render_output(render_root, tmp_path / "pub")
    direct, _ = scan_tars(tars)
    assert direct.lengths() == [9, 9] and direct.sequence_ids == ["000000", "000001"]
    assert direct.nbytes == 3 * 8 + 18 * (4 + 5 * (4 + 8 + 4))  # 84 bytes a frame, no Python object per frame
    cache = tmp_path / "cache"
    index, skipped = cached_index(tars, cache)
    built = sorted(cache.iterdir())
    assert len(built) == 1 and skipped == []
    assert isinstance(index.member_offset, np.memmap) and not index.member_offset.flags.writeable
    again, _ = cached_index(tars, cache)  # a second rank or run maps the same files
    assert sorted(cache.iterdir()) == built and again.cache == index.cache
    for name in ("starts", "frame_ids", "member_tar", "member_offset", "member_size"):
        np.testing.assert_array_equal(getattr(again, name), getattr(direct, name))
    assert len(pickle.dumps(index)) < 500  # a spawned worker receives the cache path, not the arrays
    clone = pickle.loads(pickle.dumps(DatasetSource("published", tmp_path / "pub", cache_dir=cache)))
    np.testing.assert_array_equal(
        clone.load(1, [3, 4]).rgb, DatasetSource("published", tmp_path / "pub").load(1, [3, 4]).rgb
    )
    # records out of order and repeated: sorted by sequence and frame, the last record of a member wins
    index = PublishedIndex.from_arrays(
        ["a.tar"], ["000009", "000002"], np.array([0, 1, 1, 0]), np.array([5, 7, 7, 1]),
        np.array([0, 0, 0, 1]), np.array([0, 0, 0, 0]), np.array([10, 20, 30, 40]), np.array([1, 2, 3, 4]),
    )  # fmt: skip
    assert index.sequence_ids == ["000002", "000009"] and index.starts.tolist() == [0, 1, 3]
    assert index.frame_ids.tolist() == [7, 1, 5] and index.member_offset[0, 0] == 30
    assert index.member_tar[1].tolist() == [-1, 0, -1, -1, -1]  # frame 1 of 000009 has only depth.png
