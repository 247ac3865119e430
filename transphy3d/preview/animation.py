"""The animated preview: an H.264 MP4 through imageio-ffmpeg (the ``preview`` extra), or a
looping GIF with Pillow when imageio-ffmpeg is not installed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from transphy3d.media import write_mp4

FPS = 4.0  # 6 preview frames spread over the path: a 1.5 s loop


def write_gif(path: Path, frames: Sequence[np.ndarray], fps: float = FPS) -> Path:
    """Write (H, W, 3) uint8 frames as a looping GIF."""
    images = [Image.fromarray(np.asarray(f, dtype=np.uint8)) for f in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0)
    return path


def write_animation(out_stem: Path, frames: Sequence[np.ndarray], fps: float = FPS) -> Path:
    """``<stem>.mp4`` if imageio-ffmpeg is available, else ``<stem>.gif``; returns the path."""
    if not frames:
        raise ValueError("an animation needs at least one frame")
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        return write_gif(out_stem.with_suffix(".gif"), frames, fps)
    return write_mp4(out_stem.with_suffix(".mp4"), frames, fps)


__all__ = ["FPS", "write_animation", "write_gif", "write_mp4"]
