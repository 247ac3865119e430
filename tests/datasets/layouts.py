"""Tiny datasets written in the published layouts and encodings (from the format facts in
``transphy3d/datasets/*``' docstrings), with the values a correct reader must decode."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from PIL import Image

from transphy3d.output.exr import write_exr

H, W = 8, 16  # the ground-truth grid of every fixture


def gradient_rgb(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.Generator(np.random.PCG64(seed))
    return rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def depth_map(seed: int, lo: float = 0.4, hi: float = 2.0) -> np.ndarray:
    rng = np.random.Generator(np.random.PCG64(seed + 100))
    return rng.uniform(lo, hi, size=(H, W)).astype(np.float32)


def rgb_exr(path: Path, value: np.ndarray, dtype=np.float32) -> None:
    """An EXR with R = G = B = ``value`` (or three channels when ``value`` is (H, W, 3))."""
    planes = [value[..., i] for i in range(3)] if value.ndim == 3 else [value] * 3
    write_exr(path, {c: np.ascontiguousarray(p.astype(dtype)) for c, p in zip("RGB", planes, strict=True)})


def write_dreds(root: Path) -> dict:
    """``DREDS-CatKnown/test/<scene>/`` with frames 0000 and 0002 (ids skip), colour at 2x the depth
    grid; returns the expected values."""
    scene = root / "DREDS-CatKnown" / "test" / "00001"
    scene.mkdir(parents=True)
    expected = {}
    for number, frame in enumerate(("0000", "0002")):
        color = gradient_rgb(2 * H, 2 * W, number)
        Image.fromarray(color).save(scene / f"{frame}_color.png")
        depth = depth_map(number)
        depth[0, :3] = 0.0  # no surface
        rgb_exr(scene / f"{frame}_depth_120.exr", depth)
        raw = depth + 0.01
        raw[1, 0] = -0.001  # the simulator's invalid value
        raw[1, 1] = 3.7  # beyond the sensor's 3.5 m
        rgb_exr(scene / f"{frame}_simDepthImage.exr", raw)
        ids = np.full((H, W), 255, dtype=np.int32)
        ids[2:5, 2:6] = 1  # transparent (material 2)
        ids[5:7, 8:12] = 3  # diffuse (material 0)
        ids[2:4, 12:14] = 7  # specular (material 3)
        rgb_exr(scene / f"{frame}_mask.exr", ids / 255.0)
        (scene / f"{frame}_meta.txt").write_text(
            "1 4 02876657 a1 0.2 2 1 0 0 0 0.1 0.2 0.5\n"
            "3 2 02946921 b2 0.3 0 1 0 0 0 0.0 0.1 0.6\n"
            "7 1 03642806 c3 0.1 3 1 0 0 0 0.0 0.0 0.7\n"
        )
        blender = np.zeros((H, W, 3), np.float32)
        blender[..., 1] = 0.6  # up in Blender's camera frame
        blender[..., 2] = 0.8  # towards the camera in Blender's frame
        stored = blender * np.array([1, 1, -1], np.float32)
        rgb_exr(scene / f"{frame}_normal.exr", stored)
        expected[frame] = {
            "rgb": color.reshape(H, 2, W, 2, 3).astype(np.float64).mean(axis=(1, 3)),
            "depth": depth,
            "raw": np.where((raw > 0) & (raw <= 3.5), raw, 0).astype(np.float32),
            "transparent": ids == 1,
            "normal": np.array([0.0, -0.6, -0.8]),  # OpenCV: y down, z away from the camera
        }
    return expected


def write_hiss(root: Path) -> dict:
    """``HISS/train/<scene>/`` with frames 0000-0002, depth as one half-float Y channel, and
    ``bad_his.txt`` listing frame 0001 by the path D3RoMa wrote."""
    split = root / "HISS" / "train"
    scene = split / "scene_a"
    scene.mkdir(parents=True)
    expected = {}
    for number, frame in enumerate(("0000", "0001", "0002")):
        Image.fromarray(gradient_rgb(H, W, number)).save(scene / f"{frame}_color.png")
        depth = depth_map(number).astype(np.float16)
        depth[3, 3] = np.float16("nan")
        write_exr(scene / f"{frame}_depth.exr", {"Y": depth})
        write_exr(scene / f"{frame}_simDepthImage.exr", {"Y": np.zeros((H, W), np.float16)})
        expected[frame] = np.where(np.isfinite(depth), depth, 0).astype(np.float32)
    (split / "bad_his.txt").write_text("datasets/HISS/train/scene_a/0001_depth.exr 0.52\n")
    return expected


def write_cleargrasp(root: Path) -> dict:
    """A synthetic object folder (half-float depth with NaN and 0, normals +Y up +Z towards the
    camera, fields of view in the json) and a real d435 folder (opaque depth with NaN, intrinsics
    at twice the frame size)."""
    syn = root / "cleargrasp" / "cleargrasp-dataset-test-val" / "cup-with-waves-val"
    for sub in ("rgb-imgs", "depth-imgs-rectified", "segmentation-masks", "camera-normals", "json-files"):
        (syn / sub).mkdir(parents=True)
    depth = depth_map(5).astype(np.float16)
    depth[0, 0] = np.float16("nan")
    depth[0, 1] = 0
    rgb = np.full((H, W, 3), (200, 100, 50), np.uint8)
    Image.fromarray(rgb).save(syn / "rgb-imgs" / "000000003-rgb.jpg", quality=100)
    rgb_exr(syn / "depth-imgs-rectified" / "000000003-depth-rectified.exr", depth, np.float16)
    mask = np.zeros((H, W), np.uint8)
    mask[2:6, 4:9] = 255
    Image.fromarray(mask).save(syn / "segmentation-masks" / "000000003-segmentation-mask.png")
    normal = np.zeros((H, W, 3), np.float32)
    normal[..., 0], normal[..., 1], normal[..., 2] = 0.0, 0.6, 0.8
    rgb_exr(syn / "camera-normals" / "000000003-cameraNormals.exr", normal)
    fov = {"x_axis_rads": 1.2112585306167603, "y_axis_rads": 0.7428327202796936}
    (syn / "json-files" / "000000003-masks.json").write_text(json.dumps({"camera": {"field_of_view": fov}}))
    real = root / "cleargrasp" / "cleargrasp-dataset-test-val" / "real-test" / "d435"
    real.mkdir(parents=True)
    Image.fromarray(rgb).save(real / "000000080-transparent-rgb-img.jpg", quality=100)
    opaque = depth_map(6)
    opaque[4, 4] = np.nan
    rgb_exr(real / "000000080-opaque-depth-img.exr", opaque)
    sensor = depth_map(7)
    sensor[2:4, 2:4] = 0
    rgb_exr(real / "000000080-transparent-depth-img.exr", sensor)
    Image.fromarray(mask).save(real / "000000080-mask.png")
    (real / "camera_intrinsics.yaml").write_text(
        "camera_name: 'D435'\nxres: 32\nyres: 16\nfx: 30\nfy: 31\ncx: 16\ncy: 8\n"
    )
    return {
        "syn_depth": np.where(np.isfinite(depth) & (depth > 0), depth, 0).astype(np.float32),
        "syn_mask": mask > 0,
        "syn_K": (W / 2 / math.tan(fov["x_axis_rads"] / 2), H / 2 / math.tan(fov["y_axis_rads"] / 2)),
        "real_depth": np.where(np.isfinite(opaque), opaque, 0).astype(np.float32),
        "real_raw": sensor,
        # 32x16 -> 16x8: f halves, (c + 0.5) halves
        "real_K": np.array([[15.0, 0, 16.5 / 2 - 0.5], [0, 15.5, 8.5 / 2 - 0.5], [0, 0, 1]]),
    }


def write_clearpose_frame(
    scene: Path, frame: str, rgb: np.ndarray, depth_mm: np.ndarray, raw_mm: np.ndarray, label: np.ndarray
) -> None:
    """One ClearPose frame's PNGs (colour, 16-bit depths in mm, 8-bit labels)."""
    scene.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(scene / f"{frame}-color.png")
    Image.fromarray(depth_mm.astype(np.uint16)).save(scene / f"{frame}-depth_true.png")
    Image.fromarray(raw_mm.astype(np.uint16)).save(scene / f"{frame}-depth.png")
    Image.fromarray(label.astype(np.uint8)).save(scene / f"{frame}-label.png")


def camera_pose(t: int) -> np.ndarray:
    """Frame ``t``'s camera-to-world [R|t]: a small turn about y and a step along x per frame."""
    angle = 0.02 * t
    pose = np.zeros((3, 4))
    pose[:, :3] = [[math.cos(angle), 0, math.sin(angle)], [0, 1, 0], [-math.sin(angle), 0, math.cos(angle)]]
    pose[:, 3] = [0.01 * t, 0.0, 0.0]
    return pose


def write_clearpose_metadata(scene: Path, intrinsics: dict[str, np.ndarray]) -> None:
    """``metadata.mat``: one struct per frame id (camera_intrinsics, factor_depth 1000, the camera
    pose of the frame's position in the sequence, ...)."""
    from scipy.io import savemat

    savemat(
        scene / "metadata.mat",
        {
            frame: {
                "cls_indexes": np.array([[5], [63]]),
                "camera_intrinsics": K,
                "rotation_translation_matrix": camera_pose(t),
                "factor_depth": np.array([[1000]]),
            }
            for t, (frame, K) in enumerate(intrinsics.items())
        },
    )


def write_clearpose(root: Path, scenes: tuple[str, ...] = ("set2/scene1", "set1/scene5", "set1/scene1")) -> dict:
    """``clearpose/set{k}/scene{m}/`` with frames 000000, 000005, 000010 (ids skip), depth in mm,
    labels with transparent ids 5 and 63 and distractors 200 and 203, ``metadata.mat`` per frame."""
    expected = {}
    for s, name in enumerate(scenes):
        scene = root / "clearpose" / name
        intrinsics = {}
        for t, frame in enumerate(("000000", "000005", "000010")):
            seed = 10 * s + t
            mm = np.round(depth_map(seed, 0.4, 1.4) * 1000).astype(np.uint16)  # inside ClearPose's range
            mm[0, :2] = 0
            raw = mm.copy()
            raw[3:5, 3:5] = 0
            label = np.zeros((H, W), np.uint8)
            label[1:3, 1:4] = 5
            label[4:6, 1:4] = 63
            label[1:3, 8:12] = 200
            label[5:7, 8:12] = 203
            write_clearpose_frame(scene, frame, gradient_rgb(H, W, seed), mm, raw, label)
            intrinsics[frame] = np.array([[20.0 + t, 0, 7.5], [0, 21.0 + t, 3.5], [0, 0, 1]])
            expected[(name, frame)] = {
                "depth": mm.astype(np.float32) / 1000,
                "raw": raw.astype(np.float32) / 1000,
                "transparent": (label == 5) | (label == 63),
                "K": intrinsics[frame],
            }
        write_clearpose_metadata(scene, intrinsics)
    return expected
