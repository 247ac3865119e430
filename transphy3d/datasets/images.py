"""Plain image folders (``images``): ``<root>/<rgb_dir>/NAME.{png,jpg,jpeg}`` paired by file stem
with ``<root>/<depth_dir>/NAME.{exr,npy,png,tif,tiff}`` and, optionally,
``<root>/<normal_dir>/NAME.{exr,npy,png}``; one sequence of independent frames (name ``.``).
Depth values times ``depth_scale`` are metres (0.001 for 16-bit millimetre PNGs); 0, negative or
non-finite values are invalid. An EXR depth is read from its ``Z`` channel, else ``Y``, ``R`` or its
only channel. Normal PNGs are RGB-encoded (n = v / 255 * 2 - 1); EXR normals use ``X, Y, Z``; both
taken as OpenCV camera-frame normals. No intrinsics are known: ``K`` is None. Files with no
partner are listed in ``skipped``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from transphy3d.datasets.decode import exr_channel, exr_vectors, read_rgb, unit_normals, valid_depth
from transphy3d.datasets.folder import FolderDataset
from transphy3d.datasets.frames import CorruptData, Frame
from transphy3d.datasets.scan import Lister, Listing
from transphy3d.errors import UserError

RGB_SUFFIXES = (".png", ".jpg", ".jpeg")
DEPTH_SUFFIXES = (".exr", ".npy", ".png", ".tif", ".tiff")
NORMAL_SUFFIXES = (".exr", ".npy", ".png")
# The folders of an image dataset unless a mixture file names others.
IMAGE_FOLDERS = {"rgb_dir": "rgb", "depth_dir": "depth", "normal_dir": "normal"}
IMAGE_OPTIONS = (*IMAGE_FOLDERS, "depth_scale")


def _read_array(path: Path, from_exr, from_image) -> np.ndarray:
    """The array of an EXR (``from_exr(path)``), NPY (no pickle) or image file (``from_image(image)``)."""
    suffix = path.suffix.lower()
    if suffix == ".exr":
        return from_exr(path)
    if suffix == ".npy":
        return np.load(path, allow_pickle=False)
    with Image.open(path) as image:
        return from_image(image)


def read_depth_file(path: Path, depth_scale: float = 1.0) -> np.ndarray:
    """Depth (H, W) float32 in metres of an EXR, NPY or 16-bit PNG/TIFF file, 0 where invalid."""
    depth = _read_array(path, lambda p: exr_channel(p, ("Z", "Y", "R")), np.asarray)
    depth = np.asarray(depth, dtype=np.float64).squeeze()
    if depth.ndim != 2:
        raise CorruptData(path, f"depth must be one channel, got shape {depth.shape}")
    return valid_depth(depth * depth_scale)


def read_normal_file(path: Path) -> np.ndarray:
    """Unit normals (H, W, 3) float32 of an EXR (X, Y, Z), NPY or RGB-encoded PNG file."""
    normal = _read_array(
        path,
        lambda p: exr_vectors(p, ("X", "Y", "Z")),
        lambda image: np.asarray(image.convert("RGB")).astype(np.float32) / 255.0 * 2.0 - 1.0,
    )
    if np.ndim(normal) != 3 or np.shape(normal)[-1] != 3:
        raise CorruptData(path, f"normals must be (H, W, 3), got shape {np.shape(normal)}")
    return unit_normals(normal, (1.0, 1.0, 1.0))


def _by_stem(names: list[str], suffixes: tuple[str, ...]) -> dict[str, str]:
    return {Path(n).stem: n for n in sorted(names) if Path(n).suffix.lower() in suffixes}


class ImageFolderDataset(FolderDataset):
    kind = "images"
    is_video = False
    LAYOUT = "rgb/ and depth/ (or normal/) folders of files with the same stems"

    def __init__(
        self,
        root: str | Path,
        cache_dir: str | Path | None = None,
        rgb_dir: str = IMAGE_FOLDERS["rgb_dir"],
        depth_dir: str = IMAGE_FOLDERS["depth_dir"],
        normal_dir: str = IMAGE_FOLDERS["normal_dir"],
        depth_scale: float = 1.0,
    ):
        self.rgb_dir, self.depth_dir, self.normal_dir = rgb_dir, depth_dir, normal_dir
        self.depth_scale = float(depth_scale)
        if not self.depth_scale > 0:
            raise UserError(f"{depth_scale}: must be > 0", path=str(root), field="depth_scale")
        for name in (rgb_dir, depth_dir, normal_dir):
            if Path(name).is_absolute() or ".." in Path(name).parts:
                raise UserError(f"{name!r}: must be a folder inside the dataset", path=str(root), field="rgb_dir")
        if not (Path(root) / rgb_dir).is_dir() or not any((Path(root) / d).is_dir() for d in (depth_dir, normal_dir)):
            raise UserError(
                f"expected {rgb_dir}/ and {depth_dir}/ (or {normal_dir}/) folders", path=str(root), field="data"
            )
        super().__init__(root, cache_dir)

    def options_key(self) -> str:
        return json.dumps([self.rgb_dir, self.depth_dir, self.normal_dir])

    def _stems(self, lister: Lister, folder: str, suffixes: tuple[str, ...]) -> dict[str, str]:
        path = self.root / folder
        return _by_stem(lister.files(path), suffixes) if path.is_dir() else {}

    def scan(self, lister: Lister) -> Listing:
        rgb = self._stems(lister, self.rgb_dir, RGB_SUFFIXES)
        if (self.root / self.depth_dir).is_dir():
            targets = self._stems(lister, self.depth_dir, DEPTH_SUFFIXES)
        else:
            targets = self._stems(lister, self.normal_dir, NORMAL_SUFFIXES)
        listing = Listing()
        listing.skipped = [
            f"{self.root / self.rgb_dir / rgb[s]}: no depth or normal partner"
            for s in sorted(rgb.keys() - targets.keys())
        ]
        listing.skipped += [f"{self.root / s}: no {self.rgb_dir} partner" for s in sorted(targets.keys() - rgb.keys())]
        listing.sequences = [(".", [rgb[s] for s in sorted(rgb.keys() & targets.keys())])]
        return listing

    def _partner(self, folder: str, stem: str, suffixes: tuple[str, ...]) -> Path | None:
        return next((p for s in suffixes if (p := self.root / folder / f"{stem}{s}").is_file()), None)

    def frame(self, sequence: str, frame_id: str) -> Frame:
        rgb = self.root / self.rgb_dir / frame_id
        stem = Path(frame_id).stem
        depth = self._partner(self.depth_dir, stem, DEPTH_SUFFIXES)
        normal = self._partner(self.normal_dir, stem, NORMAL_SUFFIXES)
        decoders = {"rgb": (rgb, lambda f: read_rgb(rgb))}
        if depth is not None:
            decoders["depth"] = (depth, lambda f: read_depth_file(depth, self.depth_scale))
        if normal is not None:
            decoders["normal"] = (normal, lambda f: read_normal_file(normal))
        return Frame(stem, decoders)
