"""IR images as the imagers record them: linear radiance from Cycles to 8-bit grey levels with
one auto-exposure for the pair (both imagers share the exposure) and read noise."""

from __future__ import annotations

import numpy as np

EXPOSURE_PERCENTILE = 99.0  # the left image's percentile that auto-exposure maps to TARGET_LEVEL
TARGET_LEVEL = 200.0  # grey level (of 255); brighter specks saturate, as on the device


def exposure_gain(left: np.ndarray) -> float:
    """Grey levels per unit of radiance, from the left image (0 when it is black)."""
    level = float(np.percentile(left, EXPOSURE_PERCENTILE))
    return TARGET_LEVEL / level if level > 0 else 0.0


def to_grey_levels(radiance: np.ndarray, gain: float, noise_std: float, rng: np.random.Generator) -> np.ndarray:
    """uint8 image: ``radiance * gain`` plus Gaussian read noise of ``noise_std`` levels, clipped."""
    levels = np.asarray(radiance, dtype=np.float64) * gain
    if noise_std > 0:
        levels = levels + rng.normal(0.0, noise_std, size=levels.shape)
    return np.clip(np.rint(levels), 0, 255).astype(np.uint8)


def ir_pair(
    left: np.ndarray, right: np.ndarray, noise_std: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The 8-bit left and right IR images of one frame (one exposure, independent noise)."""
    gain = exposure_gain(left)
    return to_grey_levels(left, gain, noise_std, rng), to_grey_levels(right, gain, noise_std, rng)
