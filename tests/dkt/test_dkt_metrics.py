"""Metrics against hand-computed values on small arrays."""

from __future__ import annotations

import numpy as np
import pytest

from transphy3d.dkt import metrics
from transphy3d.geometry.camera import look_at
from transphy3d.geometry.flow import forward_flow


def test_scale_shift_fit_closed_form() -> None:
    # pred (0, 1, 2) against target (1, 1, 4): means 1 and 2, cov 1, var 2/3 -> s = 1.5, t = 0.5
    s, t = metrics.fit_scale_shift(np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 4.0]), np.ones(3, bool))
    assert (s, t) == pytest.approx((1.5, 0.5))
    mask = np.array([True, True, False])
    assert metrics.fit_scale_shift(np.array([1.0, 3.0, 99.0]), np.array([2.0, 6.0, 0.0]), mask) == pytest.approx(
        (2.0, 0.0)
    )
    assert metrics.fit_scale_shift(np.ones(3), np.array([1.0, 2.0, 3.0]), np.ones(3, bool)) == (0.0, 2.0)


def test_depth_metrics_by_hand() -> None:
    # one frame, 4 pixels; the last has no ground truth (0) and a wild prediction that must not count
    gt = np.array([[[1.0, 1.0, 0.25, 0.0]]])
    pred = np.array([[[0.0, 1.0, 2.0, 50.0]]])
    valid = gt > 0
    # fit in disparity: pred (0, 1, 2) vs 1 / gt = (1, 1, 4): s = 1.5, t = 0.5 -> (0.5, 2, 3.5);
    # clamped below at 1 / max gt depth = 1 -> (1, 2, 3.5) -> depth (1, 0.5, 0.285714)
    result = metrics.evaluate_depth_video(pred, gt, valid, protocol="legacy")
    assert result["fit"] == pytest.approx({"scale": 1.5, "shift": 0.5})
    d = np.array([1.0, 0.5, 1 / 3.5])
    g = np.array([1.0, 1.0, 0.25])
    expected_abs_rel = np.mean(np.abs(d - g) / g)  # (0 + 0.5 + 0.142857) / 3
    assert expected_abs_rel == pytest.approx(0.2142857, rel=1e-6)
    row = result["all"]
    assert row["abs_rel"] == pytest.approx(expected_abs_rel)
    assert row["rmse"] == pytest.approx(np.sqrt((0.0 + 0.25 + (1 / 3.5 - 0.25) ** 2) / 3))
    # ratios max(d/g, g/d) = (1, 2, 1.142857)
    assert row["delta_1.05"] == pytest.approx(1 / 3)
    assert row["delta_1.10"] == pytest.approx(1 / 3)
    assert row["delta_1.25"] == pytest.approx(2 / 3)


def test_official_protocol_by_hand() -> None:
    """DKT's transfer_pred_disp2depth: valid = pred > 0 and gt > 0 and mask; one fit over the
    video; aligned disparity clipped at 1e-3; metrics over the video's pooled pixels."""
    gt = np.array([[[1.0, 1.0, 0.25, 0.0]], [[0.5, 2.0, 1.0, 1.0]]])
    pred = np.array([[[0.0, 1.0, 2.0, 5.0]], [[1.5, 0.05, 1.0, -1.0]]])
    mask = np.ones_like(gt, bool)
    # valid: pred > 0 and gt > 0 -> (pred, gt disparity) pairs (1, 1), (2, 4), (1.5, 2), (0.05, 0.5), (1, 1)
    x = np.array([1.0, 2.0, 1.5, 0.05, 1.0])
    y = np.array([1.0, 4.0, 2.0, 0.5, 1.0])
    n, sx, sy, sxx, sxy = len(x), x.sum(), y.sum(), (x * x).sum(), (x * y).sum()
    s = (n * sxy - sx * sy) / (n * sxx - sx**2)  # the normal equations of min sum (s x + t - y)^2
    t = (sy - s * sx) / n
    assert (s, t) == pytest.approx((1.71606119, -0.20482792))
    aligned = np.maximum(s * x + t, 1e-3)  # 0.05 -> -0.119 -> clipped to 1e-3: depth 1000 m
    d, g = 1.0 / aligned, 1.0 / y
    assert d[3] == pytest.approx(1000.0)
    ratio = np.maximum(d / g, g / d)
    expected = {
        "abs_rel": np.mean(np.abs(d - g) / g),  # pooled over the video's 5 pixels, not per frame
        "rmse": np.sqrt(np.mean((d - g) ** 2)),
        "delta_1.05": np.mean(ratio < 1.05),
        "delta_1.10": np.mean(ratio < 1.10),
        "delta_1.25": np.mean(ratio < 1.25),
        "coverage": 5 / 7,  # ground-truth pixels (gt > 0) with a prediction (pred > 0)
    }
    result = metrics.evaluate_depth_video(pred, gt, mask & (gt > 0))
    assert result["fit"] == pytest.approx({"scale": s, "shift": t})
    assert result["all"] == pytest.approx(expected)
    assert result["all"]["abs_rel"] == pytest.approx(100.0143724) and result["all"]["delta_1.25"] == 0.4
    # the legacy protocol: valid = gt > 0 (pred 0 and -1 count), clamp at 1 / max gt, per-frame means
    legacy = metrics.evaluate_depth_video(pred, gt, gt > 0, protocol="legacy")
    assert legacy["all"]["abs_rel"] != pytest.approx(expected["abs_rel"])
    # a region mask (ClearPose's [0.3, 1.5] m) removes pixels from the fit and the metrics
    from transphy3d.dkt.evaluate import in_range, parse_depth_range

    assert parse_depth_range("clearpose") == (0.3, 1.5) and parse_depth_range("0.2,4") == (0.2, 4.0)
    ranged = in_range(gt, gt > 0, parse_depth_range("clearpose"))
    assert ranged.sum() == 5 and not ranged[1, 0, 1]  # 2 m and 0.25 m fall outside
    in_range_result = metrics.evaluate_depth_video(pred, gt, ranged)
    assert in_range_result["fit"] != pytest.approx(result["fit"])


def test_frames_are_averaged_and_regions_restrict_pixels() -> None:
    gt = np.array([[[1.0, 2.0]], [[4.0, 2.0]]])
    pred = 1.0 / gt  # perfect disparity up to nothing: s = 1, t = 0
    pred_depth = np.array([[[1.0, 2.0]], [[4.0, 1.0]]])  # frame 1, pixel 1: error 1 (50 %)
    errors = metrics.depth_errors(pred_depth, gt, gt > 0)
    assert errors["abs_rel"] == pytest.approx((0.0 + 0.25) / 2)  # frame means 0 and 0.25
    pooled = metrics.pooled_depth_errors(pred_depth, gt, gt > 0)
    assert pooled["abs_rel"] == pytest.approx(0.5 / 4)  # one pixel of four is 50 % off
    assert errors["rmse"] == pytest.approx((0.0 + np.sqrt(0.5)) / 2)
    region = np.array([[[True, False]], [[False, False]]])
    result = metrics.evaluate_depth_video(pred, gt, gt > 0, regions={"glass": region})
    assert result["all"]["abs_rel"] == pytest.approx(0.0, abs=1e-12)
    assert result["glass"]["delta_1.05"] == 1.0
    assert metrics.depth_errors(pred_depth, gt, np.zeros_like(gt, bool)) is None


def test_bilinear_sampling_and_flow_warped_errors() -> None:
    image = np.array([[0.0, 1.0], [2.0, 3.0]])
    assert metrics.bilinear_sample(image, np.array([0.5]), np.array([0.5]))[0] == pytest.approx(1.5)
    assert metrics.bilinear_sample(image, np.array([1.0]), np.array([0.25]))[0] == pytest.approx(1.5)
    # a ramp moving one pixel right per frame, flow +1 in x: the warped next frame equals this one
    ramp = np.tile(np.arange(6, dtype=float), (3, 1))
    pred = np.stack([ramp, ramp - 1.0])  # frame 1 is frame 0 shifted right by one column
    flow = np.zeros((3, 6, 2))
    flow[..., 0] = 1.0
    valid = np.ones_like(pred, bool)
    gt = np.stack([ramp, ramp - 1.0 + 0.5])  # the truth also brightens by 0.5
    result = metrics.temporal_errors(pred, gt, valid, [flow])
    # pairs: columns 0..4 of frame 0 land inside; pred change 0, gt change 0.5
    assert result == pytest.approx({"opw": 0.0, "opw_gt": 0.5, "temporal_error": 0.5})
    assert metrics.temporal_errors(pred, gt, valid, [None]) is None


def test_normal_errors() -> None:
    gt = np.array([[[0.0, 0.0, -1.0], [0.0, 0.0, -1.0]]])
    pred = np.array([[[0.0, 0.0, -2.0], [1.0, 0.0, 0.0]]])  # 0 and 90 degrees (prediction not unit)
    result = metrics.normal_errors(pred, gt, np.ones((1, 2), bool))
    assert result == pytest.approx(
        {"mean_angle": 45.0, "median_angle": 45.0, "within_11.25": 0.5, "within_22.5": 0.5, "within_30": 0.5}
    )


def test_summary_and_table() -> None:
    videos = [
        {"fit": {"scale": 1.0}, "all": {"abs_rel": 0.1, "delta_1.05": 0.5}, "glass": None},
        {"fit": {"scale": 2.0}, "all": {"abs_rel": 0.3, "delta_1.05": 0.7}, "glass": {"abs_rel": 0.2}},
    ]
    summary = metrics.mean_over_videos(videos)
    assert summary["all"] == pytest.approx({"abs_rel": 0.2, "delta_1.05": 0.6, "videos": 2.0})
    assert summary["glass"] == pytest.approx({"abs_rel": 0.2, "videos": 1.0})
    table = metrics.format_table(summary)
    assert "| all | 2 | 20.00 | 60.00 |" in table
    assert "| glass | 1 | 20.00 | - |" in table


def test_geometric_flow_of_a_translating_camera_and_a_moving_object() -> None:
    K = np.array([[10.0, 0, 1.5], [0, 10.0, 1.5], [0, 0, 1]])
    depth = np.full((4, 4), 2.0)
    depth[0, 0] = 0.0
    w2c = np.linalg.inv(look_at(np.array([0.0, 0.0, 2.0]), np.array([0.0, 0.0, 0.0])))
    moved = np.linalg.inv(look_at(np.array([0.1, 0.0, 2.0]), np.array([0.1, 0.0, 0.0])))
    flow = forward_flow(depth, None, K, w2c, moved)
    # the camera moves 0.1 m along its own x (world x is its right): points shift by -f * 0.1 / 2 px
    right = np.linalg.inv(w2c)[:3, 0]
    expected_u = -10.0 * 0.1 * float(right[0]) / 2.0
    np.testing.assert_allclose(flow[1:, :, 0], expected_u, atol=1e-5)
    np.testing.assert_allclose(flow[1:, :, 1], 0.0, atol=1e-5)
    assert np.all(flow[0, 0] == 0.0)  # no surface, no flow
    mask = np.zeros((4, 4), np.uint16)
    mask[2:, 2:] = 3
    motion = np.eye(4)
    motion[:3, 3] = 0.1 * right  # instance 3 moves with the camera: it stays put in the image
    flow2 = forward_flow(depth, mask, K, w2c, moved, {3: motion})
    np.testing.assert_allclose(flow2[2:, 2:], 0.0, atol=1e-5)
    np.testing.assert_allclose(flow2[1, 1, 0], expected_u, atol=1e-5)
