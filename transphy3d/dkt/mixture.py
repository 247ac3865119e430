"""Co-training mixture: which sources feed training, and the deterministic clip sampler.

Each micro-batch draws its clip length F = 4N + 1 with N ~ U{n_min..n_max} (default 0..5, the
paper's). When F = 1 the micro-batch mixes every source (image datasets and single frames of
videos) by their weights; when F > 1 it draws from video sources only, their weights
renormalised. Within a source an item is drawn uniformly among those long enough, then a first
frame uniformly.

Micro-batch ``i`` of process ``rank`` is a pure function of (seed, rank, i): resuming at a step
resumes the data stream exactly, with any number of DataLoader workers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from transphy3d.dkt.data import ClipDataset, ClipKey, DatasetSource, collate, draw_start
from transphy3d.dkt.settings import ClipSettings, FrameSettings
from transphy3d.dkt.sources import SourceSpec
from transphy3d.errors import UserError


def open_source(spec: SourceSpec, task: str, index_cache: Path | None = None) -> DatasetSource:
    """The training source of a spec (directory scans and the published tars' index cached under
    ``index_cache``)."""
    if spec.weight < 0 or not np.isfinite(spec.weight):
        raise UserError(f"weight {spec.weight} must be >= 0", path=spec.path, field="weight")
    return DatasetSource(spec.kind, spec.path, task, cache_dir=index_cache, options=spec.options)


class MixtureSampler:
    """Deterministic micro-batches of ``ClipKey``s over sources (see the module docstring)."""

    def __init__(
        self,
        sources: Sequence[Any],
        weights: Sequence[float],
        frames: FrameSettings,
        micro_batch: int = 1,
        seed: int = 0,
        rank: int = 0,
    ):
        if len(sources) != len(weights) or not sources:
            raise ValueError("one weight per source, at least one source")
        self.lengths = [list(s.lengths) for s in sources]
        self.is_video = [bool(s.is_video) for s in sources]
        self.names = [s.name for s in sources]
        self.weights = np.asarray(weights, dtype=np.float64)
        if self.weights.sum() <= 0:
            raise UserError("the mixture weights sum to 0", field="--data")
        self.frames = frames
        self.micro_batch = micro_batch
        self.seed = seed
        self.rank = rank
        longest = max(
            (max(n) for n, v, w in zip(self.lengths, self.is_video, self.weights, strict=True) if v and w > 0),
            default=1,
        )
        self.n_max = min(frames.n_max, (longest - 1) // frames.stride // 4)
        if self.n_max < frames.n_min:
            raise UserError(
                f"clips of F = {4 * frames.n_min + 1} frames (stride {frames.stride}) need a video "
                f"of at least {4 * frames.n_min * frames.stride + 1} frames; the longest weighted "
                f"video has {longest}",
                field="--frames",
            )

    def num_frames(self, rng: np.random.Generator) -> int:
        return 4 * int(rng.integers(self.frames.n_min, self.n_max + 1)) + 1

    def keys(self, index: int) -> list[ClipKey]:
        """Micro-batch ``index``: ``micro_batch`` keys of one clip length."""
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([self.seed, self.rank, index])))
        num_frames = self.num_frames(rng)
        span = (num_frames - 1) * self.frames.stride + 1
        usable = np.array(
            [
                (num_frames == 1 or video) and max(n) >= span
                for n, video in zip(self.lengths, self.is_video, strict=True)
            ]
        )
        weights = np.where(usable, self.weights, 0.0)
        keys = []
        for _ in range(self.micro_batch):
            source = int(rng.choice(len(weights), p=weights / weights.sum()))
            fitting = [i for i, n in enumerate(self.lengths[source]) if n >= span]
            item = fitting[int(rng.integers(0, len(fitting)))]
            start = draw_start(self.lengths[source][item], num_frames, self.frames.stride, rng)
            keys.append(ClipKey(source, item, int(start), num_frames, int(rng.integers(0, 2**62)), self.frames.stride))
        return keys


class BatchKeys(torch.utils.data.Sampler):
    """The sampler from micro-batch ``start`` on, as a DataLoader ``batch_sampler``."""

    def __init__(self, sampler: MixtureSampler, start: int = 0, count: int | None = None):
        self.sampler, self.start, self.count = sampler, start, count

    def __iter__(self) -> Iterator[list[ClipKey]]:
        stop = None if self.count is None else self.start + self.count
        index = self.start
        while stop is None or index < stop:
            yield self.sampler.keys(index)
            index += 1

    def __len__(self) -> int:
        if self.count is None:
            raise TypeError("an endless batch sampler has no length")
        return self.count


def make_loader(
    dataset: ClipDataset,
    sampler: MixtureSampler,
    start: int = 0,
    count: int | None = None,
    num_workers: int = 0,
) -> torch.utils.data.DataLoader:
    """A DataLoader of collated micro-batches ``start``, ``start + 1``, ..."""
    return torch.utils.data.DataLoader(
        dataset,
        batch_sampler=BatchKeys(sampler, start, count),
        collate_fn=collate,
        num_workers=num_workers,
        persistent_workers=False,
        prefetch_factor=2 if num_workers else None,
    )


def build_mixture(
    specs: Sequence[SourceSpec], settings: ClipSettings, index_cache: Path | None = None
) -> tuple[ClipDataset, list[float], list[str]]:
    """(dataset over the opened sources, their weights, skip messages from indexing)."""
    sources = [open_source(spec, settings.task, index_cache) for spec in specs]
    skipped = [m for s in sources for m in getattr(s, "skipped", [])]
    return ClipDataset(sources, settings), [spec.weight for spec in specs], skipped
