"""PNG reading and writing (Pillow): 8-bit sRGB colour, 8-bit grey (IR) and 16-bit instance masks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from transphy3d.errors import unreadable


def _decoded(path: str | Path, mode: str | None = None) -> np.ndarray:
    """The pixels of image ``path`` (converted to ``mode`` if given); a file Pillow cannot decode
    (truncated, not an image) is an UnreadableFileError naming it."""
    try:
        with Image.open(path) as image:
            if mode is None and image.mode not in ("I;16", "I", "L"):
                raise ValueError(f"expected a 16-bit greyscale PNG, got mode {image.mode}")
            return np.asarray(image.convert(mode) if mode else image)
    except FileNotFoundError:
        raise
    except Exception as error:  # PIL raises OSError, SyntaxError, zlib.error ... for damaged files
        raise unreadable(path, "PNG image" if mode is None else "image", error) from error


def write_mask_png(path: str | Path, mask: np.ndarray) -> None:
    """Write an instance-id image as a 16-bit greyscale PNG (values 0..65535, 0 = environment)."""
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {mask.shape}")
    if mask.size and (mask.min() < 0 or mask.max() > 65535):
        raise ValueError(f"mask values must lie in 0..65535, got {mask.min()}..{mask.max()}")
    Image.fromarray(np.ascontiguousarray(mask, dtype=np.uint16)).save(path, optimize=False, compress_level=6)


def read_mask_png(path: str | Path) -> np.ndarray:
    """A 16-bit mask PNG as a ``uint16`` array of shape (H, W)."""
    return _decoded(path).astype(np.uint16)


def write_rgb_png(path: str | Path, rgb: np.ndarray) -> None:
    """Write an (H, W, 3) ``uint8`` sRGB image."""
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"rgb must be (H, W, 3) uint8, got {rgb.shape} {rgb.dtype}")
    Image.fromarray(rgb).save(path)


def read_rgb_png(path: str | Path) -> np.ndarray:
    """A colour PNG as an (H, W, 3) ``uint8`` sRGB array (alpha dropped)."""
    return _decoded(path, "RGB")


def write_grey_png(path: str | Path, grey: np.ndarray) -> None:
    """Write an (H, W) ``uint8`` greyscale image."""
    if grey.dtype != np.uint8 or grey.ndim != 2:
        raise ValueError(f"grey image must be (H, W) uint8, got {grey.shape} {grey.dtype}")
    Image.fromarray(grey).save(path, compress_level=6)


def read_grey_png(path: str | Path) -> np.ndarray:
    """A PNG as an (H, W) ``uint8`` greyscale array."""
    return _decoded(path, "L")
