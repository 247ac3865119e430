"""DREDS (PKU-EPIC/DREDS, ECCV 2022): ``DREDS-CatKnown/{train,val,test}/<scene>/NNNN_*`` (released
archives add a level such as ``train/part0``) and ``DREDS-CatNovel/<scene>/NNNN_*``; frames are
independent.

Per frame: ``_color.png`` (1280x720), ``_depth_120.exr`` (CatNovel: ``_depth_0.exr``) ground-truth
depth in metres at 640x360, ``_simDepthImage.exr`` the simulated sensor's depth (-0.001 and beyond
3.5 m invalid), ``_mask.exr`` instance id = R x 255 (255 background), ``_meta.txt`` one line per
instance ``id label class instance scale material qw qx qy qz tx ty tz`` (material 2 transparent,
3 specular), ``_normal.exr`` (nx, ny, -nz) of Blender's camera frame. Intrinsics are not on disk:
fx = fy = 446.31 at 640x360 (the official ``CatePoseEstimation/datasets/datasets.py``), principal
point at the image centre. Every array is given on the depth grid: the RGB is area-averaged
from 1280x720 to it, and K is scaled to it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from transphy3d.datasets.decode import (
    centred_intrinsics,
    exr_channel,
    exr_vectors,
    read_rgb,
    read_text,
    resize_rgb,
    unit_normals,
    valid_depth,
)
from transphy3d.datasets.folder import FolderDataset, frame_ids
from transphy3d.datasets.frames import CorruptData, Frame
from transphy3d.datasets.scan import Lister, Listing

FOCAL = 446.31  # fx = fy in pixels at NATIVE_SIZE
NATIVE_SIZE = (360, 640)  # (H, W) of the ground-truth depth
RAW_MAX_DEPTH = 3.5  # metres: the simulated sensor's range
TRANSPARENT_MATERIAL = 2
SPECULAR_MATERIAL = 3
BACKGROUND_ID = 255
MASK_SCALE = 255.0
META_COLUMNS = ("id", "label", "class", "instance", "scale", "material", "qw", "qx", "qy", "qz", "tx", "ty", "tz")

COLOR = "_color.png"
DEPTHS = ("_depth_120.exr", "_depth_0.exr")
RAW = "_simDepthImage.exr"
MASK = "_mask.exr"
META = "_meta.txt"
NORMAL = "_normal.exr"
# Blender's camera frame (x right, y up, z backward) stored as (nx, ny, -nz): to OpenCV's
# (x right, y down, z forward) negate y and keep the stored z.
NORMAL_TO_OPENCV = (1.0, -1.0, 1.0)


def intrinsics(size: tuple[int, int]) -> np.ndarray:
    """K at (H, W) ``size`` (446.31 px at 640x360, scaled)."""
    h, w = size
    return centred_intrinsics(w, h, FOCAL * w / NATIVE_SIZE[1], FOCAL * h / NATIVE_SIZE[0])


def transparent_ids(path: Path) -> list[int]:
    """Instance ids whose material (column 6 of ``_meta.txt``) is transparent."""
    ids = []
    for number, line in enumerate(read_text(path).splitlines(), 1):
        words = line.split()
        if not words:
            continue
        if len(words) < len(META_COLUMNS):
            raise CorruptData(path, f"line {number} has {len(words)} columns; expected {' '.join(META_COLUMNS)}")
        try:
            instance, material = int(words[0]), int(words[5])
        except ValueError:
            raise CorruptData(path, f"line {number}: id and material must be integers") from None
        if material == TRANSPARENT_MATERIAL:
            ids.append(instance)
    return ids


def instance_ids(path: Path) -> np.ndarray:
    """int32 (H, W) instance ids of a ``_mask.exr`` (R x 255, rounded)."""
    red = exr_channel(path, ("R", "Y"))
    if not np.isfinite(red).all():
        raise CorruptData(path, "mask has non-finite values")
    return np.rint(red * MASK_SCALE).astype(np.int32)


def depth_file(folder: Path, frame_id: str) -> Path:
    for suffix in DEPTHS:
        path = folder / f"{frame_id}{suffix}"
        if path.is_file():
            return path
    return folder / f"{frame_id}{DEPTHS[0]}"


class DredsDataset(FolderDataset):
    kind = "dreds"
    is_video = False
    LAYOUT = "<scene>/NNNN_color.png with NNNN_depth_120.exr (or _depth_0.exr)"

    @staticmethod
    def recognises(files: set[str], folders: set[str]) -> bool:
        """True for a folder of DREDS frames."""
        return any(n.endswith(DEPTHS) for n in files)

    def scan(self, lister: Lister) -> Listing:
        listing = Listing()
        for folder in lister.walk(lambda _f, files, _d: any(n.endswith(COLOR) for n in files)):
            files = set(lister.files(folder))
            ids = []
            for frame_id in frame_ids(sorted(files), COLOR):
                if any(f"{frame_id}{s}" in files for s in DEPTHS):
                    ids.append(frame_id)
                else:
                    listing.skipped.append(f"{folder / (frame_id + COLOR)}: no {' or '.join(DEPTHS)}; skipped")
            listing.sequences.append((lister.relative(folder), ids))
        return listing

    def frame(self, sequence: str, frame_id: str) -> Frame:
        folder = self.folder(sequence)
        gt = depth_file(folder, frame_id)
        raw, normal = folder / f"{frame_id}{RAW}", folder / f"{frame_id}{NORMAL}"
        mask, meta = folder / f"{frame_id}{MASK}", folder / f"{frame_id}{META}"

        def transparent(frame: Frame) -> np.ndarray:
            ids = instance_ids(mask)
            return np.isin(ids, transparent_ids(meta)) & (ids != BACKGROUND_ID)

        return Frame(
            frame_id,
            {
                "depth": (gt, lambda f: valid_depth(exr_channel(gt))),
                "rgb": (
                    folder / f"{frame_id}{COLOR}",
                    lambda f: resize_rgb(read_rgb(folder / f"{frame_id}{COLOR}"), f.depth.shape),
                ),
                "raw_depth": (raw, lambda f: valid_depth(exr_channel(raw), RAW_MAX_DEPTH) if raw.is_file() else None),
                "normal": (
                    normal,
                    lambda f: unit_normals(exr_vectors(normal), NORMAL_TO_OPENCV) if normal.is_file() else None,
                ),
                "transparent": (mask, transparent),
                "K": (None, lambda f: intrinsics(f.depth.shape)),
            },
        )
