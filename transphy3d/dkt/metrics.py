"""Depth, normal and temporal-consistency metrics (numpy, float64).

Depth: the prediction is affine-invariant disparity, aligned per video by one least-squares scale
s and shift t in disparity space, min sum (s * pred + t - 1 / gt)^2, then inverted to depth. Two
protocols:

- ``official`` (default; DKT's ``transfer_pred_disp2depth``): valid pixels are pred > 0, gt > 0
  and the evaluation mask (finite ground truth, optionally a depth range such as ClearPose's
  [0.3, 1.5] m); one fit over every valid pixel of every frame; the aligned disparity is clipped
  below at 1e-3; the metrics pool the valid pixels of the whole video;
- ``legacy`` (this project's earlier one): valid = gt > 0; the aligned disparity is clamped
  below at 1 / d_max (d_max: the video's largest valid ground-truth depth), which can only lower
  the errors; the metrics are averaged over frames.

Metrics over the valid pixels of a region: AbsRel = mean(|d - d*| / d*), RMSE =
sqrt(mean((d - d*)^2)) (metres), delta_k = fraction with max(d / d*, d* / d) < k for k = 1.05,
1.10, 1.25; a dataset's figure is the mean over its videos. Regions (e.g. transparent or
reflective instances) restrict the metric pixels; the fit always uses every valid pixel.

Temporal consistency (optical-flow warping error, OPW-like), on aligned disparity: with forward
flow f_t (pixels, frame t -> t+1), the next frame is sampled bilinearly at p + f_t(p) and compared
with frame t on pixels valid in both, landing inside the image:
``opw`` = mean |D_{t+1}(p + f_t(p)) - D_t(p)| for the prediction, ``opw_gt`` the same for the
ground truth (camera motion changes disparity, so it is not 0), and ``temporal_error`` = mean
|(warped change of the prediction) - (warped change of the ground truth)|, which is 0 for a
perfect prediction. Means over pixels of all frame pairs.

``coverage``: the share of a region's ground-truth pixels that have a prediction at all (a raw
depth camera's holes; 1 for a dense model).

Normals: angular error in degrees on valid pixels: mean, median, and the fraction below 11.25,
22.5 and 30 degrees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import get_args

import numpy as np

from transphy3d.dkt.settings import Protocol

PROTOCOLS: tuple[str, ...] = get_args(Protocol)
MIN_DISPARITY = 1e-3  # the official clip of the aligned disparity
CLEARPOSE_RANGE = (0.3, 1.5)  # metres: the ClearPose evaluation's valid depth range

DELTAS = (1.05, 1.10, 1.25)
DEPTH_KEYS = ("abs_rel", "rmse", "delta_1.05", "delta_1.10", "delta_1.25")
NORMAL_KEYS = ("mean_angle", "median_angle", "within_11.25", "within_22.5", "within_30")


def fit_scale_shift(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """(s, t) minimising sum over ``mask`` of (s * pred + t - target)^2 (closed form)."""
    x = np.asarray(pred, dtype=np.float64)[mask]
    y = np.asarray(target, dtype=np.float64)[mask]
    if x.size == 0:
        raise ValueError("no pixels to fit a scale and shift on")
    xm, ym = x.mean(), y.mean()
    var = np.mean((x - xm) ** 2)
    if var <= 1e-18:  # a constant prediction: only the shift is determined
        return 0.0, float(ym)
    scale = float(np.mean((x - xm) * (y - ym)) / var)
    return scale, float(ym - scale * xm)


def align_disparity(pred_disp: np.ndarray, gt_depth: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(aligned depth, s, t): one fit per video in disparity space, see the module docstring."""
    gt_disp = np.zeros_like(gt_depth, dtype=np.float64)
    gt_disp[valid] = 1.0 / gt_depth[valid]
    s, t = fit_scale_shift(pred_disp, gt_disp, valid)
    aligned = s * np.asarray(pred_disp, dtype=np.float64) + t
    floor = 1.0 / float(gt_depth[valid].max())
    return 1.0 / np.maximum(aligned, floor), s, t


def align_official(
    pred_disp: np.ndarray, gt_depth: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(aligned depth, valid, s, t) by the official protocol: valid = pred > 0 & gt > 0 & mask, one
    fit over all valid pixels, aligned disparity clipped below at ``MIN_DISPARITY``."""
    pred = np.asarray(pred_disp, dtype=np.float64)
    valid = (pred > 0) & (gt_depth > 0) & mask
    gt_disp = np.zeros_like(pred)
    gt_disp[valid] = 1.0 / gt_depth[valid]
    s, t = fit_scale_shift(pred, gt_disp, valid)
    return 1.0 / np.maximum(s * pred + t, MIN_DISPARITY), valid, s, t


def _errors(p: np.ndarray, g: np.ndarray) -> list[float]:
    p, g = p.astype(np.float64), g.astype(np.float64)
    ratio = np.maximum(p / g, g / p)
    return [
        float(np.mean(np.abs(p - g) / g)),
        float(np.sqrt(np.mean((p - g) ** 2))),
        *(float(np.mean(ratio < k)) for k in DELTAS),
    ]


def depth_errors(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray) -> dict[str, float] | None:
    """Per-frame-averaged depth metrics over ``mask`` (frames without pixels skipped); None if empty."""
    rows = [_errors(p[m], g[m]) for p, g, m in zip(pred, gt, mask, strict=True) if m.any()]
    if not rows:
        return None
    return {k: float(v) for k, v in zip(DEPTH_KEYS, np.mean(rows, axis=0), strict=True)}


def pooled_depth_errors(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray) -> dict[str, float] | None:
    """Depth metrics over every ``mask`` pixel of the video at once; None if empty."""
    if not mask.any():
        return None
    return dict(zip(DEPTH_KEYS, _errors(pred[mask], gt[mask]), strict=True))


def bilinear_sample(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``image`` (H, W) sampled at float pixel coordinates (x = column, y = row), edge-clamped."""
    h, w = image.shape
    x = np.clip(x, 0.0, w - 1.0)
    y = np.clip(y, 0.0, h - 1.0)
    x0 = np.minimum(np.floor(x).astype(int), w - 2) if w > 1 else np.zeros_like(x, dtype=int)
    y0 = np.minimum(np.floor(y).astype(int), h - 2) if h > 1 else np.zeros_like(y, dtype=int)
    fx, fy = x - x0, y - y0
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    top = image[y0, x0] * (1 - fx) + image[y0, x1] * fx
    bottom = image[y1, x0] * (1 - fx) + image[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def warp_pairs(
    flow: np.ndarray, valid_t: np.ndarray, valid_next: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, mask): where pixels of frame t land in t+1, and which pairs count (both valid, inside)."""
    h, w = valid_t.shape
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float64)
    x = cols + flow[..., 0]
    y = rows + flow[..., 1]
    inside = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
    landing = np.zeros_like(valid_t)
    xi = np.clip(np.round(x).astype(int), 0, w - 1)
    yi = np.clip(np.round(y).astype(int), 0, h - 1)
    landing[inside] = valid_next[yi[inside], xi[inside]]
    return x, y, valid_t & inside & landing


def temporal_errors(
    pred_disp: np.ndarray,
    gt_disp: np.ndarray,
    valid: np.ndarray,
    flows: Sequence[np.ndarray | None],
    region: np.ndarray | None = None,
) -> dict[str, float] | None:
    """``opw``, ``opw_gt`` and ``temporal_error`` (module docstring); None without any flow pair."""
    diff_pred, diff_gt, err = [], [], []
    for t, flow in enumerate(flows[: len(pred_disp) - 1]):
        if flow is None:
            continue
        x, y, mask = warp_pairs(flow, valid[t], valid[t + 1])
        if region is not None:
            mask &= region[t]
        if not mask.any():
            continue
        dp = bilinear_sample(pred_disp[t + 1], x, y)[mask] - pred_disp[t][mask]
        dg = bilinear_sample(gt_disp[t + 1], x, y)[mask] - gt_disp[t][mask]
        diff_pred.append(np.abs(dp))
        diff_gt.append(np.abs(dg))
        err.append(np.abs(dp - dg))
    if not err:
        return None
    return {
        "opw": float(np.concatenate(diff_pred).mean()),
        "opw_gt": float(np.concatenate(diff_gt).mean()),
        "temporal_error": float(np.concatenate(err).mean()),
    }


def normal_errors(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray) -> dict[str, float] | None:
    """Angular errors (degrees) between unit normals (..., 3) over ``mask``."""
    if not mask.any():
        return None
    p = pred[mask].astype(np.float64)
    g = gt[mask].astype(np.float64)
    p /= np.maximum(np.linalg.norm(p, axis=-1, keepdims=True), 1e-12)
    g /= np.maximum(np.linalg.norm(g, axis=-1, keepdims=True), 1e-12)
    angle = np.degrees(np.arccos(np.clip(np.sum(p * g, axis=-1), -1.0, 1.0)))
    return {
        "mean_angle": float(angle.mean()),
        "median_angle": float(np.median(angle)),
        "within_11.25": float(np.mean(angle < 11.25)),
        "within_22.5": float(np.mean(angle < 22.5)),
        "within_30": float(np.mean(angle < 30.0)),
    }


def evaluate_depth_video(
    pred_disp: np.ndarray,
    gt_depth: np.ndarray,
    valid: np.ndarray,
    regions: Mapping[str, np.ndarray] | None = None,
    flows: Sequence[np.ndarray | None] | None = None,
    protocol: Protocol = "official",
) -> dict[str, dict[str, float] | None]:
    """Metrics of one video per region (``all`` = every valid pixel), plus ``fit`` (s, t).

    ``valid`` is the evaluation mask of the ground truth (depth > 0, finite, in range). Each
    region also gets ``coverage``: the share of its ground-truth pixels with a prediction
    (pred > 0); below 1 only for predictions with holes, such as a depth camera's raw depth."""
    gt_mask = np.asarray(valid, dtype=bool)
    predicted = np.asarray(pred_disp) > 0
    gt_regions = {"all": gt_mask, **{k: v & gt_mask for k, v in (regions or {}).items()}}
    if protocol == "official":
        aligned_depth, valid, s, t = align_official(pred_disp, gt_depth, valid)
        errors = pooled_depth_errors
    else:
        aligned_depth, s, t = align_disparity(pred_disp, gt_depth, valid)
        errors = depth_errors
    results: dict[str, dict[str, float] | None] = {"fit": {"scale": s, "shift": t}}
    all_regions = {"all": valid, **{k: v & valid for k, v in (regions or {}).items()}}
    gt_disp = np.where(valid, 1.0 / np.where(valid, gt_depth, 1.0), 0.0)
    for name, mask in all_regions.items():
        metrics = errors(aligned_depth, gt_depth, mask)
        if metrics is not None and flows is not None:
            temporal = temporal_errors(1.0 / aligned_depth, gt_disp, valid, flows, None if name == "all" else mask)
            metrics.update(temporal or {})
        if metrics is not None:
            region = gt_regions[name]
            metrics["coverage"] = float((predicted & region).sum() / max(int(region.sum()), 1))
        results[name] = metrics
    return results


def protocol_record(protocol: Protocol, depth_range: tuple[float, float] | None) -> dict:
    """What ``metrics.json`` says about how its figures were made."""
    common = {"name": protocol, "depth_range_m": list(depth_range) if depth_range else None}
    if protocol == "official":
        return {
            **common,
            "valid": "pred > 0 and gt > 0 and finite and in depth_range",
            "fit": "one least-squares scale and shift in disparity per video, over all its valid pixels",
            "aligned_disparity_min": MIN_DISPARITY,
            "pooling": "pixels pooled per video; mean over videos",
        }
    return {
        **common,
        "valid": "gt > 0 and finite and in depth_range",
        "fit": "one least-squares scale and shift in disparity per video, over all its valid pixels",
        "aligned_disparity_min": "1 / (largest valid ground-truth depth of the video)",
        "pooling": "per frame, mean over frames, then over videos",
    }


def mean_over_videos(
    videos: Sequence[Mapping[str, Mapping[str, float] | None]],
) -> dict[str, dict[str, float]]:
    """Per region and metric, the mean over the videos that have it (plus ``videos``: how many)."""
    summary: dict[str, dict[str, float]] = {}
    regions = sorted({r for v in videos for r in v if r != "fit"})
    for region in regions:
        rows = [v[region] for v in videos if v.get(region)]
        keys = sorted({k for row in rows for k in row})
        summary[region] = {k: float(np.mean([row[k] for row in rows if k in row])) for k in keys}
        summary[region]["videos"] = float(len(rows))
    return summary


def format_table(summary: Mapping[str, Mapping[str, float]]) -> str:
    """A Markdown table: one row per region; percentages for deltas and within_* figures."""
    columns = sorted(
        {k for row in summary.values() for k in row if k != "videos"},
        key=lambda k: ((DEPTH_KEYS + NORMAL_KEYS).index(k) if k in DEPTH_KEYS + NORMAL_KEYS else 99, k),
    )
    lines = ["| region | videos | " + " | ".join(columns) + " |", "|" + " --- |" * (len(columns) + 2)]
    for region, row in summary.items():
        cells = []
        for key in columns:
            value = row.get(key)
            if value is None:
                cells.append("-")
            elif key.startswith(("delta", "within")) or key in ("abs_rel", "coverage"):
                cells.append(f"{100 * value:.2f}")
            else:
                cells.append(f"{value:.4f}")
        lines.append(f"| {region} | {int(row.get('videos', 0))} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# The paper's table: (column, metric key, scale for display)
PAPER_COLUMNS = (
    ("REL", "abs_rel", 1.0),
    ("RMSE", "rmse", 1.0),
    ("δ1.05", "delta_1.05", 100.0),
    ("δ1.10", "delta_1.10", 100.0),
    ("δ1.25", "delta_1.25", 100.0),
    ("TE", "temporal_error", 1.0),
)


def paper_table(summaries: Mapping[str, Mapping[str, Mapping[str, float]]]) -> str:
    """The DKT paper's table layout: one row per subset (benchmark) and region; REL (AbsRel) and
    RMSE (metres) as fractions, the deltas in %, TE the temporal error (disparity, 1/m; "-" where
    the data has no flow). Normal figures get ``format_table`` per subset instead."""
    if not any("abs_rel" in row for summary in summaries.values() for row in summary.values()):
        return "\n\n".join(f"### {name}\n\n{format_table(summary)}" for name, summary in summaries.items())
    header = "| data | region | videos | " + " | ".join(c for c, _, _ in PAPER_COLUMNS) + " |"
    lines = [header, "|" + " --- |" * (len(PAPER_COLUMNS) + 3)]
    for name, summary in summaries.items():
        for region, row in summary.items():
            cells = ["-" if row.get(key) is None else f"{scale * row[key]:.{2 if scale > 1 else 4}f}"
                     for _, key, scale in PAPER_COLUMNS]  # fmt: skip
            lines.append(f"| {name} | {region} | {int(row.get('videos', 0))} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
