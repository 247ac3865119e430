"""Training objectives on normalised latents.

Flow matching as in Wan (``flow``): sigma 1 is pure noise, ``timestep = sigma * 1000``,
x_sigma = (1 - sigma) x_0 + sigma * noise and the model predicts the velocity noise - x_0.

Sigmas as the official DKT code (DiffSynth's ``FlowMatchScheduler(shift=5, sigma_min=0,
extra_one_step=True)``): n steps evaluate at the shifted grid s(u) = shift u / (1 + (shift - 1) u)
of u = 1, 1 - 1/n, ..., 1/n, then step to 0 (5 steps, shift 5: 1.0, 0.952, 0.882, 0.769, 0.556).
Training (``official``) draws an index uniformly on the 1000-point grid of the same kind and
weights each clip's MSE by the grid's Gaussian timestep weight w(t) proportional to
exp(-2 ((t - 500) / 1000)^2) - min, normalised to mean 1 over the grid. ``continuous`` (the earlier
default) draws u ~ U(0, 1), sigma = s(u), unweighted; ``diffusers`` sampling is
``FlowMatchEulerDiscreteScheduler``'s grid (1.0, 0.938, 0.835, 0.630, 0.024 for 5 steps, shift 5).

Deterministic single step (``single_step``, DVD): the target slot gets zeros (the noise mean), the
timestep is fixed at tau (default 1000), and the clean latent is read off the output as
x_0 = -sigma_tau * output (the flow's one-step estimate from the noise mean, so the pretrained
prior starts useful); loss: MSE on x_0 plus optional latent manifold rectification terms, MSE of
spatial finite differences (H and W) and of temporal differences between latent frames.

``valid_weights`` turns a pixel validity mask into per-latent-cell weights (the fraction of
valid pixels each latent cell covers) for an optional masked loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def shift_sigma(sigma: torch.Tensor, shift: float) -> torch.Tensor:
    """Wan / SD3 timestep shift: shift s / (1 + (shift - 1) s)."""
    return shift * sigma / (1.0 + (shift - 1.0) * sigma)


TRAIN_GRID = 1000  # DiffSynth: scheduler.set_timesteps(1000, training=True)


def official_sigmas(steps: int, shift: float) -> torch.Tensor:
    """The ``steps`` shifted sigmas the official sampler evaluates at, then a final 0 (float64)."""
    grid = torch.linspace(1.0, 0.0, steps + 1, dtype=torch.float64)[:-1]
    return torch.cat([shift_sigma(grid, shift), torch.zeros(1, dtype=torch.float64)])


def timestep_weights(sigmas: torch.Tensor) -> torch.Tensor:
    """DiffSynth's training weights of a timestep grid: a Gaussian in t = 1000 sigma around 500,
    shifted to 0 at its minimum and scaled to mean 1 over the grid."""
    n = len(sigmas)
    y = torch.exp(-2.0 * ((sigmas * 1000.0 - n / 2) / n) ** 2)  # timestep = 1000 sigma
    y = y - y.min()
    return y * (n / y.sum())


def sample_sigmas(batch: int, shift: float, generator: torch.Generator) -> torch.Tensor:
    """Training sigmas (batch,), u ~ U(0, 1) shifted (``continuous``)."""
    return shift_sigma(torch.rand(batch, generator=generator, dtype=torch.float64), shift).float()


def sample_training_sigmas(
    batch: int, shift: float, generator: torch.Generator, kind: str = "official"
) -> tuple[torch.Tensor, torch.Tensor]:
    """(sigmas, loss weights), both (batch,) float32: ``official`` grid draws with their Gaussian
    weights, or ``continuous`` shifted uniforms with weight 1."""
    if kind == "continuous":
        return sample_sigmas(batch, shift, generator), torch.ones(batch)
    grid = official_sigmas(TRAIN_GRID, shift)[:-1]
    index = torch.randint(0, TRAIN_GRID, (batch,), generator=generator)
    return grid[index].float(), timestep_weights(grid)[index].float()


def add_noise(x0: torch.Tensor, noise: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    s = sigma.view(-1, *([1] * (x0.ndim - 1))).to(x0)
    return (1.0 - s) * x0 + s * noise


def euler_schedule(steps: int, shift: float, kind: str = "official") -> tuple[torch.Tensor, torch.Tensor]:
    """(sigmas with a final 0, timesteps) of the sampler: ``official`` (DKT's) or ``diffusers``'
    ``FlowMatchEulerDiscreteScheduler``."""
    if kind == "official":
        sigmas = official_sigmas(steps, shift).float()
        return sigmas, sigmas[:-1] * 1000.0
    from diffusers import FlowMatchEulerDiscreteScheduler

    scheduler = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=shift)
    scheduler.set_timesteps(steps)
    return scheduler.sigmas.float().clone(), scheduler.timesteps.float().clone()


def valid_weights(valid: torch.Tensor, latent_shape: tuple[int, ...]) -> torch.Tensor:
    """Per latent cell, the fraction of valid pixels it covers: (B, 1, F_lat, H_lat, W_lat).

    ``valid`` is (B, F, H, W). Latent frame 0 covers frame 0, frame k >= 1 covers 4k-3..4k (Wan's
    causal temporal compression); spatial cells cover (H / H_lat) x (W / W_lat) pixels.
    """
    b, f, h, w = valid.shape
    f_lat, h_lat, w_lat = latent_shape[-3:]
    v = valid.float()
    if f > 1:
        first = v[:, :1]
        rest = v[:, 1:].reshape(b, f_lat - 1, (f - 1) // (f_lat - 1), h, w).mean(dim=2)
        v = torch.cat([first, rest], dim=1)
    pooled = F.adaptive_avg_pool2d(v.reshape(b * f_lat, 1, h, w), (h_lat, w_lat))
    return pooled.reshape(b, 1, f_lat, h_lat, w_lat)


def weighted_mse(pred: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    err = (pred.float() - target.float()).square()
    if weights is None:
        return err.mean()
    weights = weights.expand_as(err)
    return (err * weights).sum() / weights.sum().clamp_min(1e-6)


def per_clip_mse(pred: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """(batch,) MSE of each clip, optionally weighted per latent cell like ``weighted_mse``."""
    return torch.stack(
        [
            weighted_mse(p[None], t[None], None if weights is None else weights[i : i + 1])
            for i, (p, t) in enumerate(zip(pred, target, strict=True))
        ]
    )


def rectification_losses(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(spatial, temporal) MSE of finite differences of latents (B, C, F, H, W); temporal 0 if F = 1."""
    pred, target = pred.float(), target.float()
    spatial = 0.5 * (
        F.mse_loss(pred.diff(dim=-1), target.diff(dim=-1)) + F.mse_loss(pred.diff(dim=-2), target.diff(dim=-2))
    )
    temporal = F.mse_loss(pred.diff(dim=2), target.diff(dim=2)) if pred.shape[2] > 1 else pred.new_zeros(())
    return spatial, temporal


def single_step_x0(output: torch.Tensor, timestep: float) -> torch.Tensor:
    """The clean latent of the single-step model's output (zeros in the target slot)."""
    return -(timestep / 1000.0) * output
