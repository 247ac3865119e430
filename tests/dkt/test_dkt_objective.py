"""Flow-matching convention, Euler schedule, latent masks and rectification losses."""

from __future__ import annotations

import pytest
import torch

from transphy3d.dkt.infer import sample_latents
from transphy3d.dkt.model import DKTConfig
from transphy3d.dkt.objective import (
    add_noise,
    euler_schedule,
    official_sigmas,
    per_clip_mse,
    rectification_losses,
    sample_sigmas,
    sample_training_sigmas,
    shift_sigma,
    single_step_x0,
    timestep_weights,
    valid_weights,
    weighted_mse,
)
from transphy3d.dkt.settings import InferenceSettings, ObjectiveSettings
from transphy3d.errors import UserError


def test_schedule_follows_wan_convention() -> None:
    sigmas, timesteps = euler_schedule(5, 5.0)
    assert sigmas[0] == pytest.approx(1.0) and sigmas[-1] == 0.0 and len(sigmas) == 6
    torch.testing.assert_close(timesteps, sigmas[:-1] * 1000)
    assert torch.all(sigmas[1:] < sigmas[:-1])
    # shift 5 moves the unshifted midpoint 0.5 to 5 * 0.5 / (1 + 4 * 0.5) = 0.8333
    assert float(shift_sigma(torch.tensor(0.5), 5.0)) == pytest.approx(5 / 6)


def test_official_sigma_grid_and_the_diffusers_option() -> None:
    # DiffSynth's FlowMatchScheduler(shift=5, sigma_min=0, extra_one_step=True), 5 steps
    sigmas, timesteps = euler_schedule(5, 5.0, "official")
    exact = [1.0, 20 / 21, 15 / 17, 10 / 13, 5 / 9, 0.0]
    torch.testing.assert_close(sigmas, torch.tensor(exact), rtol=0, atol=1e-6)
    assert [round(v, 3) for v in sigmas.tolist()] == [1.0, 0.952, 0.882, 0.769, 0.556, 0.0]
    torch.testing.assert_close(timesteps, torch.tensor(exact[:-1]) * 1000)
    old, _ = euler_schedule(5, 5.0, "diffusers")
    assert [round(v, 3) for v in old.tolist()] == [1.0, 0.938, 0.835, 0.63, 0.024, 0.0]


def test_official_training_draws_grid_points_with_gaussian_weights() -> None:
    grid = official_sigmas(1000, 5.0)[:-1]
    weights = timestep_weights(grid)
    assert len(grid) == 1000 and float(grid[0]) == 1.0 and float(grid[-1]) == pytest.approx(5 * 0.001 / 1.004)
    assert float(weights.mean()) == pytest.approx(1.0) and float(weights.min()) == 0.0
    t = grid * 1000
    y = torch.exp(-2 * ((t - 500) / 1000) ** 2)
    torch.testing.assert_close(weights, (y - y.min()) * 1000 / (y - y.min()).sum())
    assert abs(float(t[int(weights.argmax())]) - 500) < 3  # the weight peaks at t = 500
    sigmas, w = sample_training_sigmas(64, 5.0, torch.Generator().manual_seed(1))
    index = torch.randint(0, 1000, (64,), generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(sigmas, grid[index].float())
    torch.testing.assert_close(w, weights[index].float())
    sigmas, w = sample_training_sigmas(4, 5.0, torch.Generator().manual_seed(1), "continuous")
    assert torch.equal(w, torch.ones(4)) and torch.equal(
        sigmas, sample_sigmas(4, 5.0, torch.Generator().manual_seed(1))
    )
    pred, target = torch.ones(2, 1, 1, 2, 2), torch.zeros(2, 1, 1, 2, 2)
    pred[1] = 3.0
    assert per_clip_mse(pred, target).tolist() == [1.0, 9.0]


def test_noise_convention_and_exact_euler_on_straight_paths() -> None:
    g = torch.Generator().manual_seed(3)
    x0 = torch.randn(1, 4, 3, 2, 2, generator=g)
    noise = torch.randn(x0.shape, generator=g)
    assert torch.equal(add_noise(x0, noise, torch.tensor([1.0])), noise)
    assert torch.equal(add_noise(x0, noise, torch.tensor([0.0])), x0)
    x = add_noise(x0, noise, torch.tensor([0.3]))
    torch.testing.assert_close(x - 0.3 * (noise - x0), x0)  # the model predicts noise - x0

    def oracle(xt: torch.Tensor, rgb: torch.Tensor, timestep: float) -> torch.Tensor:
        return (xt - x0[:, :, : xt.shape[2]]) / (timestep / 1000.0)  # exact velocity at sigma = t / 1000

    # windows of 2 latent frames over 3: blending exact velocities keeps the result exact
    out = sample_latents(
        oracle,
        torch.zeros_like(x0),
        InferenceSettings(window=3, overlap=1, resolution=(16, 16)),
        DKTConfig(),
        torch.Generator().manual_seed(0),
    )
    torch.testing.assert_close(out, x0, atol=1e-5, rtol=1e-5)


def test_training_sigmas_are_shifted_uniforms() -> None:
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    sigmas = sample_sigmas(1000, 3.0, g1)
    u = torch.rand(1000, generator=g2, dtype=torch.float64)
    torch.testing.assert_close(sigmas, (3 * u / (1 + 2 * u)).float())
    assert float(sigmas.mean()) > 0.6  # shift > 1 favours high noise


def test_valid_weights_follow_causal_temporal_compression() -> None:
    valid = torch.zeros(1, 5, 16, 16, dtype=torch.bool)
    valid[:, 0, :8] = True  # frame 0: top half valid
    valid[:, 1:3] = True  # frames 1, 2 of latent frame 1 (frames 1..4): half of its frames
    w = valid_weights(valid, (1, 16, 2, 2, 2))
    assert w.shape == (1, 1, 2, 2, 2)
    torch.testing.assert_close(w[0, 0, 0], torch.tensor([[1.0, 1.0], [0.0, 0.0]]))
    torch.testing.assert_close(w[0, 0, 1], torch.full((2, 2), 0.5))
    pred, target = torch.ones(1, 2, 2, 2, 2), torch.zeros(1, 2, 2, 2, 2)
    pred[0, :, 0, 1] = 3.0  # error 9 where weight 0: ignored
    assert float(weighted_mse(pred, target, w)) == pytest.approx(1.0)
    assert float(weighted_mse(pred, target)) == pytest.approx((12 * 1 + 4 * 9) / 16)


def test_rectification_losses_and_single_step_readout() -> None:
    target = torch.zeros(1, 1, 2, 2, 2)
    pred = target.clone()
    pred[0, 0, 1] += 1.0  # a constant offset on frame 1: no spatial difference, temporal jump 1
    spatial, temporal = rectification_losses(pred, target)
    assert float(spatial) == 0.0 and float(temporal) == pytest.approx(1.0)
    pred2 = target.clone()
    pred2[0, 0, :, :, 1] = 2.0  # a step along W on every row: W-differences 2 vs 0
    spatial, temporal = rectification_losses(pred2, target)
    assert float(spatial) == pytest.approx(0.5 * 4.0) and float(temporal) == 0.0
    _, temporal_single = rectification_losses(pred[:, :, :1], target[:, :, :1])
    assert float(temporal_single) == 0.0
    out = torch.full((1, 1, 1, 1, 1), 2.0)
    assert float(single_step_x0(out, 1000.0)) == -2.0 and float(single_step_x0(out, 500.0)) == -1.0


def test_objective_settings_checked() -> None:
    with pytest.raises(UserError, match="--objective"):
        ObjectiveSettings(kind="diffusion")
    with pytest.raises(UserError, match="--shift"):
        ObjectiveSettings(shift=0.0)
