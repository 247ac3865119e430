"""The scene config schema (``scene_configs/*.yaml``), validated with pydantic.

Sampled values are distributions (see ``transphy3d.scene.distributions``); settings that are not
sampled (image size, samples) are plain values. Unknown keys are errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import Field, PrivateAttr, field_validator, model_validator

from transphy3d.documents import FrozenModel
from transphy3d.scene import material_params as mp
from transphy3d.scene.distributions import ColorDist, Distribution, dist, parse_distribution
from transphy3d.scene.liquid_presets import LIQUID_PRESETS
from transphy3d.scene.procedural import FAMILIES
from transphy3d.scene.quality import DEFAULT as _Q
from transphy3d.scene.quality import QUALITY_PRESETS, Quality
from transphy3d.scene.sensor import SensorConfig
from transphy3d.scene.spec import (
    BUNDLED_HDRIS,
    BundledHdri,
    DenoiseInputPasses,
    DenoisePrefilter,
    DenoiseQuality,
    Device,
    LightType,
    OptionalChannel,
    PhysicsMode,
    RestPose,
    WorldType,
)


def _d(raw: Any) -> Distribution:
    return parse_distribution(raw)


Unit = dist(ge=0.0, le=1.0)
Angle = dist(ge=-360.0, le=360.0)
# A material reference: "class" (any preset of the class, by weight) or "class/preset". Checked
# against the material library when the config is loaded.
MaterialRef = dist(strings=True)


class TabletopConfig(FrozenModel):
    size_x: dist(ge=0.3, le=5.0) = _d({"uniform": [0.9, 1.6]})
    size_y: dist(ge=0.3, le=5.0) = _d({"uniform": [0.6, 1.0]})
    height: dist(ge=0.2, le=1.5) = _d({"uniform": [0.7, 0.8]})
    thickness: dist(ge=0.01, le=0.2) = _d({"uniform": [0.03, 0.05]})
    material: MaterialRef = _d("table")


class ContainerConfig(FrozenModel):
    size_x: dist(ge=0.1, le=3.0) = _d({"uniform": [0.4, 0.6]})
    size_y: dist(ge=0.1, le=3.0) = _d({"uniform": [0.3, 0.45]})
    height: dist(ge=0.03, le=1.0) = _d({"uniform": [0.1, 0.2]})
    wall: dist(ge=0.003, le=0.1) = _d({"uniform": [0.008, 0.015]})
    material: MaterialRef = _d("container")


class RoomConfig(FrozenModel):
    probability: float = Field(0.5, ge=0.0, le=1.0)
    margin: dist(ge=0.05, le=20.0) = _d({"uniform": [0.3, 1.5]})
    height: dist(ge=0.5, le=20.0) = _d({"uniform": [2.5, 3.2]})
    material: MaterialRef = _d("wall")


# The environment's surfaces, by the role they play (whatever material class a config gives them).
Surface = Literal["floor", "table", "container", "wall"]


class SurfaceTexturesConfig(FrozenModel):
    """Users' own texture images: each surface in ``surfaces`` is, with ``probability``, covered
    with an image drawn from ``directory`` (box-projected, one tile 1/``scale`` metres) instead of
    its preset's pattern; the preset's other parameters (roughness, coat, ...) stay."""

    directory: str | None = None  # a folder of .png/.jpg/.jpeg/.exr images, relative to the config's folder
    probability: float = Field(0.5, ge=0.0, le=1.0)
    surfaces: tuple[Surface, ...] = get_args(Surface)
    scale: dist(gt=0.0, le=mp.TEXTURE_SCALE_MAX) = _d({"uniform": [0.5, 1.0]})  # image tiles per metre
    bump: dist(ge=0.0, le=1.0) = _d(mp.TEXTURE_KIND_INFO["image"].default("bump"))


class EnvironmentConfig(FrozenModel):
    type: dist(allowed=["tabletop", "container"]) = _d({"choice": ["tabletop", "container"]})
    floor_material: MaterialRef = _d("floor")
    floor_size: float = Field(30.0, gt=1.0, le=1000.0)
    tabletop: TabletopConfig = TabletopConfig()
    container: ContainerConfig = ContainerConfig()
    room: RoomConfig = RoomConfig()
    textures: SurfaceTexturesConfig = SurfaceTexturesConfig()


class LiquidConfig(FrozenModel):
    """Liquid in containers (families with a cavity): each gets a liquid with ``probability``;
    it is poured after physics if the container stands upright (``transphy3d.scene.liquids``)."""

    probability: float = Field(0.5, ge=0.0, le=1.0)
    fill: dist(ge=0.05, le=0.95) = _d({"uniform": [0.25, 0.85]})  # level: share of the inner height
    types: dist(allowed=list(LIQUID_PRESETS)) = _d(
        {"choice": list(LIQUID_PRESETS), "weights": [p.weight for p in LIQUID_PRESETS.values()]}
    )


class ObjectsConfig(FrozenModel):
    count: dist(ge=1, le=64, integer=True) = _d({"randint": [3, 8]})
    families: dist(allowed=sorted(FAMILIES)) = _d(
        {"choice": ["bottle", "wine_glass", "mug", "cup", "bowl", "plate", "vase", "flask", "superquadric"]}
    )
    family_params: dict[str, dict[str, tuple[float, float]]] = Field(default_factory=dict)
    scale: dist(ge=0.05, le=20.0) = _d({"uniform": [0.85, 1.15]})
    materials: MaterialRef = _d(
        {"choice": ["glass", "plastic", "metal", "ceramic", "diffuse"], "weights": [4, 2, 3, 1, 1]}
    )
    mesh_segments: int = Field(64, ge=8, le=512)
    drop_height: dist(ge=0.0, le=5.0) = _d({"uniform": [0.03, 0.25]})
    # upright and upside_down objects are set down (at most PLACE_HEIGHT above the support), random ones dropped
    rest_pose: dist(allowed=get_args(RestPose)) = _d(
        {"choice": ["upright", "upside_down", "random"], "weights": [6, 1, 3]}
    )
    spread: float = Field(0.6, gt=0.0, le=1.0)
    drop_area: dist(gt=0.0, le=10.0) = _d({"uniform": [0.25, 0.5]})
    density: dist(ge=10.0, le=30000.0) = _d({"uniform": [800.0, 2600.0]})
    # Static assets: each object is drawn from the asset bank with this probability (0: procedural only).
    static_fraction: float = Field(0.0, ge=0.0, le=1.0)
    asset_manifest: str | None = None  # .jsonl manifest, relative to the config file's folder
    static_size: dist(ge=0.01, le=5.0) = _d({"uniform": [0.08, 0.2]})  # largest extent, metres
    static_materials: dist(allowed=["own", "library"]) = _d("library")  # own: the asset's materials
    static_require_kept: bool = True  # only assets the VLM filter (or curation) kept
    liquid: LiquidConfig = LiquidConfig()

    @field_validator("family_params")
    @classmethod
    def _known_params(cls, value: dict[str, dict[str, tuple[float, float]]]) -> dict:
        for family, ranges in value.items():
            if family not in FAMILIES:
                raise ValueError(f"unknown family {family!r}; allowed: {', '.join(sorted(FAMILIES))}")
            params = FAMILIES[family].params
            for name, (lo, hi) in ranges.items():
                if name not in params:
                    raise ValueError(f"{family}: unknown parameter {name!r}; allowed: {', '.join(sorted(params))}")
                limit_lo, limit_hi = params[name].limits
                if not limit_lo <= lo <= hi <= limit_hi:
                    raise ValueError(
                        f"{family}.{name}: range [{lo}, {hi}] must be ordered and within [{limit_lo}, {limit_hi}]"
                    )
        return value


class PhysicsConfig(FrozenModel):
    mode: PhysicsMode = "settle"
    fps: int = Field(60, ge=10, le=1000)
    max_seconds: float = Field(8.0, gt=0.0, le=120.0)
    min_seconds: float = Field(0.5, ge=0.0, le=60.0)
    settle_linear_speed: float = Field(0.02, gt=0.0, le=1.0)
    settle_angular_speed: float = Field(0.25, gt=0.0, le=10.0)
    settle_frames: int = Field(15, ge=1, le=1000)
    substeps: int = Field(10, ge=1, le=100)
    solver_iterations: int = Field(20, ge=1, le=200)
    friction: dist(ge=0.0, le=2.0) = _d({"uniform": [0.6, 0.9]})
    restitution: dist(ge=0.0, le=1.0) = _d({"uniform": [0.0, 0.2]})
    linear_damping: float = Field(0.3, ge=0.0, le=1.0)
    angular_damping: float = Field(0.9, ge=0.0, le=1.0)
    collision_margin: float = Field(0.0005, ge=0.0, le=0.05)
    max_attempts: int = Field(4, ge=1, le=50)
    max_penetration: float = Field(0.02, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _order(self) -> PhysicsConfig:
        if self.min_seconds > self.max_seconds:
            raise ValueError(f"min_seconds {self.min_seconds} is above max_seconds {self.max_seconds}")
        return self


class WaveConfig(FrozenModel):
    amplitude: dist(ge=0.0, le=10.0) = _d(0.0)
    frequency: dist(ge=0.0, le=100.0) = _d({"uniform": [0.5, 2.0]})
    phase: dist(ge=-100.0, le=100.0) = _d({"uniform": [0.0, 6.283185307179586]})


class VisibilityConfig(FrozenModel):
    """Before rendering, ray cast the settled scene at low resolution; when the environment hides
    the objects (a bin wall, the table edge), try up to ``alternatives`` other cameras drawn from
    the same elevation, start azimuth and framing ranges."""

    min_visible_pairs: float = Field(0.95, ge=0.0, le=1.0)  # share of (object, frame) pairs seen; 0: no check
    alternatives: int = Field(8, ge=0, le=64)


class CameraConfig(FrozenModel):
    frames: int = Field(120, ge=1, le=100000)
    fps: float = Field(24.0, gt=0.0, le=1000.0)
    focal_length_mm: dist(ge=5.0, le=300.0) = _d({"uniform": [26.0, 42.0]})
    sensor_width_mm: float = Field(36.0, gt=0.0, le=100.0)
    framing: dist(ge=0.5, le=10.0) = _d({"uniform": [1.0, 1.2]})
    fill: dist(ge=0.0, le=1.0) = _d({"uniform": [0.15, 0.35]})
    elevation_deg: dist(ge=-89.0, le=89.0) = _d({"uniform": [20.0, 55.0]})
    start_azimuth_deg: Angle = _d({"uniform": [0.0, 360.0]})
    sweep_deg: dist(ge=0.0, le=3600.0) = _d({"uniform": [90.0, 240.0]})
    direction: dist(allowed=[-1, 1]) = _d({"choice": [-1, 1]})
    radius_wave: WaveConfig = WaveConfig(amplitude=_d({"uniform": [0.0, 0.12]}))
    height_wave: WaveConfig = WaveConfig(amplitude=_d({"uniform": [0.0, 0.1]}))
    look_wave: WaveConfig = WaveConfig(amplitude=_d({"uniform": [0.0, 0.15]}))
    keep_in_view_margin: float = Field(0.04, ge=0.0, lt=0.5)
    clip_near: float = Field(0.01, gt=0.0)
    clip_far: float = Field(200.0, gt=0.0)
    visibility: VisibilityConfig = VisibilityConfig()

    @model_validator(mode="after")
    def _order(self) -> CameraConfig:
        if self.clip_near >= self.clip_far:
            raise ValueError(f"clip_near {self.clip_near} must be below clip_far {self.clip_far}")
        return self


class SkyConfig(FrozenModel):
    sun_elevation_deg: dist(ge=-10.0, le=90.0) = _d({"uniform": [10.0, 70.0]})
    sun_rotation_deg: Angle = _d({"uniform": [0.0, 360.0]})
    strength: dist(ge=0.0, le=100.0) = _d({"uniform": [0.15, 0.45]})
    air_density: dist(ge=0.0, le=10.0) = _d({"uniform": [0.5, 2.0]})
    dust_density: dist(ge=0.0, le=10.0) = _d({"uniform": [0.0, 3.0]})


class GradientConfig(FrozenModel):
    horizon_color: ColorDist = ColorDist(hsv=((0.0, 1.0), (0.0, 0.3), (0.4, 1.0)))
    zenith_color: ColorDist = ColorDist(hsv=((0.0, 1.0), (0.0, 0.4), (0.1, 0.8)))
    strength: dist(ge=0.0, le=100.0) = _d({"uniform": [0.4, 1.5]})


class HdriConfig(FrozenModel):
    """The HDRIs an ``hdri`` world picks from (uniformly): Blender's bundled ones named in
    ``bundled`` and every .hdr/.exr in ``directory``."""

    bundled: tuple[BundledHdri, ...] = BUNDLED_HDRIS  # type: ignore[assignment]
    directory: str | None = None
    strength: dist(ge=0.0, le=100.0) = _d({"uniform": [0.6, 1.5]})
    rotation_deg: Angle = _d({"uniform": [0.0, 360.0]})


class LightsConfig(FrozenModel):
    count: dist(ge=0, le=32, integer=True) = _d({"randint": [1, 4]})
    type: dist(allowed=get_args(LightType)) = _d(
        {"choice": ["softbox", "panel", "spot", "point"], "weights": [4, 3, 1, 1]}
    )
    power_w: dist(ge=0.0, le=1e6) = _d({"log_uniform": [10.0, 150.0]})
    temperature_k: dist(ge=1000.0, le=20000.0) = _d({"uniform": [2700.0, 7500.0]})
    distance: dist(ge=0.1, le=100.0) = _d({"uniform": [1.0, 3.0]})
    elevation_deg: dist(ge=-89.0, le=89.0) = _d({"uniform": [25.0, 80.0]})
    size: dist(ge=0.0, le=10.0) = _d({"uniform": [0.3, 1.2]})
    aspect: dist(ge=1.0, le=10.0) = _d({"uniform": [1.0, 2.5]})  # long side / short side of softboxes and panels
    panel_height: dist(ge=0.5, le=20.0) = _d(
        {"uniform": [2.3, 3.0]}
    )  # metres above the floor (the room's ceiling when there is one)
    spot_angle_deg: dist(ge=1.0, le=180.0) = _d({"uniform": [30.0, 90.0]})


class LightingConfig(FrozenModel):
    world: dist(allowed=get_args(WorldType)) = _d({"choice": ["hdri", "sky", "gradient"], "weights": [6, 2, 2]})
    sky: SkyConfig = SkyConfig()
    gradient: GradientConfig = GradientConfig()
    hdri: HdriConfig = HdriConfig()
    lights: LightsConfig = LightsConfig()


class RenderConfig(FrozenModel):
    """Render settings. ``quality`` names a preset (transphy3d.scene.quality) that fills every
    key it governs which the config does not set itself."""

    width: int = Field(832, ge=8, le=16384)
    height: int = Field(480, ge=8, le=16384)
    quality: Quality = "default"
    samples: int = Field(_Q["samples"], ge=1, le=100000)
    adaptive_threshold: float = Field(_Q["adaptive_threshold"], ge=0.0, le=1.0)
    adaptive_min_samples: int = Field(_Q["adaptive_min_samples"], ge=0, le=100000)
    denoise: bool = _Q["denoise"]
    denoise_prefilter: DenoisePrefilter = _Q["denoise_prefilter"]
    denoise_input_passes: DenoiseInputPasses = _Q["denoise_input_passes"]
    denoise_quality: DenoiseQuality = _Q["denoise_quality"]
    max_bounces: int = Field(_Q["max_bounces"], ge=0, le=1024)
    diffuse_bounces: int = Field(_Q["diffuse_bounces"], ge=0, le=1024)
    glossy_bounces: int = Field(_Q["glossy_bounces"], ge=0, le=1024)
    transmission_bounces: int = Field(_Q["transmission_bounces"], ge=0, le=1024)
    transparent_bounces: int = Field(_Q["transparent_bounces"], ge=0, le=1024)
    caustics: bool = _Q["caustics"]
    filter_glossy: float = Field(_Q["filter_glossy"], ge=0.0, le=10.0)
    clamp_direct: float = Field(_Q["clamp_direct"], ge=0.0)  # 0: no clamp
    clamp_indirect: float = Field(_Q["clamp_indirect"], ge=0.0)
    light_tree: bool = _Q["light_tree"]
    light_sampling_threshold: float = Field(_Q["light_sampling_threshold"], ge=0.0, le=1.0)
    path_guiding: bool = _Q["path_guiding"]  # CPU only: Cycles ignores it on GPUs
    pixel_filter_width: float = Field(1.5, ge=0.01, le=10.0)
    view_transform: Literal["Standard", "AgX", "Filmic", "Khronos PBR Neutral"] = "AgX"
    device: Device = "auto"
    threads: int = Field(0, ge=0, le=1024)
    persistent_data: bool = True
    animated_seed: bool = _Q["animated_seed"]

    @model_validator(mode="before")
    @classmethod
    def _apply_quality(cls, data: Any) -> Any:
        preset = QUALITY_PRESETS.get(data.get("quality", "default")) if isinstance(data, dict) else None
        return data if preset is None else {**preset, **data}


class OutputConfig(FrozenModel):
    flow: bool = False
    exr_compression: Literal["zip", "zips", "piz", "rle", "none", "zstd", "htj2k"] = "zip"
    png_compression: int = Field(15, ge=0, le=100)
    keep_blend: bool = False
    channels: tuple[OptionalChannel, ...] = ()  # opt-in per-frame outputs (docs/format.md)


class SceneConfig(FrozenModel):
    """A scene config: what a scene may look like. With a seed it gives one SceneSpec."""

    name: str = "unnamed"
    base: str | None = None
    materials_dir: str | None = None
    environment: EnvironmentConfig = EnvironmentConfig()
    objects: ObjectsConfig = ObjectsConfig()
    physics: PhysicsConfig = PhysicsConfig()
    camera: CameraConfig = CameraConfig()
    lighting: LightingConfig = LightingConfig()
    render: RenderConfig = RenderConfig()
    output: OutputConfig = OutputConfig()
    sensor: SensorConfig = SensorConfig()  # the simulated depth camera (raw_depth/), off by default
    # The config file that set each path key (see config_loader.PATH_KEYS); not part of the digest.
    _path_origins: dict[str, Path | None] = PrivateAttr(default_factory=dict)
