"""The published TransPhy3D release (WebDataset tars): the reader and the ``published`` adapter.

One tar per sequence (e.g. ``train/000000_materials.000000.tar``); sample keys are
``<sequence>_<frame:08d>`` and every sample holds

- ``image.png``: 8-bit RGB;
- ``depth.png``: 16-bit, linear: depth = value / 65535 * max_depth (metres), 0 = no surface;
- ``depth.json``: ``{"max_depth": 2.37890625}`` (0 for a frame with no surface at all);
- ``normal.png``: 8-bit RGB, n = value / 255 * 2 - 1 (read as OpenCV camera-frame normals like
  ours: the release does not document its frame);
- ``metadata.json``: ``{"camera_matrices": {"extrinsics": 4x4 camera-from-world, "intrinsics":
  3x3 normalised by the image size}, "frame_id": 0, "sequence_id": "000000"}``. Normalised
  intrinsics are fx / W, fy / H, (cx + 0.5) / W, (cy + 0.5) / H with our pixel-centre convention
  (a centred lens has cx = cy = 0.5).

Reading indexes each tar once (member offsets, ``published_index``: compact arrays, cached and
memory-mapped so ranks and DataLoader workers share one copy) and then reads frames at random, so a
training clip costs its own frames only.
"""

from __future__ import annotations

import io
import json
import os
from collections import OrderedDict
from collections.abc import Iterable
from collections.abc import Sequence as SequenceOf
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image

from transphy3d.datasets.frames import CorruptData, Dataset, Frame, Sequence
from transphy3d.datasets.published_index import SAMPLE_FILES, PublishedIndex, cached_index, scan_tars
from transphy3d.errors import UserError

DEPTH_SCALE = 65535.0
OPEN_TARS = 64  # tar handles kept open per process (a release has 11,000 tars)


def decode_depth(png: bytes, max_depth: float) -> np.ndarray:
    """Metric depth (H, W) float32 of a 16-bit depth PNG; 0 = no surface."""
    with Image.open(io.BytesIO(png)) as image:
        if image.mode not in ("I;16", "I;16B", "I"):
            raise ValueError(f"depth.png must be 16-bit greyscale, got mode {image.mode}")
        values = np.asarray(image).astype(np.float64)
    return (values / DEPTH_SCALE * float(max_depth)).astype(np.float32)


def decode_normal(png: bytes) -> np.ndarray:
    """Unit normals (H, W, 3) float32 of an RGB-encoded normal PNG."""
    with Image.open(io.BytesIO(png)) as image:
        values = np.asarray(image.convert("RGB")).astype(np.float32)
    normal = values / 255.0 * 2.0 - 1.0
    norm = np.linalg.norm(normal, axis=-1, keepdims=True)
    return np.where(norm > 1e-6, normal / np.maximum(norm, 1e-6), 0.0).astype(np.float32)


def decode_rgb(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGB"))


def intrinsics_to_pixels(normalised: np.ndarray, width: int, height: int) -> np.ndarray:
    """Pixel intrinsics (our convention: top-left pixel centre at 0) of normalised ones."""
    k = np.asarray(normalised, dtype=np.float64)
    return np.array(
        [
            [k[0, 0] * width, k[0, 1] * width, k[0, 2] * width - 0.5],
            [0.0, k[1, 1] * height, k[1, 2] * height - 0.5],
            [0.0, 0.0, 1.0],
        ]
    )


def intrinsics_to_normalised(K: np.ndarray, width: int, height: int) -> np.ndarray:
    K = np.asarray(K, dtype=np.float64)
    return np.array(
        [
            [K[0, 0] / width, K[0, 1] / width, (K[0, 2] + 0.5) / width],
            [0.0, K[1, 1] / height, (K[1, 2] + 0.5) / height],
            [0.0, 0.0, 1.0],
        ]
    )


@dataclass
class PublishedFrame:
    """One decoded sample."""

    rgb: np.ndarray
    depth: np.ndarray
    normal: np.ndarray | None
    K: np.ndarray
    camera_from_world: np.ndarray
    max_depth: float


class TarReader:
    """Reads byte ranges of tars with at most ``OPEN_TARS`` handles open, per process."""

    def __init__(self, tars: SequenceOf[str]):
        self.tars = tars
        self._handles: OrderedDict[int, BinaryIO] = OrderedDict()
        self._pid = os.getpid()

    def read(self, tar: int, offset: int, size: int) -> bytes:
        if self._pid != os.getpid():  # a DataLoader worker: file handles are per process
            self._handles, self._pid = OrderedDict(), os.getpid()
        handle = self._handles.pop(tar, None)
        if handle is None:
            handle = open(self.tars[tar], "rb")  # noqa: SIM115 (kept open, closed when evicted)
            while len(self._handles) >= OPEN_TARS:
                self._handles.popitem(last=False)[1].close()
        self._handles[tar] = handle
        handle.seek(offset)
        data = handle.read(size)
        if len(data) != size:
            raise CorruptData(self.tars[tar], f"truncated member at offset {offset}")
        return data

    def __getstate__(self) -> dict:
        return {"tars": self.tars}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["tars"])


class PublishedSequence:
    """Frames of one sequence of an index (random access)."""

    def __init__(self, index: PublishedIndex, number: int, reader: TarReader):
        self.index = index
        self.number = number
        self.reader = reader
        self.sequence_id = index.sequence_ids[number]
        self.first = int(index.starts[number])

    def __len__(self) -> int:
        return int(self.index.starts[self.number + 1]) - self.first

    def read(self, position: int, with_normal: bool = True) -> PublishedFrame:
        """Sample ``position`` (0-based position in frame order)."""
        row = self.first + position
        frame_id = int(self.index.frame_ids[row])
        tars = self.index.member_tar[row]
        present = [int(t) for t in tars if t >= 0]
        where = f"{self.reader.tars[present[0]] if present else self.sequence_id}[{self.sequence_id}_{frame_id:08d}]"
        missing = [f for i, f in enumerate(SAMPLE_FILES) if tars[i] < 0 and (with_normal or f != "normal.png")]
        if missing:
            raise CorruptData(where, f"sample lacks {', '.join(missing)}")

        def member(name: str) -> bytes:
            i = SAMPLE_FILES.index(name)
            return self.reader.read(
                int(tars[i]), int(self.index.member_offset[row, i]), int(self.index.member_size[row, i])
            )

        try:
            max_depth = float(json.loads(member("depth.json"))["max_depth"])
            meta = json.loads(member("metadata.json"))
            rgb = decode_rgb(member("image.png"))
            depth = decode_depth(member("depth.png"), max_depth)
            normal = decode_normal(member("normal.png")) if with_normal else None
            cams = meta["camera_matrices"]
            h, w = rgb.shape[:2]
            K = intrinsics_to_pixels(np.asarray(cams["intrinsics"]), w, h)
            extrinsics = np.asarray(cams["extrinsics"], dtype=np.float64)
        except CorruptData:
            raise
        except Exception as error:
            raise CorruptData(where, f"unreadable ({type(error).__name__}: {error})") from error
        if depth.shape != rgb.shape[:2] or (normal is not None and normal.shape != rgb.shape):
            raise CorruptData(where, f"image {rgb.shape}, depth {depth.shape} and normal sizes differ")
        if not np.isfinite(max_depth) or max_depth < 0:
            raise CorruptData(where, f"max_depth {max_depth} must be finite and >= 0")
        return PublishedFrame(rgb, depth, normal, K, extrinsics, max_depth)


def tar_paths(path: str | Path) -> list[Path]:
    """A tar file, or every ``*.tar`` under a directory (recursively), sorted."""
    path = Path(path)
    if path.is_file():
        return [path]
    if path.is_dir():
        found = sorted(path.rglob("*.tar"))
        if found:
            return found
        raise UserError("no *.tar files (published TransPhy3D format) found", path=str(path), field="data")
    raise UserError("no such file or directory", path=str(path), field="data")


def sequences_of(index: PublishedIndex) -> list[PublishedSequence]:
    reader = TarReader(index.tars)
    return [PublishedSequence(index, i, reader) for i in range(len(index))]


def index_tars(paths: Iterable[Path], cache_dir: Path | None = None) -> tuple[list[PublishedSequence], list[str]]:
    """Sequences (sorted by id) of ``paths`` and messages for members that do not fit the format."""
    paths = list(paths)
    index, skipped = cached_index(paths, cache_dir) if cache_dir is not None else scan_tars(paths)
    return sequences_of(index), skipped


class PublishedDataset(Dataset):
    """Published tars as sequences (one per sequence id, frames in frame-id order); ``fr.id`` is
    the 8-digit frame number of the sample key. With ``cache_dir`` the index is built once and
    memory-mapped (``published_index.cached_index``). Each frame's members are read and decoded
    together on first access."""

    kind = "published"
    is_video = True

    def __init__(self, root: str | Path, cache_dir: str | Path | None = None):
        super().__init__(Path(root))
        self.published, self.skipped = index_tars(tar_paths(self.root), None if cache_dir is None else Path(cache_dir))
        if not self.published:
            raise UserError("no readable TransPhy3D samples in the tars", path=str(self.root), field="data")

    def lengths(self) -> list[int]:
        return self.published[0].index.lengths()

    def sequences(self) -> list[Sequence]:
        return [self.sequence(i) for i in range(len(self.published))]

    def sequence(self, number: int) -> Sequence:
        published = self.published[number]
        first, stop = published.first, published.first + len(published)
        ids = [f"{int(i):08d}" for i in published.index.frame_ids[first:stop]]
        positions = {frame_id: i for i, frame_id in enumerate(ids)}

        def make_frame(frame_id: str) -> Frame:
            position = positions[frame_id]
            decoded: dict[bool, PublishedFrame] = {}  # by "with normal"

            def read(with_normal: bool) -> PublishedFrame:
                if True not in decoded and (with_normal or False not in decoded):
                    decoded[with_normal] = published.read(position, with_normal=with_normal)
                return decoded[True] if True in decoded else decoded[False]

            return Frame(
                frame_id,
                {
                    "rgb": (None, lambda f: read(False).rgb),
                    "depth": (None, lambda f: read(False).depth),
                    "normal": (None, lambda f: read(True).normal),
                    "K": (None, lambda f: read(False).K),
                    "camera_from_world": (None, lambda f: read(False).camera_from_world),
                },
            )

        return Sequence(published.sequence_id, ids, make_frame, True)
