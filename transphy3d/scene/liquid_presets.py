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


# type: weight, ior, color, density (1/m), scatter
_TABLE: dict[str, tuple] = {
    "water": (4, {"uniform": [1.330, 1.336]}, {"hsv": [[0.5, 0.55], [0.0, 0.08], [1.0, 1.0]]}, {"uniform": [0.5, 3]}),
    "juice": (
        2,
        {"uniform": [1.34, 1.36]},
        {"hsv": [[0.06, 0.14], [0.75, 1.0], [1, 1]]},
        {"uniform": [20, 80]},
        {"uniform": [0, 0.5]},
    ),
    "wine": (2, {"uniform": [1.340, 1.350]}, {"hsv": [[0.96, 0.995], [0.85, 1.0], [1, 1]]}, {"uniform": [60, 200]}),
    "milk": (1, {"uniform": [1.344, 1.350]}, {"hsv": [[0.1, 0.14], [0.02, 0.1], [0.9, 1.0]]}, 0.0, 1.0),
    "oil": (1, {"uniform": [1.465, 1.475]}, {"hsv": [[0.12, 0.17], [0.5, 0.9], [1, 1]]}, {"uniform": [8, 30]}),
    "tea": (1, {"uniform": [1.333, 1.338]}, {"hsv": [[0.05, 0.09], [0.7, 1.0], [1, 1]]}, {"uniform": [40, 120]}),
    "coffee": (1, {"uniform": [1.334, 1.340]}, {"hsv": [[0.05, 0.08], [0.8, 1.0], [1, 1]]}, {"uniform": [300, 900]}),
}
LIQUID_PRESETS: dict[str, LiquidPreset] = {name: _preset(*row) for name, row in _TABLE.items()}
