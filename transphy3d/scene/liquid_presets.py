"""The liquids a container can hold, as data: each type's refractive index, tint, absorption and
scattering, as distributions drawn per scene (``transphy3d.scene.liquids``) and recorded.

``density`` is the absorption coefficient in 1/m at ``color``'s complement: light crossing L metres
keeps ``exp(-density * (1 - color) * L)`` of each channel (Cycles' Volume Absorption). ``scatter``
is the share of the surface that scatters below it (subsurface) instead of transmitting: milk is
opaque-white, cloudy juice part way. Values from refractometry tables (water 1.333 at 20 C, sugar
solutions 1.34-1.36, olive oil 1.47) and by eye for the tints.
"""

from __future__ import annotations

from dataclasses import dataclass

from transphy3d.scene.distributions import ColorDist, Distribution, parse_distribution


@dataclass(frozen=True)
class LiquidPreset:
    """A liquid type: its default weight among the types and the distributions of its values."""

    weight: float
    ior: Distribution
    color: ColorDist
    density: Distribution
    scatter: Distribution


def _preset(weight: float, ior, color, density, scatter=0.0) -> LiquidPreset:
    return LiquidPreset(
        weight,
        parse_distribution(ior),
        ColorDist.model_validate(color),
        parse_distribution(density),
        parse_distribution(scatter),
    )


# type: weight, ior, color, density (1/m), scatter. The tints are set so that 6 cm of liquid
# transmits about (linear RGB, exp(-density * (1 - color) * 0.06) at the ranges' middles): juice
# (0.9, 0.45, 0.05), wine (0.05, 0.0, 0.0), oil (0.95, 0.85, 0.3), tea (0.5, 0.1, 0.0), coffee
# (0.05, 0.01, 0.0): dark liquids look dark in a bottle, as they do.
_TABLE: dict[str, tuple] = {
    "water": (4, {"uniform": [1.330, 1.336]}, {"hsv": [[0.5, 0.55], [0.0, 0.08], [1.0, 1.0]]}, {"uniform": [0.5, 3]}),
    "juice": (
        2,
        {"uniform": [1.34, 1.36]},
        {"hsv": [[0.09, 0.14], [0.9, 1.0], [0.95, 0.99]]},
        {"uniform": [30, 70]},
        {"uniform": [0, 0.5]},
    ),
    "wine": (
        2,
        {"uniform": [1.340, 1.350]},
        {"hsv": [[0.93, 0.98], [0.9, 1.0], [0.85, 0.92]]},
        {"uniform": [300, 600]},
    ),
    "milk": (1, {"uniform": [1.344, 1.350]}, {"hsv": [[0.1, 0.14], [0.02, 0.1], [0.9, 1.0]]}, 0.0, 1.0),
    "oil": (1, {"uniform": [1.465, 1.475]}, {"hsv": [[0.13, 0.16], [0.9, 1.0], [0.93, 0.98]]}, {"uniform": [12, 30]}),
    "tea": (1, {"uniform": [1.333, 1.338]}, {"hsv": [[0.08, 0.11], [0.95, 1.0], [0.8, 0.88]]}, {"uniform": [60, 120]}),
    "coffee": (
        1,
        {"uniform": [1.334, 1.340]},
        {"hsv": [[0.06, 0.08], [0.9, 0.97], [0.4, 0.6]]},
        {"uniform": [100, 300]},
    ),
}
LIQUID_PRESETS: dict[str, LiquidPreset] = {name: _preset(*row) for name, row in _TABLE.items()}
