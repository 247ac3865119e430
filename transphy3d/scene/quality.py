"""Render quality presets (``render.quality``): named points of the measured time/quality front
(docs/benchmarks.md, "Render quality per second"). Each preset is the value of every render key
it governs; a render key a config sets explicitly wins over its preset."""

from __future__ import annotations

from typing import Any, Literal

Quality = Literal["draft", "default", "final"]

DEFAULT: dict[str, Any] = {
    "samples": 32,
    "adaptive_threshold": 0.01,
    "adaptive_min_samples": 0,  # 0: Cycles chooses
    "denoise": True,
    "denoise_prefilter": "FAST",
    "denoise_input_passes": "RGB_ALBEDO_NORMAL",
    "denoise_quality": "HIGH",
    "max_bounces": 16,
    "diffuse_bounces": 4,
    "glossy_bounces": 12,
    "transmission_bounces": 12,
    "transparent_bounces": 8,
    "caustics": True,
    "filter_glossy": 0.0,  # blurring glossy paths after rough bounces biases what glass refracts
    "clamp_direct": 0.0,  # 0: no clamp
    "clamp_indirect": 0.0,  # clamping darkens refracted light: glass error, not only fireflies
    "light_tree": True,
    "light_sampling_threshold": 0.01,
    "path_guiding": False,
    "animated_seed": False,
}

QUALITY_PRESETS: dict[str, dict[str, Any]] = {
    "draft": {**DEFAULT, "samples": 8},
    "default": DEFAULT,
    "final": {
        **DEFAULT,
        "samples": 128,
        "denoise_prefilter": "ACCURATE",
        "path_guiding": True,
        "max_bounces": 32,
        "glossy_bounces": 24,
        "transmission_bounces": 24,
        "transparent_bounces": 16,
    },
}


def expand_quality(overrides: dict[str, Any]) -> dict[str, Any]:
    """``--set`` overrides for a recorded scene.yaml (which holds every render key): a
    ``render.quality`` among them becomes its preset's keys; explicit render keys still win."""
    preset = QUALITY_PRESETS.get(overrides.get("render.quality"))  # a bad name fails validation later
    return overrides if preset is None else {**{f"render.{k}": v for k, v in preset.items()}, **overrides}
