"""Helpers of the DKT tests: synthetic scenes in the data contract, tiny training settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from transphy3d.files import write_json
from transphy3d.geometry.camera import look_at
from transphy3d.output import channels, contract, frame_files
from transphy3d.output.png import write_rgb_png


def scene_arrays(frames: int, width: int, height: int, seed: int) -> dict[str, np.ndarray]:
    """Synthetic per-frame arrays: a floor plane and a moving disc (instance 1, glass), colours
    that depend on depth so RGB determines depth."""
    rng = np.random.Generator(np.random.PCG64(seed))
    cx0, cy0 = rng.uniform(0.3, 0.7, size=2)
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    depth, rgb, normal, mask = [], [], [], []
    for t in range(frames):
        floor = 1.5 + 1.0 * rows / height  # nearer at the bottom
        cx = (cx0 + 0.02 * t) * width
        cy = cy0 * height
        disc = (cols - cx) ** 2 + (rows - cy) ** 2 < (0.25 * min(width, height)) ** 2
        d = np.where(disc, 0.8 + 0.001 * t, floor)
        d[:2, :] = 0.0  # sky: no surface in the top rows
        m = np.where(disc, 1, 0).astype(np.uint16)
        n = np.zeros((height, width, 3))
        n[..., 2] = -1.0
        n[d == 0] = 0.0
        shade = np.clip((3.0 - d) / 2.5, 0, 1)
        colour = np.stack([shade, 0.5 * shade + 0.25 * disc, 1 - shade], axis=-1)
        colour[d == 0] = [0.6, 0.8, 1.0]
        depth.append(d.astype(np.float32))
        rgb.append(np.round(colour * 255).astype(np.uint8))
        normal.append(n.astype(np.float32))
        mask.append(m)
    return {
        "depth": np.stack(depth),
        "rgb": np.stack(rgb),
        "normal": np.stack(normal),
        "mask": np.stack(mask),
    }


def write_scene(
    path: Path,
    frames: int = 9,
    width: int = 32,
    height: int = 32,
    seed: int = 0,
    flow: bool = False,
    material: dict | None = None,
) -> Path:
    """A complete scene directory of the data contract made of synthetic arrays."""
    arrays = scene_arrays(frames, width, height, seed)
    for kind in ("rgb", "depth", "normal", "mask") + (("flow",) if flow else ()):
        (path / kind).mkdir(parents=True, exist_ok=True)
    K = np.array([[width, 0, width / 2 - 0.5], [0, width, height / 2 - 0.5], [0, 0, 1.0]])
    w2c = [np.linalg.inv(look_at(np.array([0.01 * t, -2.0, 1.0]), np.zeros(3))) for t in range(frames)]
    write_json(
        path / contract.CAMERA_FILE, contract.CameraFile.from_arrays(width, height, 24.0, K, w2c, 0.01, 100.0).to_json()
    )
    material = material or {"class": "glass", "transparent": True, "reflective": True}
    write_json(
        path / contract.OBJECTS_FILE,
        {
            "format_version": 1,
            "objects": [
                {
                    "instance_id": 1,
                    "name": "obj_0001",
                    "source": {"kind": "procedural", "family": "bowl", "params": {}},
                    "material": material,
                    "mesh": "meshes/0001.ply",
                    "object_to_world": [np.eye(4).tolist()] * frames,
                }
            ],
            "environment": [],
        },
    )
    write_json(path / contract.META_FILE, {"resolution": [width, height], "num_frames": frames})
    (path / contract.SCENE_SPEC_FILE).write_text("seed: 0\n", encoding="utf-8")
    for t in range(frames):
        write_rgb_png(channels.frame_path(path, "rgb", t), arrays["rgb"][t])
        frame_files.write_depth(channels.frame_path(path, "depth", t), arrays["depth"][t])
        frame_files.write_normal(channels.frame_path(path, "normal", t), arrays["normal"][t])
        frame_files.write_mask(channels.frame_path(path, "mask", t), arrays["mask"][t])
        if flow and t + 1 < frames:
            f = np.zeros((height, width, 2), np.float32)
            f[..., 0] = 0.5
            frame_files.write_flow(channels.frame_path(path, "flow", t), f)
    return path


def tiny_train_settings(base: Path, out: Path, data: Path, **overrides):
    """TrainSettings for a seconds-long CPU run on 32x32 clips of 5 frames."""
    from transphy3d.dkt.settings import ClipSettings, FrameSettings, LoraSettings, TrainSettings
    from transphy3d.dkt.sources import SourceSpec

    values = {
        "base": str(base),
        "out": str(out),
        "data": [SourceSpec(kind="render", path=str(data))],
        "clip": ClipSettings(resolution=(32, 32), random_crop=False),
        "frames": FrameSettings.fixed(5),
        "lora": LoraSettings(rank=8, alpha=8.0),
        "learning_rate": 1e-2,
        "patch_embedding_lr": 1e-2,
        "batch_size": 2,
        "micro_batch_size": 1,
        "max_steps": 6,
        "log_every": 1,
        "val_every": 1000,
        "checkpoint_every": 1000,
        "num_workers": 0,
        "gradient_checkpointing": False,
        "mixed_precision": "no",
        "seed": 0,
    }
    values.update(overrides)
    return TrainSettings(**values)
