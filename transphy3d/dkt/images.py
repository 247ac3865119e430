"""Plain image datasets (RGB + depth folders) for co-training with F = 1.

Layout: ``<root>/<rgb_dir>/NAME.{png,jpg,jpeg}`` paired by file stem with
``<root>/<depth_dir>/NAME.{exr,npy,png,tif,tiff}`` (and, for the normal task,
``<root>/<normal_dir>/NAME.{exr,npy,png}``). Depth values are multiplied by ``depth_scale`` to
get metres (e.g. 0.001 for 16-bit PNGs in millimetres); 0, negative or non-finite values mean
no ground truth. An EXR depth is read from its ``Z`` channel, else ``Y``, ``R`` or its only
channel. Normal PNGs are RGB-encoded (n = v / 255 * 2 - 1); EXR normals use ``X, Y, Z``.
Files with no partner are counted in ``skipped``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from transphy3d.dkt.data import CorruptData, RawClip, read_checked
from transphy3d.dkt.sources import IMAGE_FOLDERS
from transphy3d.errors import UnreadableFileError, UserError, unreadable
from transphy3d.output.exr import read_exr

RGB_SUFFIXES = (".png", ".jpg", ".jpeg")
DEPTH_SUFFIXES = (".exr", ".npy", ".png", ".tif", ".tiff")
NORMAL_SUFFIXES = (".exr", ".npy", ".png")


def read_depth_file(path: Path, depth_scale: float = 1.0) -> np.ndarray:
    """Depth (H, W) float32 in metres of an EXR, NPY or 16-bit PNG/TIFF file; a file that does not
    decode to one channel is an UnreadableFileError naming it."""
    try:
        depth = np.asarray(_decode_depth(path), dtype=np.float64).squeeze()
    except (FileNotFoundError, UnreadableFileError):
        raise
    except Exception as error:  # numpy, PIL and OpenEXR raise many types for a damaged file
        raise unreadable(path, "depth file", error) from error
    if depth.ndim != 2:
        raise UnreadableFileError(f"depth must be one channel, got shape {depth.shape}", path=str(path))
    return (depth * depth_scale).astype(np.float32)


def _decode_depth(path: Path) -> np.ndarray:
    suffix = path.suffix.lower()
    if suffix == ".exr":
        channels = read_exr(path)
        name = next((c for c in ("Z", "Y", "R") if c in channels), None)
        if name is None and len(channels) == 1:
            name = next(iter(channels))
        if name is None:
            raise ValueError(f"no depth channel (Z, Y or R) among {sorted(channels)}")
        return channels[name]
    if suffix == ".npy":
        return np.load(path, allow_pickle=False)
    with Image.open(path) as image:
        return np.asarray(image)


def read_normal_file(path: Path) -> np.ndarray:
    """Normals (H, W, 3) float32 of an EXR (X, Y, Z), NPY or RGB-encoded PNG file; a file that
    does not decode is an UnreadableFileError naming it."""
    try:
        normal = _decode_normal(path)
    except (FileNotFoundError, UnreadableFileError):
        raise
    except Exception as error:  # numpy, PIL and OpenEXR raise many types for a damaged file
        raise unreadable(path, "normal file", error) from error
    return np.nan_to_num(np.asarray(normal, dtype=np.float32))


def _decode_normal(path: Path) -> np.ndarray:
    suffix = path.suffix.lower()
    if suffix == ".exr":
        channels = read_exr(path)
        return np.stack([channels[c] for c in ("X", "Y", "Z")], axis=-1)
    if suffix == ".npy":
        return np.load(path, allow_pickle=False)
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB")).astype(np.float32) / 255.0 * 2.0 - 1.0


def _by_stem(folder: Path, suffixes: Sequence[str]) -> dict[str, Path]:
    return {p.stem: p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() in suffixes}


class ImageFolderSource:
    """RGB + depth (or normal) image pairs; every item is one frame."""

    is_video = False

    def __init__(
        self,
        root: str | Path,
        task: str = "depth",
        rgb_dir: str = IMAGE_FOLDERS["rgb_dir"],
        depth_dir: str = IMAGE_FOLDERS["depth_dir"],
        normal_dir: str = IMAGE_FOLDERS["normal_dir"],
        depth_scale: float = 1.0,
        name: str | None = None,
    ):
        self.root = Path(root)
        self.task = task
        self.depth_scale = float(depth_scale)
        self.name = name or self.root.name
        target_dir = depth_dir if task == "depth" else normal_dir
        for folder in (rgb_dir, target_dir):
            if not (self.root / folder).is_dir():
                raise UserError(
                    f"no {folder}/ folder (image dataset layout: {rgb_dir}/ and {target_dir}/)",
                    path=str(self.root),
                    field="data",
                )
        if not self.depth_scale > 0:
            raise UserError(f"{depth_scale}: must be > 0", path=str(self.root), field="depth_scale")
        rgb = _by_stem(self.root / rgb_dir, RGB_SUFFIXES)
        targets = _by_stem(self.root / target_dir, DEPTH_SUFFIXES if task == "depth" else NORMAL_SUFFIXES)
        stems = sorted(rgb.keys() & targets.keys())
        self.skipped = [f"{rgb[s]}: no {target_dir} partner" for s in sorted(rgb.keys() - targets.keys())]
        self.skipped += [f"{targets[s]}: no {rgb_dir} partner" for s in sorted(targets.keys() - rgb.keys())]
        if not stems:
            raise UserError(
                f"no {rgb_dir}/{target_dir} pairs with the same file stem", path=str(self.root), field="data"
            )
        self.pairs = [(rgb[s], targets[s]) for s in stems]
        self.lengths = [1] * len(self.pairs)

    def load(self, item: int, frames: Sequence[int]) -> RawClip:
        if list(frames) != [0]:
            raise ValueError(f"an image item has one frame; asked for frames {list(frames)}")
        rgb_path, target_path = self.pairs[item]
        try:
            with Image.open(rgb_path) as image:
                rgb = np.asarray(image.convert("RGB"))
        except Exception as error:
            raise CorruptData(rgb_path, f"unreadable ({type(error).__name__}: {error})") from error
        h, w = rgb.shape[:2]
        if self.task == "depth":
            depth = read_checked(lambda p: read_depth_file(p, self.depth_scale), target_path, (h, w))
            valid = np.isfinite(depth) & (depth > 0)
            target = np.where(valid, depth, 0.0).astype(np.float32)
        else:
            target = read_checked(read_normal_file, target_path, (h, w, 3))
            valid = np.abs(target).sum(axis=-1) > 1e-3
        return RawClip(rgb[None], target[None], valid[None], rgb_path.stem)
