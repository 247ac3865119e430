"""The data contract's files: EXR/PNG round trips, the reader API and geometric flow."""

from __future__ import annotations

import errno
from types import SimpleNamespace

import numpy as np
import pytest
from helpers import small_disk

from transphy3d.errors import UnreadableFileError
from transphy3d.files import write_json
from transphy3d.geometry import camera as cam
from transphy3d.output import channels, contract, derive, frame_files
from transphy3d.output.exr import LOSSLESS_COMPRESSIONS, NEW_LOSSLESS_COMPRESSIONS, read_exr, write_exr
from transphy3d.output.reader import iter_scenes, open_scene
from transphy3d.output.validate import validate_scene


@pytest.mark.parametrize("compression", sorted(LOSSLESS_COMPRESSIONS | NEW_LOSSLESS_COMPRESSIONS))
def test_depth_exr_is_lossless(tmp_path, compression: str) -> None:
    depth = np.random.default_rng(0).uniform(0.1, 5.0, size=(37, 53)).astype(np.float32)
    depth[:3] = 0
    frame_files.write_depth(tmp_path / "d.exr", depth, compression)
    assert np.array_equal(frame_files.read_depth(tmp_path / "d.exr"), depth)


def test_exr_rejects_bad_input(tmp_path) -> None:
    with pytest.raises(ValueError, match="2-D"):
        write_exr(tmp_path / "x.exr", {"Z": np.zeros((2, 2, 2), np.float32)})
    with pytest.raises(ValueError, match="dtype"):
        write_exr(tmp_path / "x.exr", {"Z": np.zeros((2, 2), np.float64)})
    with pytest.raises(ValueError, match="compression"):
        write_exr(tmp_path / "x.exr", {"Z": np.zeros((2, 2), np.float32)}, "jpeg")


def test_mask_png_keeps_16_bits(tmp_path) -> None:
    mask = np.array([[0, 1, 300], [65535, 42, 7]], dtype=np.uint16)
    frame_files.write_mask(tmp_path / "m.png", mask)
    back = frame_files.read_mask(tmp_path / "m.png")
    assert back.dtype == np.uint16 and np.array_equal(back, mask)
    with pytest.raises(ValueError, match=r"0\.\.65535"):
        frame_files.write_mask(tmp_path / "m.png", np.array([[70000]]))


def test_normals_stored_as_half(tmp_path) -> None:
    rng = np.random.default_rng(2)
    n = rng.normal(size=(8, 9, 3)).astype(np.float32)
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    frame_files.write_normal(tmp_path / "n.exr", n)
    assert {k: v.dtype for k, v in read_exr(tmp_path / "n.exr").items()} == {c: np.float16 for c in "XYZ"}
    np.testing.assert_allclose(frame_files.read_normal(tmp_path / "n.exr"), n, atol=1e-3)


def test_data_pass_conversion() -> None:
    """Background -> 0, world normals -> camera frame facing the camera, ids -> uint16."""
    K = cam.intrinsics(4, 3, 36.0, 36.0)
    w2c = cam.invert_rigid(cam.look_at(np.array([0.0, -2.0, 0.0]), np.zeros(3)))
    z = np.full((3, 4), 2.0, np.float32)
    z[0, 0] = 1e10
    normal_world = np.zeros((3, 4, 3), np.float32)
    normal_world[..., 1] = 1.0  # +y: facing away from a camera at -y looking +y
    passes = {
        "Depth.Z": z,
        "Normal.X": normal_world[..., 0],
        "Normal.Y": normal_world[..., 1],
        "Normal.Z": normal_world[..., 2],
        "IndexOB.X": np.full((3, 4), 7.0, np.float32),
    }
    geometry = SimpleNamespace(K=K, world_to_camera=w2c[None])
    depth = derive.depth(geometry, 0, passes)
    normal, mask = derive.normal(geometry, 0, passes, depth), derive.instance_mask(geometry, 0, passes, depth)
    assert depth[0, 0] == 0 and mask[0, 0] == 0 and not normal[0, 0].any()
    assert depth[1, 1] == 2.0 and mask[1, 1] == 7 and mask.dtype == np.uint16
    np.testing.assert_allclose(normal[1, 1], [0, 0, -1], atol=1e-6)  # flipped to face the camera


def write_fixture_scene(path, frames: int = 3, size=(8, 6)) -> None:
    w, h = size
    path.mkdir()
    K = cam.intrinsics(w, h, 36.0, 36.0)
    w2c = [cam.invert_rigid(cam.look_at(np.array([0.0, -2.0 - f, 0.5]), np.zeros(3))) for f in range(frames)]
    write_json(path / contract.CAMERA_FILE, contract.CameraFile.from_arrays(w, h, 24, K, w2c, 0.01, 100).to_json())
    write_json(path / contract.OBJECTS_FILE, {"objects": [], "environment": []})
    write_json(path / contract.META_FILE, {})
    for kind in [c.name for c in channels.channels_of(channels.Switches())]:
        (path / kind).mkdir()
    for f in range(frames):
        frame_files.write_depth(channels.frame_path(path, "depth", f), np.full((h, w), f + 1.0, np.float32))
        frame_files.write_normal(channels.frame_path(path, "normal", f), np.tile([0, 0, -1.0], (h, w, 1)))
        frame_files.write_mask(channels.frame_path(path, "mask", f), np.full((h, w), f, np.uint16))
        from transphy3d.output.png import write_rgb_png

        write_rgb_png(channels.frame_path(path, "rgb", f), np.full((h, w, 3), 10 * f, np.uint8))


def test_reader_api(tmp_path) -> None:
    write_fixture_scene(tmp_path / "scene_000000")
    write_fixture_scene(tmp_path / "scene_000001")
    (tmp_path / "scene_000002.partial-123").mkdir()
    scenes = list(iter_scenes(tmp_path))
    assert [s.path.name for s in scenes] == ["scene_000000", "scene_000001"]
    index = tmp_path / "index.jsonl"
    index.write_text('{"scene": "scene_000001"}\n{"scene": "scene_000009"}\n{"scene": "scene_000000"}\n')
    with pytest.warns(UserWarning, match="scene_000009, which is missing"):
        assert [s.path.name for s in iter_scenes(tmp_path)] == ["scene_000001", "scene_000000"]
    scene = open_scene(tmp_path / "scene_000000")
    frame = scene.frame(2)
    assert frame.depth.shape == (6, 8) and frame.depth[0, 0] == 3.0
    assert frame.rgb[0, 0, 0] == 20 and frame.mask[0, 0] == 2
    np.testing.assert_allclose(frame.world_to_camera, scene.world_to_camera[2])
    assert scene.K[0, 2] == 3.5
    with pytest.raises(IndexError):
        scene.frame(3)
    with pytest.raises(FileNotFoundError):
        open_scene(tmp_path)


@pytest.mark.parametrize("kind", ["depth", "normal", "mask", "rgb"])
def test_a_damaged_frame_file_is_an_error_naming_it(tmp_path, kind: str) -> None:
    write_fixture_scene(tmp_path / "scene_000000")
    scene = open_scene(tmp_path / "scene_000000")
    folder = {"depth": channels.DEPTH, "normal": channels.NORMAL, "mask": channels.MASK}.get(kind, channels.RGB)
    path = channels.frame_path(scene.path, folder, 1)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # truncated, as by a full disk or a killed copy
    with pytest.raises(UnreadableFileError) as error:
        scene.frame(1)
    assert str(error.value).startswith(f"{path}: not a readable ")
    assert isinstance(error.value, ValueError)  # tolerant readers (validate, the DKT loader) count it
    path.write_bytes(b"")
    with pytest.raises(UnreadableFileError, match=str(path)):
        scene.frame(1)
    assert validate_scene(scene.path).problems  # and validate reports it


def test_an_exr_without_its_channels_names_the_file(tmp_path) -> None:
    path = tmp_path / "depth.exr"
    write_exr(path, {"R": np.ones((2, 2), np.float32)})
    with pytest.raises(UnreadableFileError, match=rf"{path}: EXR lacks channel\(s\) \['Z'\]; it has \['R'\]"):
        frame_files.read_depth(path)


def test_a_full_disk_is_an_enospc_error_not_a_message(tmp_path) -> None:
    """OpenEXR's bindings drop the errno; the writer tells a full disk by its free space."""
    with small_disk(tmp_path / "small", "64k") as disk:
        noise = np.random.default_rng(0).random((256, 256), dtype=np.float32)  # incompressible, 256 kB
        with pytest.raises(OSError) as error:
            frame_files.write_depth(disk / "d.exr", noise)
        assert error.value.errno == errno.ENOSPC and "d.exr" in str(error.value)
        # A file that fits the stream's buffer fails only at close, where the bindings stay silent.
        with pytest.raises(OSError) as error:
            frame_files.write_depth(disk / "small.exr", noise[:8, :8])
        assert error.value.errno == errno.ENOSPC and "nothing was written" in str(error.value)
        (disk / "d.exr").unlink()
        frame_files.write_depth(disk / "small.exr", noise[:8, :8])  # with room again, written as before
        assert np.array_equal(frame_files.read_depth(disk / "small.exr"), noise[:8, :8])
