"""Stereo matching of a rectified IR pair as an active-stereo camera does it: semi-global
matching (OpenCV's StereoSGBM) with sub-pixel refinement, a uniqueness test, a left-right
consistency check and speckle filtering; then depth = f * B / d in the left IR camera."""

from __future__ import annotations

import cv2
import numpy as np

from transphy3d.scene.sensor import SensorSpec

REFERENCE_PIXELS = 1280 * 720  # speckle_window is given at the devices' full resolution


def matcher(spec: SensorSpec) -> cv2.StereoSGBM:
    """OpenCV's semi-global matcher with the sensor's settings (P1, P2 as OpenCV's docs advise)."""
    block = spec.block_size
    scale = spec.ir_width * spec.ir_height / REFERENCE_PIXELS
    return cv2.StereoSGBM_create(
        minDisparity=0,
        numDisparities=spec.disparities,
        blockSize=block,
        P1=8 * block * block,
        P2=32 * block * block,
        disp12MaxDiff=spec.lr_max_diff,
        uniquenessRatio=spec.uniqueness_ratio,
        speckleWindowSize=max(0, round(spec.speckle_window * scale)),
        speckleRange=spec.speckle_range,
        mode=cv2.STEREO_SGBM_MODE_SGBM,
    )


def disparity(left: np.ndarray, right: np.ndarray, spec: SensorSpec) -> np.ndarray:
    """Left-image disparity in pixels (float32, sub-pixel); 0 where matching gave nothing.

    Both images are padded on the left with ``spec.disparities`` black columns first: OpenCV
    leaves its first ``numDisparities`` columns unmatched, while the device's left invalid band
    is only as wide as the actual disparity (f * B / Z, where the left imager sees what the right
    one does not)."""
    pad = spec.disparities
    padded = [np.pad(np.ascontiguousarray(image), ((0, 0), (pad, 0))) for image in (left, right)]
    raw = matcher(spec).compute(*padded)[:, pad:]
    disp = raw.astype(np.float32) / 16.0  # OpenCV's fixed point: 4 fractional bits
    return np.where(disp > 0, disp, 0.0).astype(np.float32)


def disparity_to_depth(disp: np.ndarray, spec: SensorSpec) -> np.ndarray:
    """Planar depth in the left IR camera (metres, float32); 0 for no match or beyond max_depth_m."""
    with np.errstate(divide="ignore"):
        depth = np.where(disp > 0, spec.focal_px() * spec.baseline_m / disp, 0.0)
    return np.where(depth <= spec.max_depth_m, depth, 0.0).astype(np.float32)
