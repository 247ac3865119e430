"""The published TransPhy3D release format (WebDataset tars): reader, training source, exporter.

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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image

from transphy3d.dkt.data import CorruptData, RawClip
from transphy3d.dkt.published_index import SAMPLE_FILES, PublishedIndex, cached_index, scan_tars
from transphy3d.errors import UserError
from transphy3d.files import atomic_path

DEPTH_SCALE = 65535.0
TAR_MTIME = 0.0  # members' modification time: a tar written again has the same bytes
OPEN_TARS = 64  # tar handles kept open per process (a release has 11,000 tars)


def decode_depth(png: bytes, max_depth: float) -> np.ndarray:
    """Metric depth (H, W) float32 of a 16-bit depth PNG; 0 = no surface."""
    with Image.open(io.BytesIO(png)) as image:
        if image.mode not in ("I;16", "I;16B", "I"):
            raise ValueError(f"depth.png must be 16-bit greyscale, got mode {image.mode}")
        values = np.asarray(image).astype(np.float64)
    return (values / DEPTH_SCALE * float(max_depth)).astype(np.float32)


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


def decode_normal(png: bytes) -> np.ndarray:
    """Unit normals (H, W, 3) float32 of an RGB-encoded normal PNG."""
    with Image.open(io.BytesIO(png)) as image:
        values = np.asarray(image.convert("RGB")).astype(np.float32)
    normal = values / 255.0 * 2.0 - 1.0
    norm = np.linalg.norm(normal, axis=-1, keepdims=True)
    return np.where(norm > 1e-6, normal / np.maximum(norm, 1e-6), 0.0).astype(np.float32)


def encode_normal(normal: np.ndarray) -> bytes:
    values = np.round((np.clip(np.nan_to_num(normal), -1.0, 1.0) + 1.0) / 2.0 * 255.0).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(values).save(buffer, format="PNG")
    return buffer.getvalue()


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

    def __init__(self, tars: Sequence[str]):
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


class PublishedSource:
    """Training source over published tars: one item per sequence (a video). With ``cache_dir``
    the index is built once and memory-mapped (``published_index.cached_index``)."""

    is_video = True

    def __init__(self, path: str | Path, task: str = "depth", name: str | None = None, cache_dir: Path | None = None):
        self.task = task
        self.name = name or Path(path).name
        self.sequences, self.skipped = index_tars(tar_paths(path), cache_dir)
        if not self.sequences:
            raise UserError("no readable TransPhy3D samples in the tars", path=str(path), field="data")
        self.lengths = self.sequences[0].index.lengths()

    def load(self, item: int, frames: Sequence[int]) -> RawClip:
        sequence = self.sequences[item]
        decoded = [sequence.read(i, with_normal=self.task == "normal") for i in frames]
        shapes = {f.rgb.shape for f in decoded}
        if len(shapes) != 1:
            raise CorruptData(sequence.sequence_id, f"frames differ in size: {sorted(shapes)}")
        valid = np.stack([np.isfinite(f.depth) & (f.depth > 0) for f in decoded])
        if self.task == "depth":
            target = np.stack([f.depth for f in decoded])
        else:
            target = np.stack([f.normal for f in decoded]) * valid[..., None]
        return RawClip(np.stack([f.rgb for f in decoded]), target.astype(np.float32), valid, sequence.sequence_id)


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
