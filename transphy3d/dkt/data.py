"""Training clips: sources of frames, the clip transform, and the dataset the trainer reads.

A *source* holds items (videos or single images) and loads any frames of an item as a
``RawClip`` at its own resolution: ``DatasetSource``, over any dataset ``transphy3d.datasets``
reads (our render output, the published tars, image folders, DREDS, HISS, ClearGrasp,
ClearPose); image datasets give F = 1 items. ``ClipDataset`` turns a ``ClipKey`` (source, item, first frame, F) into tensors:

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from transphy3d.datasets import CorruptData
from transphy3d.dkt.settings import ClipSettings
from transphy3d.errors import UserError

MAX_REPLACEMENTS = 8


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


class DatasetSource:
    """A training source over a ``transphy3d.datasets`` dataset (any kind): a video dataset's items
    are its sequences, an image dataset's items are its frames (F = 1 clips). Pickles as its spec
    and re-opens in the receiving process (directory scans and the published index are cached)."""

    def __init__(
        self,
        kind: str,
        path: str | Path,
        task: str = "depth",
        cache_dir: str | Path | None = None,
        options: dict[str, Any] | None = None,
        name: str | None = None,
    ):
        from transphy3d.datasets import open_dataset

        self.kind, self.path, self.task, self.cache_dir = kind, str(path), task, cache_dir
        self.options = dict(options or {})
        self.dataset = open_dataset(self.path, kind=kind, cache_dir=cache_dir, **self.options)
        self.name = name or Path(self.path).name
        self.is_video = self.dataset.is_video
        self.sequences = self.dataset.sequences()
        self.skipped = list(self.dataset.skipped)
        if not self.sequences:
            raise UserError(f"no readable sequence in this {kind} dataset", path=self.path, field="data")
        counts = np.array([len(s) for s in self.sequences], dtype=np.int64)
        if self.is_video:
            self.lengths = counts.tolist()
        else:  # one item per frame: (sequence, position) as two compact arrays
            self.item_sequence = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
            self.item_position = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(
                np.cumsum(counts) - counts, counts
            )
            self.lengths = [1] * int(counts.sum())

    def __getstate__(self) -> dict:
        return {"kind": self.kind, "path": self.path, "task": self.task, "cache_dir": self.cache_dir,
                "options": self.options, "name": self.name}  # fmt: skip

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)

    def frames_of(self, item: int, frames: Sequence[int]) -> tuple[Any, list[Any]]:
        """(sequence, its frames) of ``item``."""
        if self.is_video:
            sequence = self.sequences[item]
            return sequence, [sequence.frame(i) for i in frames]
        if list(frames) != [0]:
            raise ValueError(f"an image item has one frame; asked for frames {list(frames)}")
        sequence = self.sequences[int(self.item_sequence[item])]
        return sequence, [sequence.frame(int(self.item_position[item]))]

    def load(self, item: int, frames: Sequence[int]) -> RawClip:
        sequence, decoded = self.frames_of(item, frames)
        where = f"{self.path}/{sequence.name}"
        rgb = [f.rgb for f in decoded]
        if self.task == "depth":
            target = [f.depth for f in decoded]
            if any(t is None for t in target):
                raise CorruptData(where, "no depth for these frames")
            valid = [t > 0 for t in target]
        else:
            target = [f.normal for f in decoded]
            if any(t is None for t in target):
                raise CorruptData(where, f"no normals in this {self.kind} dataset (use it for --task depth)")
            valid = [np.abs(t).sum(axis=-1) > 0 for t in target]
        if len({r.shape for r in rgb}) != 1:
            raise CorruptData(where, f"frames differ in size: {sorted({r.shape for r in rgb})}")
        name = sequence.name if self.is_video else f"{sequence.name}/{decoded[0].id}"
        return RawClip(np.stack(rgb), np.stack(target).astype(np.float32), np.stack(valid), name)


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
