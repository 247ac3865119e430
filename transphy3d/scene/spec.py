"""The resolved scene specification (``scene.yaml``): every sampled number written out.

A SceneSpec is what sampling produces from a config and a seed, and what rendering consumes. After
physics it also holds the settled poses (and, when the fall is rendered, the trajectory) and the
camera path's anchor, so rendering a recorded ``scene.yaml`` again re-creates the same scene
without running physics.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import numpy as np
import yaml
from pydantic import Field, create_model, field_validator, model_validator

from transphy3d.documents import StrictModel
from transphy3d.geometry.transforms import matrix_to_quaternion, pose_matrix
from transphy3d.scene import material_params as mp
from transphy3d.scene.procedural import FAMILIES, check_params
from transphy3d.scene.quality import Quality
from transphy3d.scene.sensor import SensorSpec

SPEC_VERSION = 1
Vec3 = tuple[float, float, float]
Device = Literal["auto", "CPU", "OPTIX", "CUDA", "HIP"]  # auto: OptiX > CUDA > HIP > CPU
DenoisePrefilter = Literal["ACCURATE", "FAST", "NONE"]
DenoiseInputPasses = Literal["RGB", "RGB_ALBEDO", "RGB_ALBEDO_NORMAL"]
DenoiseQuality = Literal["HIGH", "BALANCED", "FAST"]  # OpenImageDenoise 2's quality mode
PhysicsMode = Literal["settle", "fall"]  # fall: the fall itself is rendered
OptionalChannel = Literal["nocs", "albedo"]  # per-frame outputs a scene writes only when asked (output.channels)
# area: a disc; softbox: a rectangle on a stand aimed at the objects; panel: a rectangular
# ceiling light facing down; point and spot: bulbs.
LightType = Literal["softbox", "panel", "area", "point", "spot"]
RECTANGULAR_LIGHTS: tuple[str, ...] = ("softbox", "panel")
WorldType = Literal["sky", "gradient", "hdri"]
# The eight CC0 world HDRIs the bpy wheel ships (datafiles/studiolights/world/NAME.exr, 1024x512),
# recorded in scene.yaml by name so a replay does not depend on where Blender is installed.
BundledHdri = Literal["city", "courtyard", "forest", "interior", "night", "studio", "sunrise", "sunset"]
BUNDLED_HDRIS: tuple[str, ...] = get_args(BundledHdri)


class Pose(StrictModel):
    """A rigid pose: position (metres) and unit quaternion (w, x, y, z)."""

    position: Vec3
    quaternion: tuple[float, float, float, float]

    @field_validator("quaternion")
    @classmethod
    def _unit(cls, q: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        norm = float(np.linalg.norm(q))
        if abs(norm - 1.0) > 1e-6:
            raise ValueError(f"quaternion must have unit length, got length {norm}")
        return q

    def matrix(self) -> np.ndarray:
        return pose_matrix(np.asarray(self.position), np.asarray(self.quaternion))

    @classmethod
    def from_matrix(cls, matrix: np.ndarray) -> Pose:
        m = np.asarray(matrix, dtype=np.float64)
        q = matrix_to_quaternion(m[:3, :3])
        return cls(position=tuple(float(v) for v in m[:3, 3]), quaternion=tuple(float(v) for v in q))


class ProceduralSource(StrictModel):
    kind: Literal["procedural"] = "procedural"
    family: str
    params: dict[str, float]
    segments: int = Field(64, ge=8, le=512)

    @model_validator(mode="after")
    def _known(self) -> ProceduralSource:
        if self.family not in FAMILIES:
            raise ValueError(f"unknown family {self.family!r}; allowed: {', '.join(sorted(FAMILIES))}")
        check_params(self.family, self.params)
        return self


class StaticSource(StrictModel):
    """An asset of the bank: ``file`` is its canonical mesh (``sha256`` its content hash), scaled
    to ``size`` and centred; with ``keep_materials`` the renderer takes the asset's own materials
    from ``blend`` (the same mesh, same vertex order)."""

    kind: Literal["static"] = "static"
    asset_id: str
    file: str
    sha256: str | None = None
    size: float = Field(..., gt=0.0, description="largest extent after normalisation, metres")
    keep_materials: bool = False
    blend: str | None = None


Source = Annotated[ProceduralSource | StaticSource, Field(discriminator="kind")]


class _PrincipledBase(StrictModel):
    base_color: mp.RGB


# The sampled Principled BSDF inputs of a material: ``base_color`` and one float per shader input.
PrincipledParams = create_model(
    "PrincipledParams",
    __base__=_PrincipledBase,
    __doc__="Sampled Principled BSDF inputs: base colour (linear RGB) and every scalar shader input.",
    **{i.name: (float, Field(ge=i.low, le=i.high)) for i in mp.PRINCIPLED_INPUTS},  # type: ignore[misc]
)


class AssetMaterialParams(StrictModel):
    """A static asset rendered with its own materials: their names in the asset's ``.blend``."""

    materials: list[str]


class _TextureBase(StrictModel):
    type: mp.TextureKind
    scale: float | None = None
    color2: mp.RGB | None = None
    contrast: float | None = None
    # Where the pattern starts (pattern units); absent: at the origin, as before it existed.
    offset: Vec3 | None = None
    # The ``image`` kind: the absolute path of the user's picture (one tile = 1/scale metres).
    image: str | None = None

    @model_validator(mode="after")
    def _image(self) -> _TextureBase:
        if (self.type == "image") != (self.image is not None):
            raise ValueError("an 'image' texture needs the image's path, and only an 'image' texture has one")
        return self

    def value(self, name: str) -> float:
        """A ``material_params.TEXTURE_FIELDS`` value: as recorded, else the kind's default."""
        recorded = getattr(self, name)
        return float(recorded) if recorded is not None else mp.TEXTURE_KIND_INFO[self.type].default(name)

    def pattern_scale(self) -> float:
        return float(self.scale) if self.scale is not None else mp.TEXTURE_KIND_INFO[self.type].scale


# The sampled texture; only ``type`` for a material that has none of its own. Every field but
# ``type`` may be absent (older scene.yaml files): ``value`` and ``pattern_scale`` give the defaults.
TextureSpec = create_model(
    "TextureSpec",
    __base__=_TextureBase,
    __doc__="The sampled surface texture (``material_params``): pattern, colours, relief, placement.",
    **{f.name: (float | None, Field(None, ge=f.low, le=f.high)) for f in mp.TEXTURE_FIELDS},  # type: ignore[misc]
)


class MaterialSpec(StrictModel):
    class_name: str = Field(alias="class")
    preset: str
    transparent: bool
    reflective: bool
    params: PrincipledParams | AssetMaterialParams  # type: ignore[valid-type]
    texture: TextureSpec  # type: ignore[valid-type]


# How an object comes to rest: standing on its base (z up, turned about z, tilted a few degrees),
# standing on its top, or dropped in a random orientation (6-DoF).
RestPose = Literal["upright", "upside_down", "random"]


# What became of a container's liquid after physics: poured (``filled``), or not, because the
# container does not stand upright (tilted past MAX_TILT_DEG or so far that the level would reach
# the rim), another object sits in the liquid's space, or the fall itself is rendered.
LiquidOutcome = Literal["filled", "not_upright", "spills", "blocked", "fall"]


class LiquidSpec(StrictModel):
    """A container's liquid (``transphy3d.scene.liquids``): type and the preset's drawn values,
    and the fill level as a share of the cavity's inner height (upright). After physics:
    ``outcome``, and for a filled one the free surface, ``n . p = level`` in the container's
    frame with ``n`` world up, and the liquid's volume."""

    type: str
    fill: float = Field(gt=0.0, lt=1.0)
    ior: float = Field(ge=1.0, le=3.0)
    color: mp.RGB  # linear RGB tint (see liquid_presets)
    density: float = Field(ge=0.0)  # absorption, 1/m
    scatter: float = Field(ge=0.0, le=1.0)  # share scattering below the surface (milk: 1)
    outcome: LiquidOutcome | None = None  # None: physics has not run
    level: float | None = None
    volume_ml: float | None = None


class ObjectSpec(StrictModel):
    instance_id: int = Field(ge=1, le=65535)
    name: str
    source: Source
    scale: float = Field(gt=0.0)
    material: MaterialSpec
    density: float = Field(gt=0.0)
    friction: float = Field(ge=0.0)
    restitution: float = Field(ge=0.0)
    drop_height: float = Field(ge=0.0)
    rest_pose: RestPose = "random"  # a scene.yaml without it (0.1.0) holds random drops: read them as such
    initial_pose: Pose
    settled_pose: Pose | None = None
    trajectory: list[Pose] | None = None
    liquid: LiquidSpec | None = None  # a container drawn to hold liquid

    @property
    def filled(self) -> bool:
        """True when the object holds liquid in the rendered scene."""
        return self.liquid is not None and self.liquid.outcome == "filled"


class EnvironmentPart(StrictModel):
    """A box (``size`` = outer extents) or an open-topped box with ``wall`` thick sides, centred
    at ``position`` in x/y with its bottom at ``position[2]``, turned by ``rotation_z_deg``."""

    name: str
    shape: Literal["box", "open_box"]
    size: Vec3
    wall: float = 0.0
    position: Vec3
    rotation_z_deg: float = 0.0
    material: MaterialSpec
    collision: bool = True


class SupportSpec(StrictModel):
    """Where objects must come to rest (x/y ranges on a surface at height ``z``) and the region
    above it they are dropped from (``drop_x_range``, ``drop_y_range``)."""

    kind: Literal["tabletop", "container", "floor"]
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    z: float
    drop_x_range: tuple[float, float]
    drop_y_range: tuple[float, float]


class RoomSpec(StrictModel):
    margin: float
    height: float
    material: MaterialSpec


class EnvironmentSpec(StrictModel):
    type: str
    parts: list[EnvironmentPart]
    support: SupportSpec
    room: RoomSpec | None = None


class WaveSpec(StrictModel):
    amplitude: float
    frequency: float
    phase: float


class CameraAlternative(StrictModel):
    """A camera drawn in advance from the config's ranges, tried in turn when the environment
    hides the objects from the sampled one."""

    elevation_deg: float
    start_azimuth_deg: float
    framing: float


class CameraCheck(StrictModel):
    """The visibility check (``transphy3d.scene.visibility``) of the camera that was kept: which camera
    (0: the sampled one, k: alternative k), its share of visible (object, frame) pairs and
    frames without a visible object, the median share of the image the objects cover, ray cast
    at low resolution, and whether it passed."""

    camera: int
    visible_pairs: float
    frames_without_visible_object: int
    object_share: float = 0.0
    passed: bool


class CameraSpec(StrictModel):
    focal_length_mm: float
    sensor_width_mm: float
    framing: float
    elevation_deg: float
    start_azimuth_deg: float
    sweep_deg: float
    direction: int
    radius_wave: WaveSpec
    height_wave: WaveSpec
    look_waves: tuple[WaveSpec, WaveSpec, WaveSpec]
    keep_in_view_margin: float
    clip_near: float
    clip_far: float
    min_visible_pairs: float = Field(0.0, ge=0.0, le=1.0)  # 0: no visibility check (0.1.0 scenes)
    fill: float = Field(0.0, ge=0.0, le=1.0)  # share of the image the objects should cover; 0: just fit
    alternatives: list[CameraAlternative] = Field(default_factory=list)


class CameraPathSpec(StrictModel):
    """The orbit's anchor, fixed after physics: centre, bounding radius and fitted distance."""

    centre: Vec3
    bound_radius: float
    distance: float
    distance_scale: float


class LightSpec(StrictModel):
    type: LightType
    position: Vec3
    target: Vec3
    power_w: float
    temperature_k: float
    size: float  # metres: the disc's diameter, the rectangle's first side, a bulb's diameter
    size_y: float | None = None  # the rectangle's second side (softbox, panel)
    spot_angle_deg: float


class WorldSpec(StrictModel):
    """The world: ``sky`` (Nishita), ``gradient`` or ``hdri``; an HDRI is ``params.name`` (one
    of BUNDLED_HDRIS) or ``params.file`` (a user's image)."""

    type: WorldType
    params: dict[str, Any]

    @property
    def label(self) -> str:
        """The world as counted by the report: ``sky``, ``gradient``, ``hdri/NAME`` or ``hdri/file``."""
        if self.type != "hdri":
            return self.type
        return f"hdri/{self.params.get('name', 'file')}"


class RenderSpec(StrictModel):
    width: int
    height: int
    frames: int
    fps: float
    samples: int
    adaptive_threshold: float
    denoise: bool
    denoise_prefilter: DenoisePrefilter = "ACCURATE"  # absent in older scene.yaml files
    max_bounces: int
    diffuse_bounces: int
    glossy_bounces: int
    transmission_bounces: int
    transparent_bounces: int
    caustics: bool
    clamp_indirect: float
    pixel_filter_width: float
    view_transform: str
    persistent_data: bool
    animated_seed: bool
    cycles_seed: int
    # Absent in older scene.yaml files: the defaults are what Cycles did before they were recorded.
    quality: Quality | None = None  # the preset the config named; the keys here are what rendered
    adaptive_min_samples: int = 0
    denoise_input_passes: DenoiseInputPasses = "RGB_ALBEDO_NORMAL"
    denoise_quality: DenoiseQuality = "HIGH"
    filter_glossy: float = 1.0
    clamp_direct: float = 0.0
    light_tree: bool = True
    light_sampling_threshold: float = 0.01
    path_guiding: bool = False


class Runtime(StrictModel):
    """How this machine renders a scene (not part of the scene): device and CPU threads."""

    device: Device = "auto"
    threads: int = Field(0, ge=0)


class PhysicsSpec(StrictModel):
    mode: PhysicsMode
    fps: int
    max_seconds: float
    min_seconds: float
    settle_linear_speed: float
    settle_angular_speed: float
    settle_frames: int
    substeps: int
    solver_iterations: int
    linear_damping: float
    angular_damping: float
    collision_margin: float
    max_attempts: int
    max_penetration: float


class OutputSpec(StrictModel):
    flow: bool
    exr_compression: str
    png_compression: int
    keep_blend: bool
    channels: list[OptionalChannel] | None = None  # opt-in channels (None: none, and not recorded)


class Rejection(StrictModel):
    instance_id: int
    reason: str


class AttemptRecord(StrictModel):
    attempt: int
    simulated_seconds: float
    settled: bool
    rejected: list[Rejection]


class ConfigRef(StrictModel):
    name: str
    digest: str


class SceneSpec(StrictModel):
    spec_version: int = SPEC_VERSION
    seed: int = Field(ge=0)
    config: ConfigRef
    render: RenderSpec
    physics: PhysicsSpec
    output: OutputSpec
    environment: EnvironmentSpec
    objects: list[ObjectSpec]
    world: WorldSpec
    lights: list[LightSpec]
    camera: CameraSpec
    camera_path: CameraPathSpec | None = None
    camera_check: CameraCheck | None = None
    placement: list[AttemptRecord] = Field(default_factory=list)
    dropped: list[Rejection] = Field(default_factory=list)
    sensor: SensorSpec | None = None  # the simulated depth camera; None: off

    @property
    def is_settled(self) -> bool:
        """True once physics has run (or was recorded): every object has a settled pose."""
        return self.camera_path is not None and all(o.settled_pose is not None for o in self.objects)

    def object_poses(self) -> dict[int, np.ndarray]:
        """(F, 4, 4) object_to_world per instance id for the rendered frames."""
        frames = self.render.frames
        out = {}
        for obj in self.objects:
            if obj.trajectory:
                out[obj.instance_id] = np.stack([p.matrix() for p in obj.trajectory])
            else:
                pose = (obj.settled_pose or obj.initial_pose).matrix()
                out[obj.instance_id] = np.broadcast_to(pose, (frames, 4, 4)).copy()
        return out


def is_spec_document(raw: Any) -> bool:
    """True if parsed YAML is a resolved SceneSpec (rather than a scene config)."""
    return isinstance(raw, dict) and "spec_version" in raw


def spec_to_yaml(spec: SceneSpec) -> str:
    data = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=120)


def save_spec(spec: SceneSpec, path: str | Path) -> None:
    Path(path).write_text(spec_to_yaml(spec), encoding="utf-8")
