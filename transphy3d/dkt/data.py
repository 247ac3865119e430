"""Training clips: sources of frames, the clip transform, and the dataset the trainer reads.

A *source* holds items (videos or single images) and loads any frames of an item as a
``RawClip`` at its own resolution: ``RenderSource`` (our render output, this module),
``PublishedSource`` (published TransPhy3D tars, ``published.py``), ``ImageFolderSource``
(``images.py``). ``ClipDataset`` turns a ``ClipKey`` (source, item, first frame, F) into tensors:

- as the official inference (``resize`` ``stretch``, default): portrait clips rotated to landscape
  (normal vectors with them) and stretched to the training resolution (RGB bicubic as ``frames``);
  or (``crop``) resized to cover it and cropped (a crop offset drawn from the key's seed; centred
  when the aspect ratios match); depth, normals and validity always nearest-neighbour, so no value
  is ever blended with a "no surface" 0;
- ``rgb``: (3, F, H, W) uint8 (``model_inputs`` maps it to [-1, 1] on the training device);
- ``target`` for depth, the **disparity normalisation rule**: disparity d = 1 / depth on valid
  pixels (depth > 0 and finite); over all valid pixels of the clip (every frame together)
  lo, hi = the ``percentiles`` of d (default 0 and 100: min and max); target = 2 (d - lo) /
  (hi - lo) - 1 clipped to [-1, 1], so the nearest surface is +1 and the farthest -1; pixels with
  no surface are -1 (as far as the farthest); if hi = lo every valid pixel is 0. One channel here;
  ``model_inputs`` repeats the grey value to 3 channels, as the VAE takes RGB;
- ``target`` for normals: the unit camera-frame (OpenCV) normal's x, y, z as the 3 channels,
  (0, 0, 0) where no surface;
- ``valid``: (F, H, W) bool, pixels with ground truth; the loss can weight latents by it and the
  metrics use only these pixels.

Unreadable or inconsistent frames raise ``CorruptData``; the dataset replaces such a clip by
another one drawn from the key's seed and reports each skip in the batch (``skipped``), so bad
files are counted and named, never turned into silently wrong shapes.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from transphy3d.dkt.settings import ClipSettings
from transphy3d.errors import UserError
from transphy3d.output import channels, contract, frame_files
from transphy3d.output.reader import iter_scenes

MAX_REPLACEMENTS = 8


class CorruptData(Exception):
    """A frame that cannot be read or does not match its scene (shape, channels)."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = " ".join(str(reason).split())
        super().__init__(f"{self.path}: {self.reason}")


@dataclass
class RawClip:
    """Frames of one item at the source's resolution."""

    rgb: np.ndarray  # (F, H, W, 3) uint8
    target: np.ndarray  # depth (F, H, W) float32 metres, or normals (F, H, W, 3) float32
    valid: np.ndarray  # (F, H, W) bool
    name: str = ""


@dataclass(frozen=True)
class ClipKey:
    """Which clip to load: a source, an item, the first frame, F frames, a seed for the crop."""

    source: int
    item: int
    start: int
    num_frames: int
    seed: int
    stride: int = 1

    @property
    def frames(self) -> list[int]:
        return [self.start + i * self.stride for i in range(self.num_frames)]


def check_frame(array: np.ndarray, shape: tuple[int, ...], path: Path) -> np.ndarray:
    if array.shape != shape:
        raise CorruptData(path, f"shape {array.shape}, expected {shape}")
    return array


def read_checked(reader, path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """``reader(path)``, with read failures and wrong shapes turned into ``CorruptData``."""
    if not path.is_file():
        raise CorruptData(path, "missing file")
    try:
        array = reader(path)
    except Exception as error:  # PIL, OpenEXR and zlib raise many types for a damaged file
        raise CorruptData(path, f"unreadable ({type(error).__name__}: {error})") from error
    return check_frame(array, shape, path)


class RenderSource:
    """Scenes of a render output directory (the data contract), one item per scene.

    Only each scene's path, size and frame count are kept (not its parsed camera.json), so an
    index of thousands of scenes stays small in every DataLoader worker.
    """

    is_video = True

    def __init__(self, root: str | Path, task: str = "depth", name: str | None = None):
        self.root = Path(root)
        self.task = task
        self.name = name or self.root.name
        if not self.root.is_dir():
            raise UserError("render output directory not found", path=str(self.root), field="data")
        self.paths: list[Path] = []
        self.sizes: list[tuple[int, int]] = []
        self.lengths: list[int] = []
        self.skipped: list[str] = []
        try:
            with warnings.catch_warnings(record=True) as missing:  # index lines of missing scenes
                warnings.simplefilter("always")
                scenes = list(iter_scenes(self.root))
            self.skipped += [str(w.message) for w in missing]
            for scene in scenes:
                try:
                    length, size = scene.num_frames, (scene.height, scene.width)
                except Exception as error:  # a damaged camera.json: count the scene and go on
                    self.skipped.append(f"{scene.path}: unreadable {contract.CAMERA_FILE} ({error})")
                    continue
                self.paths.append(scene.path)
                self.sizes.append(size)
                self.lengths.append(length)
        except (OSError, ValueError, KeyError) as error:  # index.jsonl naming a missing scene, bad lines
            raise UserError(f"cannot index the scenes ({error})", path=str(self.root), field="data") from error
        if not self.paths:
            raise UserError("no scene directories (scene_*/camera.json) found", path=str(self.root), field="data")

    def load(self, item: int, frames: Sequence[int]) -> RawClip:
        path = self.paths[item]
        h, w = self.sizes[item]
        rgb, target, valid = [], [], []
        for frame in frames:
            rgb.append(read_checked(frame_files.read_rgb, channels.frame_path(path, channels.RGB, frame), (h, w, 3)))
            if self.task == "depth":
                depth = read_checked(frame_files.read_depth, channels.frame_path(path, channels.DEPTH, frame), (h, w))
                target.append(depth)
                valid.append(np.isfinite(depth) & (depth > 0))
            else:
                normal = read_checked(
                    frame_files.read_normal, channels.frame_path(path, channels.NORMAL, frame), (h, w, 3)
                )
                normal = np.nan_to_num(normal)
                target.append(normal)
                valid.append(np.abs(normal).sum(axis=-1) > 0)
        return RawClip(np.stack(rgb), np.stack(target).astype(np.float32), np.stack(valid), path.name)


def normalize_disparity(
    depth: np.ndarray, valid: np.ndarray, percentiles: tuple[float, float] = (0.0, 100.0)
) -> np.ndarray:
    """Depth (metres, any shape) to disparity in [-1, 1] by the rule in the module docstring."""
    out = np.full(depth.shape, -1.0, dtype=np.float32)
    if not valid.any():
        return out
    disparity = np.zeros(depth.shape, dtype=np.float32)
    np.divide(1.0, depth, out=disparity, where=valid)
    if percentiles == (0.0, 100.0):
        lo = float(np.min(disparity, where=valid, initial=np.inf))
        hi = float(np.max(disparity, where=valid, initial=-np.inf))
    else:
        lo, hi = (float(v) for v in np.percentile(disparity[valid], percentiles))
    if hi - lo <= 1e-12 * max(abs(hi), 1.0):
        out[valid] = 0.0
        return out
    scaled = (disparity - np.float32(lo)) * np.float32(2.0 / (hi - lo)) - np.float32(1.0)
    np.clip(scaled, -1.0, 1.0, out=scaled)
    np.copyto(out, scaled, where=valid)
    return out


def cover_size(height: int, width: int, out_h: int, out_w: int) -> tuple[int, int]:
    """The smallest size with the input's aspect ratio that covers (out_h, out_w)."""
    scale = max(out_h / height, out_w / width)
    return max(out_h, math.ceil(height * scale - 1e-6)), max(out_w, math.ceil(width * scale - 1e-6))


def resize_crop(tensor: torch.Tensor, out_h: int, out_w: int, mode: str, offset: tuple[float, float]) -> torch.Tensor:
    """(N, C, H, W) resized to cover (out_h, out_w) and cropped; ``offset`` in [0, 1]^2 places the crop.
    uint8 input is resampled in float and rounded back to uint8."""
    h, w = tensor.shape[-2:]
    rh, rw = cover_size(h, w, out_h, out_w)
    if (rh, rw) != (h, w):
        dtype = tensor.dtype
        resized = tensor.float()
        if mode == "bilinear":
            resized = F.interpolate(resized, size=(rh, rw), mode="bilinear", align_corners=False, antialias=True)
        else:
            resized = F.interpolate(resized, size=(rh, rw), mode="nearest-exact")
        tensor = resized.round().clamp(0, 255).to(dtype) if dtype == torch.uint8 else resized.to(dtype)
    top = round(offset[0] * (rh - out_h))
    left = round(offset[1] * (rw - out_w))
    return tensor[..., top : top + out_h, left : left + out_w]


def transform_clip(raw: RawClip, settings: ClipSettings, seed: int) -> dict[str, torch.Tensor]:
    """Tensors of one clip at the training resolution (see the module docstring), kept compact for
    the trip from DataLoader workers: ``rgb`` uint8 (3, F, H, W), ``target`` (1, F, H, W) disparity
    or (3, F, H, W) normals, ``valid`` (F, H, W). ``model_inputs`` makes the model's tensors."""
    from transphy3d.dkt.frames import is_portrait, normals_to_landscape, resize_rgb, to_landscape

    h, w = settings.height, settings.width
    rgb_frames, target_frames, valid_frames = raw.rgb, raw.target, raw.valid
    if settings.resize == "stretch":
        if is_portrait(*raw.rgb.shape[1:3]):
            rgb_frames, valid_frames = to_landscape(rgb_frames), to_landscape(valid_frames)
            target_frames = to_landscape(target_frames)
            if settings.task == "normal":
                target_frames = normals_to_landscape(target_frames)

        def place(tensor: torch.Tensor, mode: str) -> torch.Tensor:
            if mode == "bilinear":
                return resize_rgb(tensor, h, w)
            if tuple(tensor.shape[-2:]) == (h, w):
                return tensor
            return F.interpolate(tensor.float(), size=(h, w), mode="nearest-exact").to(tensor.dtype)
    else:
        rng = np.random.Generator(np.random.PCG64(seed))
        offset = (float(rng.random()), float(rng.random())) if settings.random_crop else (0.5, 0.5)

        def place(tensor: torch.Tensor, mode: str) -> torch.Tensor:
            return resize_crop(tensor, h, w, mode, offset)

    rgb = place(torch.from_numpy(np.ascontiguousarray(rgb_frames)).permute(0, 3, 1, 2), "bilinear")
    valid = place(torch.from_numpy(np.ascontiguousarray(valid_frames))[:, None], "nearest")[:, 0]
    if settings.task == "depth":
        depth = place(torch.from_numpy(np.ascontiguousarray(target_frames))[:, None], "nearest")[:, 0].numpy()
        target = torch.from_numpy(normalize_disparity(depth, valid.numpy(), settings.percentiles))[None]
    else:
        normal = torch.from_numpy(np.ascontiguousarray(target_frames)).permute(0, 3, 1, 2)
        normal = place(normal, "nearest").clamp(-1.0, 1.0) * valid[:, None]
        target = normal.permute(1, 0, 2, 3)
    return {
        "rgb": rgb.permute(1, 0, 2, 3).contiguous(),
        "target": target.contiguous(),
        "valid": valid.contiguous(),
    }


def model_inputs(batch: dict[str, Any], device: torch.device | str) -> tuple[torch.Tensor, torch.Tensor]:
    """(RGB, target) videos (B, 3, F, H, W) in [-1, 1] on ``device`` from a collated batch
    (RGB from uint8; a one-channel disparity repeated to 3 channels, as the VAE takes RGB)."""
    rgb = batch["rgb"].to(device, non_blocking=True).float() / 127.5 - 1.0
    target = batch["target"].to(device, non_blocking=True).float()
    if target.shape[1] == 1:
        target = target.expand(-1, 3, -1, -1, -1)
    return rgb, target


def draw_start(length: int, num_frames: int, stride: int, rng: np.random.Generator) -> int | None:
    """A uniformly drawn first frame of a clip that fits in ``length`` frames, or None."""
    span = (num_frames - 1) * stride + 1
    if span > length:
        return None
    return int(rng.integers(0, length - span + 1))


@dataclass
class ClipDataset(torch.utils.data.Dataset):
    """Map-style dataset indexed by ``ClipKey`` (a sampler in ``mixture.py`` makes the keys)."""

    sources: list[Any]
    settings: ClipSettings = field(default_factory=ClipSettings)

    def __len__(self) -> int:
        return sum(len(s.lengths) for s in self.sources)

    def __getitem__(self, key: ClipKey) -> dict[str, Any]:
        skipped: list[str] = []
        for attempt in range(MAX_REPLACEMENTS + 1):
            source = self.sources[key.source]
            try:
                raw = source.load(key.item, key.frames)
            except CorruptData as error:
                skipped.append(str(error))
                key = self.replacement(key, attempt)
                continue
            sample = transform_clip(raw, self.settings, key.seed)
            sample["key"] = key
            sample["name"] = f"{source.name}/{raw.name}"
            sample["skipped"] = skipped
            return sample
        raise UserError(f"{len(skipped)} clips in a row could not be read; first: {skipped[0]}", field="data")

    def replacement(self, key: ClipKey, attempt: int) -> ClipKey:
        """Another clip of the same source and length, drawn from the key's seed."""
        rng = np.random.Generator(np.random.PCG64([key.seed, attempt + 1]))
        lengths = self.sources[key.source].lengths
        fitting = [i for i, n in enumerate(lengths) if (key.num_frames - 1) * key.stride + 1 <= n]
        item = fitting[int(rng.integers(0, len(fitting)))]
        start = draw_start(lengths[item], key.num_frames, key.stride, rng)
        return ClipKey(key.source, item, int(start), key.num_frames, int(rng.integers(0, 2**62)), key.stride)


def collate(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack clips of equal F; keep keys, names and every skip message."""
    frames = {s["rgb"].shape[1] for s in samples}
    if len(frames) != 1:
        raise ValueError(f"a batch mixes clip lengths {sorted(frames)}; the sampler must give one F per batch")
    return {
        "rgb": torch.stack([s["rgb"] for s in samples]),
        "target": torch.stack([s["target"] for s in samples]),
        "valid": torch.stack([s["valid"] for s in samples]),
        "keys": [s["key"] for s in samples],
        "names": [s["name"] for s in samples],
        "skipped": [m for s in samples for m in s["skipped"]],
    }
