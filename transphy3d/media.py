"""Video files: H.264 MP4 writing through imageio-ffmpeg (the ``preview`` and ``train`` extras)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def write_mp4(path: str | Path, frames: Sequence[np.ndarray] | np.ndarray, fps: float) -> Path:
    """Write (H, W, 3) uint8 frames as an H.264 MP4 (yuv420p). yuv420p needs even sizes: an odd
    height or width gets its last row or column repeated once."""
    import imageio_ffmpeg

    frames = [np.asarray(f, dtype=np.uint8) for f in frames]
    if not frames:
        raise ValueError("a video needs at least one frame")
    pad = ((0, frames[0].shape[0] % 2), (0, frames[0].shape[1] % 2), (0, 0))
    padded = [np.ascontiguousarray(np.pad(f, pad, mode="edge")) for f in frames]
    height, width = padded[0].shape[:2]
    writer = imageio_ffmpeg.write_frames(
        str(path), (width, height), fps=fps, codec="libx264", pix_fmt_out="yuv420p", macro_block_size=1, quality=8
    )
    writer.send(None)  # start the encoder
    for frame in padded:
        writer.send(frame)
    writer.close()
    return Path(path)
