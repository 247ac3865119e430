"""ClearGrasp (Shreeyak/cleargrasp), synthetic and real; frames are independent.

Synthetic, one folder per object and split (``<object>-{train,val,test}/``): ``rgb-imgs/ID-rgb.jpg``
(1920x1080), ``depth-imgs-rectified/ID-depth-rectified.exr`` (half float, R = G = B, metres),
``segmentation-masks/ID-segmentation-mask.png`` (non-zero on the transparent objects),
``camera-normals/ID-cameraNormals.exr`` (+X right, +Y up, +Z towards the camera),
``json-files/ID-masks.json`` (``camera.field_of_view.{x,y}_axis_rads``).

Real (``real-{val,test}/{d415,d435}/``): ``ID-transparent-rgb-img.jpg``, ``ID-opaque-depth-img.exr``
(ground truth from the scene with opaque replicas, NaN invalid), ``ID-transparent-depth-img.exr``
(the sensor's depth of the transparent scene, 0 invalid), ``ID-mask.png`` (non-zero on the
transparent objects), ``camera_intrinsics.yaml`` (fx, fy, cx, cy at xres x yres, scaled to the
frame's size).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import yaml

from transphy3d.datasets.decode import (
    exr_channel,
    exr_vectors,
    intrinsics_from_fov,
    read_image,
    read_rgb,
    read_text,
    scaled_intrinsics,
    unit_normals,
    valid_depth,
)
from transphy3d.datasets.folder import FolderDataset, frame_ids
from transphy3d.datasets.frames import CorruptData, Frame
from transphy3d.datasets.scan import Lister, Listing

# synthetic: (subfolder, file suffix) per modality
SYN_RGB = ("rgb-imgs", "-rgb.jpg")
SYN_DEPTH = ("depth-imgs-rectified", "-depth-rectified.exr")
SYN_MASK = ("segmentation-masks", "-segmentation-mask.png")
SYN_NORMAL = ("camera-normals", "-cameraNormals.exr")
SYN_JSON = ("json-files", "-masks.json")
# real: file suffixes in one folder
REAL_RGB = "-transparent-rgb-img.jpg"
REAL_DEPTH = "-opaque-depth-img.exr"
REAL_RAW = "-transparent-depth-img.exr"
REAL_MASK = "-mask.png"
REAL_INTRINSICS = "camera_intrinsics.yaml"
INTRINSICS_KEYS = ("xres", "yres", "fx", "fy", "cx", "cy")
# +Y up and +Z towards the camera: to OpenCV (y down, z forward) negate both.
NORMAL_TO_OPENCV = (1.0, -1.0, -1.0)


def synthetic_intrinsics(path: Path, size: tuple[int, int]) -> np.ndarray:
    """K at (H, W) ``size`` from the fields of view in a ``-masks.json``."""
    try:
        fov = json.loads(read_text(path))["camera"]["field_of_view"]
        fov_x, fov_y = float(fov["x_axis_rads"]), float(fov["y_axis_rads"])
    except (ValueError, KeyError, TypeError) as error:
        raise CorruptData(path, f"camera.field_of_view.x_axis_rads / y_axis_rads: {error!r}") from None
    if not (0 < fov_x < np.pi and 0 < fov_y < np.pi):
        raise CorruptData(path, f"field of view ({fov_x}, {fov_y}) rad; allowed: between 0 and pi")
    return intrinsics_from_fov(size[1], size[0], fov_x, fov_y)


def real_intrinsics(path: Path, size: tuple[int, int]) -> np.ndarray:
    """K at (H, W) ``size`` from ``camera_intrinsics.yaml`` (given at xres x yres)."""
    try:
        data = yaml.safe_load(read_text(path))
        values = {k: float(data[k]) for k in INTRINSICS_KEYS}
    except (yaml.YAMLError, KeyError, TypeError, ValueError) as error:
        raise CorruptData(path, f"needs numbers {', '.join(INTRINSICS_KEYS)} ({error!r})") from None
    if not all(np.isfinite(v) and v > 0 for v in values.values()):
        raise CorruptData(path, f"{values}: every value must be finite and > 0")
    K = np.array([[values["fx"], 0, values["cx"]], [0, values["fy"], values["cy"]], [0, 0, 1.0]])
    return scaled_intrinsics(K, (int(values["yres"]), int(values["xres"])), size)


def is_synthetic(folders: list[str]) -> bool:
    return SYN_RGB[0] in folders and SYN_DEPTH[0] in folders


def is_real(files: list[str]) -> bool:
    return REAL_INTRINSICS in files and any(n.endswith(REAL_RGB) for n in files)


class ClearGraspDataset(FolderDataset):
    kind = "cleargrasp"
    is_video = False
    LAYOUT = "<object>-<split>/rgb-imgs/ + depth-imgs-rectified/ (synthetic) or real-*/d4*/ with camera_intrinsics.yaml"

    @staticmethod
    def recognises(files: set[str], folders: set[str]) -> bool:
        """True for a ClearGrasp synthetic object folder or real camera folder."""
        return is_synthetic(list(folders)) or is_real(list(files))

    def scan(self, lister: Lister) -> Listing:
        listing = Listing()
        for folder in lister.walk(lambda _f, files, folders: is_synthetic(folders) or is_real(files)):
            if is_real(lister.files(folder)):
                files = set(lister.files(folder))
                pairs = [(i, f"{i}{REAL_DEPTH}" in files) for i in frame_ids(sorted(files), REAL_RGB)]
                where = REAL_DEPTH
            else:
                depths = set(lister.files(folder / SYN_DEPTH[0]))
                pairs = [
                    (i, f"{i}{SYN_DEPTH[1]}" in depths)
                    for i in frame_ids(lister.files(folder / SYN_RGB[0]), SYN_RGB[1])
                ]
                where = f"{SYN_DEPTH[0]}/ID{SYN_DEPTH[1]}"
            listing.skipped += [f"{folder}: frame {i} has no {where}; skipped" for i, ok in pairs if not ok]
            listing.sequences.append((lister.relative(folder), [i for i, ok in pairs if ok]))
        return listing

    def frame(self, sequence: str, frame_id: str) -> Frame:
        folder = self.folder(sequence)
        if (folder / REAL_INTRINSICS).is_file():
            return self.real_frame(folder, frame_id)
        return self.synthetic_frame(folder, frame_id)

    @staticmethod
    def synthetic_frame(folder: Path, frame_id: str) -> Frame:
        rgb, depth, mask, normal, meta = (
            folder / sub / f"{frame_id}{suffix}" for sub, suffix in (SYN_RGB, SYN_DEPTH, SYN_MASK, SYN_NORMAL, SYN_JSON)
        )
        return Frame(
            frame_id,
            {
                "rgb": (rgb, lambda f: read_rgb(rgb)),
                "depth": (depth, lambda f: valid_depth(exr_channel(depth))),
                "transparent": (mask, lambda f: _mask(mask)),
                "normal": (
                    normal,
                    lambda f: unit_normals(exr_vectors(normal), NORMAL_TO_OPENCV) if normal.is_file() else None,
                ),
                "K": (meta, lambda f: synthetic_intrinsics(meta, f.size)),
            },
        )

    @staticmethod
    def real_frame(folder: Path, frame_id: str) -> Frame:
        rgb, depth, raw, mask = (folder / f"{frame_id}{s}" for s in (REAL_RGB, REAL_DEPTH, REAL_RAW, REAL_MASK))
        return Frame(
            frame_id,
            {
                "rgb": (rgb, lambda f: read_rgb(rgb)),
                "depth": (depth, lambda f: valid_depth(exr_channel(depth))),
                "raw_depth": (raw, lambda f: valid_depth(exr_channel(raw)) if raw.is_file() else None),
                "transparent": (mask, lambda f: _mask(mask)),
                "K": (folder / REAL_INTRINSICS, lambda f: real_intrinsics(folder / REAL_INTRINSICS, f.size)),
            },
        )


def _mask(path: Path) -> np.ndarray:
    values = read_image(path)
    return (values.max(axis=-1) if values.ndim == 3 else values) > 0
