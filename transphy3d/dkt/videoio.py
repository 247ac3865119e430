"""Video and frame-folder input, colour-mapped MP4 output (imageio-ffmpeg), a colour map."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from transphy3d.errors import UserError
from transphy3d.media import write_mp4 as write_mp4
from transphy3d.output import contract
from transphy3d.output.channels import RGB
from transphy3d.output.colormaps import colorize_scalar

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
DEFAULT_FPS = 15.0


def colorize(values: np.ndarray, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """uint8 RGB (..., 3) of scalar ``values`` on the project's colour map: ``lo`` dark, ``hi``
    bright (defaults: min, max)."""
    return colorize_scalar(values, lo, hi)


def read_frames(path: str | Path) -> tuple[np.ndarray, float, list[str]]:
    """(frames (T, H, W, 3) uint8, fps, frame names) of a video file, a folder of images, or a
    scene directory (its ``rgb/`` folder and ``camera.json`` fps)."""
    path = Path(path)
    if path.is_file():
        if path.suffix.lower() not in VIDEO_SUFFIXES:
            raise UserError(
                f"not a video file; allowed: {', '.join(VIDEO_SUFFIXES)} or a folder of images",
                path=str(path),
            )
        return _read_video(path)
    if not path.is_dir():
        raise UserError("no such video file or frame folder", path=str(path))
    fps = DEFAULT_FPS
    if (path / RGB).is_dir() and contract.is_scene_dir(path):
        from transphy3d.output.reader import open_scene

        fps = open_scene(path).fps
        path = path / RGB
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise UserError(f"no frames ({', '.join(IMAGE_SUFFIXES)}) in the folder", path=str(path))
    frames = []
    for file in files:
        try:
            with Image.open(file) as image:
                frames.append(np.asarray(image.convert("RGB")))
        except Exception as error:
            raise UserError(f"unreadable frame ({type(error).__name__}: {error})", path=str(file)) from error
        if frames[-1].shape != frames[0].shape:
            raise UserError(
                f"frame size {frames[-1].shape[1]}x{frames[-1].shape[0]} differs from the first "
                f"frame's {frames[0].shape[1]}x{frames[0].shape[0]}",
                path=str(file),
            )
    return np.stack(frames), fps, [f.stem for f in files]


FFMPEG_BANNER = ("ffmpeg version", "built with", "configuration:", "lib", "copyright")


def ffmpeg_reason(error: BaseException, limit: int = 200) -> str:
    """imageio-ffmpeg's error without ffmpeg's banner (version, build, libraries: kilobytes): its
    first line and ffmpeg's last line of complaint."""
    head, _, stderr = str(error).partition("=== stderr ===")
    complaints = [
        line.strip() for line in stderr.splitlines()
        if line.strip() and not line.strip().lower().startswith(FFMPEG_BANNER)
    ]  # fmt: skip
    reason = " ".join(head.split()) + (f": {complaints[-1]}" if complaints else "")
    return reason[:limit] or type(error).__name__


def _read_video(path: Path) -> tuple[np.ndarray, float, list[str]]:
    import imageio_ffmpeg

    try:
        reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
        meta = next(reader)
        width, height = meta["size"]
        frames = [np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3) for raw in reader]
    except (OSError, RuntimeError, StopIteration) as error:
        raise UserError(f"cannot decode the video ({ffmpeg_reason(error)})", path=str(path)) from None
    if not frames:
        raise UserError("the video has no frames", path=str(path))
    fps = float(meta.get("fps") or DEFAULT_FPS)
    return np.stack(frames), fps, [f"{i:06d}" for i in range(len(frames))]
