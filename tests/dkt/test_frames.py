"""``transphy3d.dkt.frames``: portrait frames turned landscape and back, normals rotated with
their pixels (checked against how a pixel step moves), and resizing as the official DKT code
does it (bicubic with antialiasing, 8-bit values truncated, not rounded)."""

from __future__ import annotations

import numpy as np
import torch

from transphy3d.dkt.frames import (
    from_landscape,
    is_portrait,
    normals_from_landscape,
    normals_to_landscape,
    resize_rgb,
    resize_values,
    to_landscape,
)


def test_portrait_means_narrower_than_tall() -> None:
    assert is_portrait(480, 270) and not is_portrait(270, 480) and not is_portrait(64, 64)


def test_frames_turn_counter_clockwise_and_back() -> None:
    frames = np.arange(2 * 4 * 3 * 2).reshape(2, 4, 3, 2)  # (T, H, W, C): portrait 4 x 3
    turned = to_landscape(frames)
    assert turned.shape == (2, 3, 4, 2) and turned.flags.c_contiguous
    assert np.array_equal(turned[1, 0, 0], frames[1, 0, 2])  # the top-right corner goes top-left
    assert np.array_equal(turned[1, 2, 0], frames[1, 0, 0])  # the top-left corner goes bottom-left
    assert np.array_equal(from_landscape(turned), frames)


def test_normals_turn_with_the_pixels() -> None:
    """A step of one pixel along +x (u) in the portrait image is, in the turned image, the step
    the turned normal (x, y) says it is."""
    image = np.zeros((1, 5, 4), np.int64)
    image[0, 2, 1], image[0, 2, 2] = 1, 2  # a step along +u from (row 2, col 1)
    image[0, 1, 1] = 3  # and one along -v (up) from the same pixel
    turned = to_landscape(image)[0]
    (r1, c1), (r2, c2), (r3, c3) = (np.argwhere(turned == k)[0] for k in (1, 2, 3))
    for step, (dr, dc) in (((1.0, 0.0), (r2 - r1, c2 - c1)), ((0.0, -1.0), (r3 - r1, c3 - c1))):
        x, y, z = normals_to_landscape(np.array([step[0], step[1], 0.5]))
        assert (x, y, z) == (dc, dr, 0.5)
    normals = np.random.default_rng(0).normal(size=(4, 5, 3))
    assert np.array_equal(normals_from_landscape(normals_to_landscape(normals)), normals)


def test_rgb_resizing_truncates_to_eight_bits() -> None:
    """As the official ``resize_frame``: values are cut, not rounded, so a constant grey comes back
    as itself where the float arithmetic lands on or above it and one level darker where it falls
    just short (here: 99 on some pixels of a grey of 100, 254 of white); black stays black."""
    for value in (0, 100, 255):
        out = resize_rgb(torch.full((1, 3, 8, 8), value, dtype=torch.uint8), 16, 12)
        assert out.shape == (1, 3, 16, 12) and out.dtype == torch.uint8
        assert int(out.max()) == value and int(out.min()) >= value - 1  # never up, at most one level down
    same = torch.zeros((1, 3, 8, 8), dtype=torch.uint8)
    assert resize_rgb(same, 8, 8) is same


def test_value_resizing_keeps_a_ramp_and_clamps_when_asked() -> None:
    ramp = torch.linspace(0.0, 1.0, 32).repeat(1, 1, 8, 1)  # (1, 1, 8, 32), constant down the rows
    half = resize_values(ramp, 8, 16, clamp=None)
    assert half.shape == (1, 1, 8, 16)
    assert torch.allclose(half[0, 0, :, 8], half[0, 0, 0, 8]) and torch.all(half[0, 0, 0].diff() > 0)
    assert abs(float(half.mean()) - 0.5) < 1e-3
    step = torch.zeros((1, 1, 8, 8))
    step[..., 4:] = 1.0
    assert float(resize_values(step, 16, 16, clamp=None).min()) < 0.0  # bicubic overshoots
    clamped = resize_values(step, 16, 16, clamp=(0.0, 1.0))
    assert float(clamped.min()) == 0.0 and float(clamped.max()) == 1.0
