"""The simulated depth camera (``sensor:`` in a scene config, ``sensor`` in scene.yaml): its
settings, resolved from a preset (``sensor_presets``) and overrides, and the rig's geometry.

The rig is rigidly mounted on the RGB camera, every part looking the same way (OpenCV frame of
the RGB camera: x right, y down, z forward): the left IR imager ``-rgb_offset_m`` along x, the
right one ``baseline_m`` further, the emitter ``emitter_offset_m`` from the left imager. Both IR
cameras share one pinhole K (square pixels, centred), so the pair is rectified by construction.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from pydantic import Field, ValidationError, field_validator, model_validator

from transphy3d.documents import FrozenModel, StrictModel
from transphy3d.rng import stream
from transphy3d.scene.sensor_presets import DISPARITY_SEARCH, PRESETS, SensorPreset

IrSide = Literal["left", "right"]


class SensorSpec(StrictModel):
    """Every number of the simulated sensor (scene.yaml ``sensor``)."""

    preset: SensorPreset
    # the device (from the preset unless overridden)
    baseline_m: float = Field(gt=0.0, le=1.0)
    ir_hfov_deg: float = Field(gt=1.0, lt=170.0)
    projector_hfov_deg: float = Field(gt=1.0, lt=170.0)
    projector_vfov_deg: float = Field(gt=1.0, lt=170.0)
    rgb_offset_m: float = Field(ge=-1.0, le=1.0)
    emitter_offset_m: float = Field(ge=-1.0, le=1.0)
    max_depth_m: float = Field(gt=0.0)
    ideal_max_depth_m: float = Field(gt=0.0)  # far end of the ideal range (figures split there)
    disparities: int = Field(DISPARITY_SEARCH, ge=16, le=1024, multiple_of=16)
    # the simulation
    ir_width: int = Field(640, ge=32, le=4096)  # 640 x 360: a D400 depth mode, a quarter of the pixels of 1280 x 720
    ir_height: int = Field(360, ge=24, le=4096)
    samples: int = Field(8, ge=1, le=4096)  # Cycles samples per IR image (no denoising)
    ambient: float = Field(0.05, ge=0.0, le=1.0)  # world light in IR, as a share of its visible strength
    emitter_power_w: float = Field(40.0, gt=0.0, le=1e5)  # Blender watts of the projector
    dot_density: float = Field(0.2, gt=0.0, le=1.0)  # share of the pattern's pixels that are dots
    pattern_seed: int = Field(0, ge=0)  # the device's fixed dot pattern
    noise_std: float = Field(1.0, ge=0.0, le=64.0)  # read noise of the 8-bit IR images (grey levels)
    caustics: bool = True  # the pattern refracted through glass onto what lies behind (Cycles MNEE)
    block_size: int = Field(7, ge=3, le=31)  # matching window, odd
    uniqueness_ratio: int = Field(10, ge=0, le=100)  # percent
    lr_max_diff: int = Field(1, ge=0, le=64)  # left-right check, pixels
    speckle_window: int = Field(100, ge=0, le=100000)  # largest speckle removed, pixels at 1280 x 720
    speckle_range: int = Field(2, ge=0, le=64)  # disparity step within a speckle, pixels
    keep_ir: bool = False  # write ir_left/ and ir_right/ PNGs

    @model_validator(mode="before")
    @classmethod
    def _preset_ideal_range(cls, data: Any) -> Any:
        """Scenes recorded before ``ideal_max_depth_m`` existed take their preset's."""
        if isinstance(data, dict) and "ideal_max_depth_m" not in data and data.get("preset") in PRESETS:
            data = {**data, "ideal_max_depth_m": PRESETS[data["preset"]].ideal_max_depth_m}
        return data

    @model_validator(mode="after")
    def _ideal_within_range(self) -> SensorSpec:
        if self.ideal_max_depth_m > self.max_depth_m:
            raise ValueError(
                f"ideal_max_depth_m ({self.ideal_max_depth_m}) must not exceed max_depth_m ({self.max_depth_m})"
            )
        return self

    @field_validator("block_size")
    @classmethod
    def _odd(cls, value: int) -> int:
        if value % 2 == 0:
            raise ValueError(f"must be odd, got {value}")
        return value

    def focal_px(self) -> float:
        return self.ir_width / 2.0 / math.tan(math.radians(self.ir_hfov_deg) / 2.0)

    def K(self) -> np.ndarray:
        """The IR cameras' 3x3 intrinsics (pixel centres at integers, centred principal point)."""
        f = self.focal_px()
        return np.array([[f, 0.0, self.ir_width / 2 - 0.5], [0.0, f, self.ir_height / 2 - 0.5], [0.0, 0.0, 1.0]])

    def min_depth_m(self) -> float:
        """The nearest depth the disparity search reaches at this resolution."""
        return self.focal_px() * self.baseline_m / self.disparities

    def position(self, part: Literal["left", "right", "emitter"]) -> np.ndarray:
        """Where ``part`` sits in the RGB camera's frame (metres)."""
        x = -self.rgb_offset_m + {"left": 0.0, "right": self.baseline_m, "emitter": self.emitter_offset_m}[part]
        return np.array([x, 0.0, 0.0])

    def rgb_to_part(self, part: Literal["left", "right", "emitter"]) -> np.ndarray:
        """4x4 mapping points of the RGB camera's frame to ``part``'s frame (same orientation)."""
        matrix = np.eye(4)
        matrix[:3, 3] = -self.position(part)
        return matrix

    def pattern_size(self) -> tuple[int, int]:
        """(width, height) of the dot pattern: the projector's field at the IR pixels' pitch."""
        f = self.focal_px()
        half_h, half_v = (math.tan(math.radians(a) / 2) for a in (self.projector_hfov_deg, self.projector_vfov_deg))
        return max(8, round(2 * f * half_h)), max(8, round(2 * f * half_v))


def dot_pattern(spec: SensorSpec) -> np.ndarray:
    """The emitter's pseudo-random dot pattern (H, W) float32 in {0, 1}: row 0 is the top of the
    projected field. Drawn from ``pattern_seed``'s own stream, never read from disk."""
    width, height = spec.pattern_size()
    rng = stream(spec.pattern_seed, "sensor_pattern")
    return (rng.random((height, width)) < spec.dot_density).astype(np.float32)


class SensorConfig(FrozenModel):
    """``sensor:`` of a scene config: off by default; a preset and any of ``SensorSpec``'s fields."""

    enabled: bool = False
    preset: SensorPreset = "d415"
    baseline_m: float | None = None
    ir_hfov_deg: float | None = None
    projector_hfov_deg: float | None = None
    projector_vfov_deg: float | None = None
    rgb_offset_m: float | None = None
    emitter_offset_m: float | None = None
    max_depth_m: float | None = None
    ideal_max_depth_m: float | None = None
    disparities: int | None = None
    ir_width: int | None = None
    ir_height: int | None = None
    samples: int | None = None
    ambient: float | None = None
    emitter_power_w: float | None = None
    dot_density: float | None = None
    pattern_seed: int | None = None
    noise_std: float | None = None
    caustics: bool | None = None
    block_size: int | None = None
    uniqueness_ratio: int | None = None
    lr_max_diff: int | None = None
    speckle_window: int | None = None
    speckle_range: int | None = None
    keep_ir: bool = False

    @model_validator(mode="after")
    def _resolves(self) -> SensorConfig:
        try:
            resolve_sensor(self, force=True)
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            key = ".".join(str(p) for p in first["loc"])
            message = first["msg"].removeprefix("Value error, ")
            raise ValueError(f"{key}: {message} (got {first.get('input')!r})" if key else message) from None
        return self


PRESET_FIELDS = (
    "baseline_m",
    "ir_hfov_deg",
    "projector_hfov_deg",
    "projector_vfov_deg",
    "rgb_offset_m",
    "emitter_offset_m",
    "max_depth_m",
    "ideal_max_depth_m",
)


def resolve_sensor(config: SensorConfig, force: bool = False) -> SensorSpec | None:
    """The sensor of a config (None when off, unless ``force``): the preset's figures, then the
    overrides."""
    if not (config.enabled or force):
        return None
    info = PRESETS[config.preset]
    values = {name: getattr(info, name) for name in PRESET_FIELDS}
    overrides = config.model_dump(exclude={"enabled"}, exclude_none=True)
    return SensorSpec(**{**values, **overrides})
