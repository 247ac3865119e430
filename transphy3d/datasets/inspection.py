"""What a dataset decodes to, before a long run: per source the sequences, frames, resolutions,
depth range, share of invalid depth and of transparent pixels (over frames taken evenly through
the dataset), and a contact sheet (rgb | depth | transparent mask) of a few of them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from transphy3d.datasets.frames import Dataset, Frame

SHEET_HEIGHT = 160  # pixels per contact-sheet row


@dataclass
class DatasetFigures:
    """The figures ``datasets inspect`` prints for one source."""

    spec: str
    kind: str
    sequences: int
    frames: int
    frames_read: int
    resolutions: list[str] = field(default_factory=list)
    depth_min_m: float | None = None
    depth_max_m: float | None = None
    invalid_share: float | None = None
    transparent_share: float | None = None  # None: the dataset has no transparent label
    has: dict[str, bool] = field(default_factory=dict)
    skipped: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def evenly(dataset: Dataset, count: int) -> list[tuple[str, Frame]]:
    """``count`` frames spread evenly over the dataset's frames (first and last included)."""
    sequences = dataset.sequences()
    total = sum(len(s) for s in sequences)
    if total == 0 or count < 1:
        return []
    wanted = sorted(set(np.linspace(0, total - 1, min(count, total)).round().astype(int).tolist()))
    out, start = [], 0
    for sequence in sequences:
        for position in (w - start for w in wanted if start <= w < start + len(sequence)):
            out.append((sequence.name, sequence.frame(position)))
        start += len(sequence)
    return out


def figures(dataset: Dataset, frames: list[tuple[str, Frame]]) -> DatasetFigures:
    """The figures of ``dataset`` over the decoded ``frames``."""
    sequences = dataset.sequences()
    result = DatasetFigures(
        spec=dataset.spec,
        kind=dataset.kind,
        sequences=len(sequences),
        frames=sum(len(s) for s in sequences),
        frames_read=len(frames),
        skipped=len(dataset.skipped),
    )
    sizes, valid_px, total_px, transparent_px, depths = set(), 0, 0, 0, []
    labelled = True
    for _, frame in frames:
        depth = frame.depth
        sizes.add(f"{depth.shape[1]}x{depth.shape[0]}")
        valid = depth > 0
        valid_px += int(valid.sum())
        total_px += depth.size
        if valid.any():
            depths += [float(depth[valid].min()), float(depth[valid].max())]
        mask = frame.transparent
        labelled = labelled and mask is not None
        transparent_px += int(mask.sum()) if mask is not None else 0
    if frames:
        first = frames[0][1]
        result.has = {name: getattr(first, name) is not None for name in ("raw_depth", "normal", "transparent", "K")}
    result.resolutions = sorted(sizes)
    if total_px:
        result.invalid_share = 1.0 - valid_px / total_px
        result.transparent_share = transparent_px / total_px if labelled else None
    if depths:
        result.depth_min_m, result.depth_max_m = min(depths), max(depths)
    return result


def depth_image(depth: np.ndarray) -> np.ndarray:
    """uint8 grey of a depth map: near bright, far dark, no depth black (per frame's own range)."""
    valid = depth > 0
    out = np.zeros(depth.shape, np.uint8)
    if valid.any():
        lo, hi = float(depth[valid].min()), float(depth[valid].max())
        scaled = 1.0 - (depth - lo) / max(hi - lo, 1e-9)
        out[valid] = np.round(40 + 215 * np.clip(scaled[valid], 0, 1)).astype(np.uint8)
    return out


def contact_sheet(frames: list[tuple[str, Frame]], path: str | Path) -> Path:
    """A PNG with one row per frame: rgb | depth | transparent mask (grey where there is no label)."""
    rows = []
    for _, frame in frames:
        rgb = frame.rgb
        h, w = rgb.shape[:2]
        grey = np.repeat(depth_image(frame.depth)[..., None], 3, axis=-1)
        mask = frame.transparent
        panel = np.full((h, w, 3), 96, np.uint8)
        if mask is not None:
            panel = np.repeat(np.where(mask, 255, 0).astype(np.uint8)[..., None], 3, axis=-1)
        row = Image.fromarray(np.concatenate([rgb, grey, panel], axis=1))
        width = max(1, round(row.width * SHEET_HEIGHT / row.height))
        rows.append(row.resize((width, SHEET_HEIGHT), Image.Resampling.NEAREST))
    sheet = Image.new("RGB", (max((r.width for r in rows), default=1), SHEET_HEIGHT * max(len(rows), 1)))
    for i, row in enumerate(rows):
        sheet.paste(row, (0, i * SHEET_HEIGHT))
    path = Path(path)
    sheet.save(path)
    return path
