"""The one MP4 writer (preview animations, the trainer's prediction videos)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from transphy3d.media import write_mp4


def _bars(n: int, height: int = 37, width: int = 50) -> list[np.ndarray]:
    """``n`` frames, frame i white in its first 10 (i + 1) columns, black elsewhere."""
    frames = []
    for i in range(n):
        frame = np.zeros((height, width, 3), dtype=np.uint8)
        frame[:, : 10 * (i + 1)] = 255
        frames.append(frame)
    return frames


def test_every_frame_is_written_and_odd_sizes_grow_by_one_edge_row(tmp_path: Path) -> None:
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    path = write_mp4(tmp_path / "a.mp4", _bars(4), fps=12.0)
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    frames = [np.frombuffer(f, dtype=np.uint8).reshape(38, 50, 3) for f in reader]
    assert meta["size"] == (50, 38) and meta["fps"] == 12.0
    assert len(frames) == 4
    # frame 2 is white up to column 30: H.264 keeps the edge within a couple of pixels
    assert frames[2][20, 25].mean() > 200 and frames[2][20, 35].mean() < 50
    assert frames[2][37, 25].mean() > 200  # the added row repeats the last one (no black seam)


def test_an_empty_video_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one frame"):
        write_mp4(tmp_path / "a.mp4", [], fps=12.0)
