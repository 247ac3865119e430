"""``transphy3d.sensor.ir``: one auto-exposure for the pair (the left image's 99th percentile to
grey level 200), saturation at 255, and read noise of the asked standard deviation."""

from __future__ import annotations

import numpy as np
import pytest

from transphy3d.sensor.ir import EXPOSURE_PERCENTILE, TARGET_LEVEL, exposure_gain, ir_pair, to_grey_levels


def test_the_left_images_percentile_maps_to_the_target_level() -> None:
    left = np.linspace(0.0, 2.0, 10001)  # its 99th percentile: 1.98
    assert EXPOSURE_PERCENTILE == 99.0 and TARGET_LEVEL == 200.0
    assert exposure_gain(left) == pytest.approx(200.0 / 1.98)
    assert exposure_gain(np.zeros((4, 4))) == 0.0  # black: no gain, no division by zero


def test_grey_levels_are_rounded_and_clipped() -> None:
    radiance = np.array([[0.0, 0.1, 0.26, 1.0, 5.0]])
    levels = to_grey_levels(radiance, 100.0, 0.0, np.random.default_rng(0))
    assert levels.dtype == np.uint8 and levels.tolist() == [[0, 10, 26, 100, 255]]


def test_the_pair_shares_one_exposure_and_gets_independent_noise() -> None:
    rng = np.random.default_rng(1)
    left = np.full((200, 200), 0.5)
    left[0, :] = 1.0  # the top 0.5 % of pixels: the 99th percentile stays 0.5
    right = np.full((200, 200), 0.25)
    quiet_left, quiet_right = ir_pair(left, right, 0.0, rng)
    assert quiet_left[1:].min() == quiet_left[1:].max() == 200 and quiet_right.max() == 100  # same gain: half
    noisy_left, noisy_right = ir_pair(left, right, 3.0, rng)
    residual_left = noisy_left[1:].astype(float) - 200
    residual_right = noisy_right.astype(float) - 100
    assert residual_left.std() == pytest.approx(3.0, rel=0.05) and residual_right.std() == pytest.approx(3.0, rel=0.05)
    assert abs(np.corrcoef(residual_left.ravel(), residual_right[1:].ravel())[0, 1]) < 0.05
