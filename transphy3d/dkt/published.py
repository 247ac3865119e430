"""Writing our renders in the published TransPhy3D format (WebDataset tars; the format and its
reader are ``transphy3d.datasets.published``)."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from transphy3d.datasets.published import DEPTH_SCALE, intrinsics_to_normalised
from transphy3d.files import atomic_path

TAR_MTIME = 0.0  # members' modification time: a tar written again has the same bytes


def encode_depth(depth: np.ndarray) -> tuple[bytes, float]:
    """(16-bit PNG bytes, max_depth) of a depth map in metres (0 or non-finite = no surface)."""
    depth = np.where(np.isfinite(depth) & (depth > 0), depth, 0.0).astype(np.float64)
    max_depth = float(np.float32(depth.max())) if depth.size else 0.0
    values = (
        np.zeros(depth.shape, np.uint16)
        if max_depth == 0
        else np.round(np.minimum(depth / max_depth, 1.0) * DEPTH_SCALE).astype(np.uint16)
    )
    buffer = io.BytesIO()
    Image.fromarray(values).save(buffer, format="PNG")
    return buffer.getvalue(), max_depth


def encode_normal(normal: np.ndarray) -> bytes:
    values = np.round((np.clip(np.nan_to_num(normal), -1.0, 1.0) + 1.0) / 2.0 * 255.0).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(values).save(buffer, format="PNG")
    return buffer.getvalue()


def export_scene(scene, out_path: str | Path, sequence_id: str, frames: Sequence[int] | None = None) -> Path:
    """Write one rendered scene (``transphy3d.output.reader.Scene``), or only its ``frames``, as a
    published-format tar (one shard)."""
    import webdataset as wds

    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_path) as tmp, wds.TarWriter(str(tmp), mtime=TAR_MTIME) as sink:
        for index in range(scene.num_frames) if frames is None else frames:
            frame = scene.frame(index)
            rgb = io.BytesIO()
            Image.fromarray(frame.rgb).save(rgb, format="PNG")
            depth_png, max_depth = encode_depth(frame.depth)
            meta = {
                "camera_matrices": {
                    "extrinsics": np.asarray(frame.world_to_camera).tolist(),
                    "intrinsics": intrinsics_to_normalised(frame.K, scene.width, scene.height).tolist(),
                },
                "frame_id": index,
                "sequence_id": sequence_id,
            }
            sink.write(
                {
                    "__key__": f"{sequence_id}_{index:08d}",
                    "image.png": rgb.getvalue(),
                    "depth.png": depth_png,
                    "depth.json": json.dumps({"max_depth": max_depth}).encode(),
                    "normal.png": encode_normal(frame.normal),
                    "metadata.json": json.dumps(meta).encode(),
                }
            )
    return out_path


def export_render_output(root: str | Path, out_dir: str | Path, scene_type: str = "materials") -> list[Path]:
    """Every scene under a render output directory as ``<out>/<id:06d>_<scene_type>.000000.tar``."""
    from transphy3d.output.reader import iter_scenes

    written = []
    for number, scene in enumerate(iter_scenes(root)):
        sequence = f"{number:06d}"
        written.append(export_scene(scene, Path(out_dir) / f"{sequence}_{scene_type}.000000.tar", sequence))
    return written
