"""The official DKT pre- and post-processing of frames, shared by inference and training.

- Portrait input (width < height) is turned landscape by a 90 degree counter-clockwise rotation
  (PIL's ``ROTATE_90``, ``np.rot90(k=1)``) and the prediction is turned back (``ROTATE_270``).
  Rotating an image moves its camera frame too: a camera-frame (OpenCV) normal (x, y, z) of the
  portrait image is (y, -x, z) in the rotated one. The official code leaves normal vectors
  untouched when it rotates back; here they are rotated with their pixels.
- Frames are stretched to the working size (no crop): bicubic with antialiasing on [0, 1] values,
  clamped and cut to 8 bits, as the official ``resize_frame``; predictions are resized back the
  same way (without the 8-bit step).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def is_portrait(height: int, width: int) -> bool:
    return width < height


def to_landscape(frames: np.ndarray) -> np.ndarray:
    """(T, H, W, ...) rotated 90 degrees counter-clockwise: (T, W, H, ...)."""
    return np.ascontiguousarray(np.rot90(frames, k=1, axes=(1, 2)))


def from_landscape(frames: np.ndarray) -> np.ndarray:
    """The inverse of ``to_landscape``."""
    return np.ascontiguousarray(np.rot90(frames, k=-1, axes=(1, 2)))


def normals_to_landscape(normals: np.ndarray) -> np.ndarray:
    """Camera-frame normals (..., 3) of a portrait image expressed in its rotated (landscape) frame."""
    return np.stack([normals[..., 1], -normals[..., 0], normals[..., 2]], axis=-1)


def normals_from_landscape(normals: np.ndarray) -> np.ndarray:
    """The inverse of ``normals_to_landscape``."""
    return np.stack([-normals[..., 1], normals[..., 0], normals[..., 2]], axis=-1)


def resize_rgb(frames: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """uint8 (N, 3, H, W) stretched to (height, width): bicubic with antialiasing on [0, 1], clamped,
    truncated to uint8 (the official ``resize_frame``)."""
    if tuple(frames.shape[-2:]) == (height, width):
        return frames
    values = frames.float() / 255.0
    resized = F.interpolate(values, size=(height, width), mode="bicubic", align_corners=False, antialias=True)
    return (resized.clamp(0.0, 1.0) * 255.0).to(torch.uint8)


def resize_values(values: torch.Tensor, height: int, width: int, clamp: tuple[float, float] | None) -> torch.Tensor:
    """Float (N, C, H, W) resized with bicubic antialiasing (the way predictions go back to the input
    size), optionally clamped."""
    if tuple(values.shape[-2:]) == (height, width):
        return values
    out = F.interpolate(values.float(), size=(height, width), mode="bicubic", align_corners=False, antialias=True)
    return out.clamp(*clamp) if clamp is not None else out
