"""Windowed inference: blending weights, equality with single-window inference, stitching, outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from transphy3d.cli import main
from transphy3d.dkt.infer import (
    blend_weights,
    lstsq_scale_shift,
    make_model_fn,
    pad_frames,
    sample_latents,
    stitch_aligned,
    tiler_spans,
    tiler_weights,
    window_spans,
)
from transphy3d.dkt.model import DKTConfig, load_dkt_transformer, load_prompt_embeds
from transphy3d.dkt.settings import InferenceSettings
from transphy3d.dkt.videoio import read_frames, write_mp4
from transphy3d.errors import UserError
from transphy3d.output.exr import read_exr
from transphy3d.output.png import write_rgb_png


def test_window_spans_and_exact_ramps() -> None:
    assert window_spans(21, 21, 3) == [(0, 21)]
    assert window_spans(10, 21, 3) == [(0, 10)]
    assert window_spans(39, 21, 3) == [(0, 21), (18, 39)]
    assert window_spans(70, 21, 3) == [(0, 21), (18, 39), (36, 57), (49, 70)]
    # pulling the last window back to 19 would make three windows share frames 19, 20
    assert window_spans(40, 21, 3) == [(0, 21), (18, 39), (21, 40)]
    # video frames: starts stay multiples of 4, so every window has 4N+1 frames
    assert window_spans(161, 81, 13, multiple=4) == [(0, 81), (68, 149), (84, 161)]
    w = blend_weights(39, 21, 3)
    assert w.shape == (2, 39)
    assert torch.equal(w[0, :18], torch.ones(18, dtype=torch.float64))
    torch.testing.assert_close(w[0, 18:21], torch.tensor([0.75, 0.5, 0.25], dtype=torch.float64))
    torch.testing.assert_close(w[1, 18:21], torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64))
    assert torch.equal(w[1, 21:], torch.ones(18, dtype=torch.float64))
    assert torch.count_nonzero(w[0, 21:]) == 0 and torch.count_nonzero(w[1, :18]) == 0


@pytest.mark.parametrize(
    ("length", "window", "overlap"),
    [(39, 21, 3), (60, 21, 3), (40, 21, 3), (9, 3, 1), (100, 21, 0), (22, 21, 3), (23, 4, 2)],
)
def test_blend_weights_sum_to_one_without_seams(length: int, window: int, overlap: int) -> None:
    w = blend_weights(length, window, overlap)
    torch.testing.assert_close(w.sum(0), torch.ones(length, dtype=torch.float64))
    assert torch.all(w >= 0) and torch.all(w <= 1)
    steps = (w[:, 1:] - w[:, :-1]).abs()
    # no seam: a window's share changes by at most one ramp step between adjacent frames
    # (a hard cut, share 1 -> 0, happens only with overlap 0); at most two windows per frame
    assert float(steps.max()) <= (1.0 if overlap == 0 else 1.0 / (overlap + 1) + 1e-12)
    assert int((w > 0).sum(0).max()) <= 2
    spans = window_spans(length, window, overlap)
    assert spans[0][0] == 0 and spans[-1][1] == length
    for i, (start, stop) in enumerate(spans):
        inside = torch.zeros(length, dtype=torch.bool)
        inside[start:stop] = True
        assert torch.all(w[i, ~inside] == 0) and torch.all(w[i, inside] > 0)


def _official_tiler(outputs, length: int, window: int, overlap: int) -> torch.Tensor:
    """The official DKT blending (DiffSynth's TemporalTiler_BCTHW.run and build_1d_mask), written
    out as it is there: ``outputs(start, stop)`` is a window's (stop - start,) prediction."""
    stride = window - overlap
    value = torch.zeros(length, dtype=torch.float64)
    weight = torch.zeros(length, dtype=torch.float64)
    for t in range(0, length, stride):
        if t - stride >= 0 and t - stride + window >= length:
            continue
        t_ = min(t + window, length)
        mask = torch.ones(t_ - t, dtype=torch.float64)
        if overlap != 0:
            if t != 0:
                mask[:overlap] = (torch.arange(overlap) + 0.5) / overlap
            if t_ != length:
                mask[-overlap:] = torch.flip((torch.arange(overlap) + 0.5) / overlap, dims=(0,))
        value[t:t_] += outputs(t, t_) * mask
        weight[t:t_] += mask
    return value / weight


@pytest.mark.parametrize(
    ("length", "window", "overlap"),
    [(21, 21, 3), (10, 21, 3), (22, 21, 3), (39, 21, 3), (40, 21, 3), (70, 21, 3), (100, 21, 0), (9, 4, 2), (31, 8, 3)],
)
def test_latent_windows_blend_as_the_official_tiler(length: int, window: int, overlap: int) -> None:
    """Every window predicts something else (its own random values): the blend is the official one."""
    g = torch.Generator().manual_seed(length * 100 + window)
    table = {}

    def outputs(start: int, stop: int) -> torch.Tensor:
        if (start, stop) not in table:
            table[start, stop] = torch.rand(stop - start, generator=g, dtype=torch.float64)
        return table[start, stop]

    expected = _official_tiler(outputs, length, window, overlap)
    spans = tiler_spans(length, window, overlap)
    weights = tiler_weights(length, window, overlap)
    assert spans == list(table) and spans[-1][1] == length
    ours = torch.zeros(length, dtype=torch.float64)
    for i, (start, stop) in enumerate(spans):
        ours[start:stop] += weights[i, start:stop] * outputs(start, stop)
    torch.testing.assert_close(ours, expected)
    torch.testing.assert_close(weights.sum(0), torch.ones(length, dtype=torch.float64))
    assert tiler_spans(70, 21, 3) == [(0, 21), (18, 39), (36, 57), (54, 70)]  # the last one cut short


def test_windows_equal_single_window_for_a_frame_local_model() -> None:
    g = torch.Generator().manual_seed(0)
    rgb = torch.randn(1, 4, 11, 2, 3, generator=g)

    def frame_local(x: torch.Tensor, cond: torch.Tensor, timestep: float) -> torch.Tensor:
        return 0.3 * cond - 0.2 * x + timestep / 1000.0  # each latent frame depends on itself only

    config = DKTConfig()
    single = sample_latents(
        frame_local,
        rgb,
        InferenceSettings(window=21, resolution=(16, 16)),
        config,
        torch.Generator().manual_seed(5),
    )
    for window, overlap in ((4, 1), (6, 3), (3, 0)):
        windowed = sample_latents(
            frame_local,
            rgb,
            InferenceSettings(window=window, overlap=overlap, resolution=(16, 16)),
            config,
            torch.Generator().manual_seed(5),
        )
        torch.testing.assert_close(windowed, single, rtol=1e-6, atol=1e-6)


def test_real_model_one_window_equals_direct_sampling(tiny_base: Path, trained_run) -> None:
    result, _ = trained_run
    transformer, _, config = load_dkt_transformer(tiny_base, result.checkpoint)
    fn = make_model_fn(transformer, load_prompt_embeds(result.checkpoint))
    rgb = torch.randn(1, 16, 3, 4, 4, generator=torch.Generator().manual_seed(2))
    settings = InferenceSettings(steps=3, window=3, overlap=1, resolution=(16, 16))
    windowed = sample_latents(fn, rgb, settings, config, torch.Generator().manual_seed(9))
    x = torch.randn(rgb.shape, generator=torch.Generator().manual_seed(9))
    from transphy3d.dkt.objective import euler_schedule

    sigmas, timesteps = euler_schedule(3, settings.shift)
    for i, t in enumerate(timesteps.tolist()):
        x = x + float(sigmas[i + 1] - sigmas[i]) * fn(x, rgb, t)
    torch.testing.assert_close(windowed, x)
    # a longer video with several windows runs and gives finite latents of the right shape
    longer = torch.randn(1, 16, 7, 4, 4, generator=torch.Generator().manual_seed(3))
    out = sample_latents(fn, longer, settings, config, torch.Generator().manual_seed(9))
    assert out.shape == longer.shape and torch.isfinite(out).all()


def test_least_squares_alignment_removes_per_window_scale_and_shift() -> None:
    assert lstsq_scale_shift(2.0 * torch.arange(6.0) + 0.5, torch.arange(6.0)) == pytest.approx((0.5, -0.25))
    truth = (
        torch.linspace(0.1, 1.0, 50)[:, None, None] * torch.ones(50, 2, 2)
        + torch.rand(50, 2, 2, generator=torch.Generator().manual_seed(0)) * 0.01
    )
    affine = {0: (1.0, 0.0), 12: (2.0, 0.3), 24: (0.5, -0.1), 33: (3.0, 1.0)}

    def window_fn(start: int, stop: int) -> torch.Tensor:
        s, t = affine[start]
        return s * truth[start:stop] + t

    assert [a for a, _ in window_spans(50, 17, 5)] == [0, 12, 24, 33]
    torch.testing.assert_close(stitch_aligned(50, window_fn, 17, 5, align=True), truth, rtol=1e-4, atol=1e-5)
    unaligned = stitch_aligned(50, window_fn, 17, 5, align=False)
    assert float((unaligned - truth).abs().max()) > 0.1


def test_settings_checked() -> None:
    assert [pad_frames(n) for n in (1, 2, 5, 6, 30)] == [1, 5, 5, 9, 33]
    with pytest.raises(UserError, match="multiples of 16"):
        InferenceSettings(resolution=(830, 480))
    with pytest.raises(UserError, match="overlap"):
        InferenceSettings(window=3, overlap=2)
    with pytest.raises(UserError, match="aligned"):
        InferenceSettings(window=3, overlap=1, stitch="aligned")


def _frames(folder: Path, count: int, width: int = 40, height: int = 24) -> Path:
    folder.mkdir(parents=True)
    rows, cols = np.mgrid[0:height, 0:width]
    for t in range(count):
        image = np.stack([(cols * 6 + t) % 256, (rows * 10) % 256, np.full_like(rows, 128)], -1).astype(np.uint8)
        write_rgb_png(folder / f"frame_{t:04d}.png", image)
    return folder


def test_infer_cli_on_a_video_longer_than_one_window(tiny_base: Path, trained_run, tmp_path: Path) -> None:
    result, _ = trained_run
    frames = _frames(tmp_path / "frames", 30)  # pads to 33 frames = 9 latent frames: windows of 3
    for stitch in ("latent", "aligned"):
        out = tmp_path / f"out_{stitch}"
        window = "3" if stitch == "latent" else "4"  # aligned: 13-frame windows sharing 5 frames
        code = main(
            [
                "infer-dkt",
                str(frames),
                "--lora",
                str(result.checkpoint),
                "--base",
                str(tiny_base),
                "--out",
                str(out),
                "--resolution",
                "32x16",
                "--window",
                window,
                "--overlap",
                "1",
                "--stitch",
                stitch,
                "--steps",
                "2",
                "--fps",
                "10",
            ]
        )
        assert code == 0
        disparity = np.load(out / "disparity.npy")
        assert disparity.shape == (30, 24, 40) and disparity.dtype == np.float32
        assert np.isfinite(disparity).all()
        if stitch == "latent":  # aligned windows keep the first window's scale: may leave [0, 1]
            assert disparity.min() >= 0 and disparity.max() <= 1
        exrs = sorted((out / "disparity").glob("*.exr"))
        assert [p.stem for p in exrs] == [f"frame_{t:04d}" for t in range(30)]
        np.testing.assert_array_equal(read_exr(exrs[7])["disparity"], disparity[7])
        video, fps, _ = read_frames(out / "disparity.mp4")
        assert video.shape == (30, 24, 40, 3) and fps == pytest.approx(10.0)


def test_video_file_roundtrip_and_bad_inputs(tmp_path: Path) -> None:
    frames = np.zeros((6, 16, 20, 3), np.uint8)
    frames[:, :, :10] = 200
    write_mp4(tmp_path / "v.mp4", frames, 12.0)
    video, fps, names = read_frames(tmp_path / "v.mp4")
    assert video.shape == frames.shape and fps == pytest.approx(12.0) and len(names) == 6
    assert np.abs(video.astype(int) - frames).mean() < 3
    with pytest.raises(UserError, match="no such"):
        read_frames(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no frames"):
        read_frames(tmp_path / "empty")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(UserError, match="not a video"):
        read_frames(tmp_path / "notes.txt")


def test_eight_bit_reads_the_prediction_as_the_official_video(tiny_base: Path, trained_run, tmp_path: Path) -> None:
    from transphy3d.dkt.infer import from_eight_bit, to_eight_bit

    decoded = torch.tensor([-1.2, -1.0, 0.0, 0.999, 1.0, 1.5]).view(1, 1, 6, 1, 1).expand(1, 3, 6, 1, 1)
    frames = to_eight_bit(decoded)  # (x + 1) * 127.5, clipped, truncated as vae_output_to_image
    assert frames.shape == (6, 3, 1, 1) and frames[:, 0, 0, 0].tolist() == [0, 0, 127, 254, 255, 255]
    rgb = torch.tensor([10, 20, 36], dtype=torch.uint8).view(1, 3, 1, 1)
    assert from_eight_bit(rgb, "depth").item() == pytest.approx(22 / 255)  # channel mean / 255
    with pytest.raises(UserError, match="--stitch latent"):
        InferenceSettings(eight_bit=True, stitch="aligned")

    result, _ = trained_run
    video = _frames(tmp_path / "frames", 9)
    outputs = {}
    for flag in ([], ["--eight-bit"]):
        out = tmp_path / f"out{len(flag)}"
        args = ["infer-dkt", str(video), "--lora", str(result.checkpoint), "--base", str(tiny_base), "--out", str(out)]
        assert main([*args, "--resolution", "32x16", "--window", "3", "--overlap", "1", "--steps", "2", *flag]) == 0
        outputs[len(flag)] = np.load(out / "disparity.npy")
    eight = outputs[1]
    levels = eight * 3 * 255  # a mean of three 8-bit channels over 255
    np.testing.assert_allclose(levels, np.round(levels), atol=1e-3)
    assert not np.array_equal(eight, outputs[0])
    assert np.abs(eight - outputs[0]).max() < 4 / 255  # truncations and 8-bit resizing, nothing more
