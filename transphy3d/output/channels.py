"""The channel table: every per-frame output of a scene, one row each (its folder, file suffix,
array type, encoding, the pass that makes it, how it is read, written, checked and shown, and when
a scene has it). The writer, the reader's ``Frame``, the validator, the preview, the report and
docs/format.md loop over this table; adding a channel is one row here plus the function that makes
it (a derivation in ``output.derive`` for the data pass, a pass in ``blender.channel_passes`` for
the beauty pass).

This is the one module of ``output/``, ``preview/``, ``report/`` and ``blender/`` that names the
channels; others use the constants below or loop over ``CHANNELS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, get_args

import numpy as np

from transphy3d.output import checks, derive, frame_files
from transphy3d.output.contract import (
    CAMERA_FILE,
    META_FILE,
    OBJECTS_FILE,
    SCENE_SPEC_FILE,
    frame_name,
    object_mesh_file,
)
from transphy3d.scene.spec import OptionalChannel, SceneSpec

RGB, DEPTH, NORMAL, MASK, FLOW = "rgb", "depth", "normal", "mask", "flow"
RAW_DEPTH, IR_LEFT, IR_RIGHT = "raw_depth", "ir_left", "ir_right"
NOCS, ALBEDO = "nocs", "albedo"


class Made(StrEnum):
    """The render pass a channel comes from."""

    BEAUTY = "beauty"  # the configured samples with denoising (Blender writes the files or a pass of it)
    DATA = "data"  # one sample at the pixel centres, converted by a function of output.derive
    SENSOR = "sensor"  # the simulated depth camera's IR pair and stereo matching


class Grid(StrEnum):
    """The pixel grid of a channel's images."""

    RGB = "rgb"  # the render's width x height
    IR = "ir"  # the depth camera's IR imagers (camera.json sensor.width x height)


class Show(StrEnum):
    """How the preview and the report draw a channel."""

    IMAGE = "image"  # 8-bit sRGB as it is
    DEPTH = "depth"  # the depth colour map, one scale for every depth-like panel of a scene
    NORMAL = "normal"  # (n + 1) / 2 with y up and z towards the viewer
    INSTANCES = "instances"  # a colour per instance id
    UNIT_CUBE = "unit_cube"  # values in [0, 1] as RGB
    LINEAR = "linear"  # linear colour, sRGB-encoded for display


@dataclass(frozen=True)
class Switches:
    """The settings of a scene that decide which optional channels it has (from its scene.yaml)."""

    flow: bool = False
    sensor: bool = False
    keep_ir: bool = False
    extra: frozenset[str] = frozenset()  # output.channels

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Switches:
        """From a recorded scene.yaml's mapping (or a spec dumped to JSON)."""
        output = record.get("output") or {}
        sensor = record.get("sensor")
        return cls(
            flow=bool(output.get("flow", False)),
            sensor=sensor is not None,
            keep_ir=bool(sensor and sensor.get("keep_ir", False)),
            extra=frozenset(output.get("channels") or ()),
        )

    @classmethod
    def from_spec(cls, spec: SceneSpec) -> Switches:
        return cls.from_record(spec.model_dump(mode="json", include={"output", "sensor"}, exclude_none=True))


@dataclass(frozen=True)
class Step:
    """A function of a channel's array (or of the data pass) and of the channels it ``needs``."""

    run: Callable[..., Any]
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class When:
    """When a scene has a channel: a test of its switches and how docs/format.md says it."""

    text: str
    test: Callable[[Switches], bool]

    def __call__(self, switches: Switches) -> bool:
        return self.test(switches)


ALWAYS = When("always", lambda s: True)
WITH_FLOW = When("`output.flow: true`", lambda s: s.flow)
WITH_SENSOR = When("`sensor.enabled`", lambda s: s.sensor)
WITH_IR = When("`sensor.keep_ir`", lambda s: s.sensor and s.keep_ir)


def opted(name: str) -> When:
    """Present when ``output.channels`` lists ``name``."""
    return When(f"`output.channels` lists `{name}`", lambda s: name in s.extra)


@dataclass(frozen=True)
class Channel:
    """One per-frame output: ``<scene>/<name>/<frame:06d><suffix>``."""

    name: str
    suffix: str
    dtype: str
    components: int  # 0: an (H, W) array; k: (H, W, k)
    encoding: str  # as docs/format.md states it
    made_by: Made
    read: Callable[[Path], np.ndarray]
    write: Callable[..., None]  # (path, array, exr_compression)
    present: When = ALWAYS
    derive: Step | None = None  # Made.DATA: how the data pass becomes this channel
    check: Step | None = None  # value checks beyond the shape
    grid: Grid = Grid.RGB
    every_frame: bool = True  # False: no file for the last frame (it looks ahead)
    show: Show | None = None
    title: str = ""
    in_frame: bool = True  # read by Scene.frame() unless asked otherwise
    opt_in: bool = False  # turned on by naming it in output.channels

    @property
    def folder(self) -> str:
        return self.name

    def shape(self, height: int, width: int) -> tuple[int, ...]:
        return (height, width, self.components) if self.components else (height, width)

    def frames(self, num_frames: int) -> range:
        """The frames that have a file of this channel."""
        return range(num_frames if self.every_frame else max(num_frames - 1, 0))

    def path(self, scene_dir: str | Path, frame: int) -> Path:
        return Path(scene_dir) / self.folder / frame_name(frame, self.suffix)


_IR = dict(suffix=".png", dtype="uint8", components=0, made_by=Made.SENSOR, read=frame_files.read_ir,
           write=frame_files.write_ir, present=WITH_IR, grid=Grid.IR, in_frame=False)  # fmt: skip

CHANNELS: tuple[Channel, ...] = (
    Channel(RGB, ".png", "uint8", 3, "8-bit sRGB PNG, denoised (view transform in meta.json)", Made.BEAUTY,
            frame_files.read_rgb, frame_files.write_rgb, show=Show.IMAGE, title="RGB"),
    Channel(DEPTH, ".exr", "float32", 0, "float32 EXR channel `Z`: planar depth in metres along the camera's +z; "
            "0 = no surface", Made.DATA, frame_files.read_depth, frame_files.write_depth,
            derive=Step(derive.depth), check=Step(checks.finite_non_negative), show=Show.DEPTH, title="depth"),
    Channel(NORMAL, ".exr", "float32", 3, "half-float EXR channels `X, Y, Z`: unit normals in the camera frame, "
            "facing the camera; 0 = no surface", Made.DATA, frame_files.read_normal, frame_files.write_normal,
            derive=Step(derive.normal, (DEPTH,)), check=Step(checks.unit_where_hit, (DEPTH,)), show=Show.NORMAL,
            title="normal"),
    Channel(MASK, ".png", "uint16", 0, "16-bit greyscale PNG of instance ids; 0 = environment", Made.DATA,
            frame_files.read_mask, frame_files.write_mask, derive=Step(derive.instance_mask, (DEPTH,)),
            check=Step(checks.known_instances, (DEPTH,)), show=Show.INSTANCES, title="instance mask"),
    Channel(FLOW, ".exr", "float32", 2, "half-float EXR channels `X, Y`: forward optical flow in pixels, frame t "
            "-> t+1 (none for the last frame)", Made.DATA, frame_files.read_flow, frame_files.write_flow,
            present=WITH_FLOW, derive=Step(derive.flow, (DEPTH, MASK)), check=Step(checks.finite), every_frame=False,
            in_frame=False),
    Channel(RAW_DEPTH, ".exr", "float32", 0, "float32 EXR channel `Z`: the simulated depth camera's depth on the "
            "RGB grid; 0 = no return", Made.SENSOR, frame_files.read_raw_depth, frame_files.write_raw_depth,
            present=WITH_SENSOR, check=Step(checks.within_sensor_range), show=Show.DEPTH, title="raw depth"),
    Channel(IR_LEFT, encoding="8-bit greyscale PNG: the depth camera's left IR image", **_IR),
    Channel(IR_RIGHT, encoding="8-bit greyscale PNG: the depth camera's right IR image", **_IR),
    Channel(NOCS, ".exr", "float32", 3, "half-float EXR channels `R, G, B`: normalized object coordinates "
            "(p - c) / L + 0.5 of the surface at the pixel centre, p in the frame of the object's mesh "
            "(meshes/), c and L the centre and diagonal of its axis-aligned box; 0 = no object", Made.DATA,
            frame_files.read_colour, frame_files.write_colour, present=opted(NOCS),
            derive=Step(derive.nocs, (DEPTH, MASK)), check=Step(checks.unit_cube_on_objects, (MASK,)),
            show=Show.UNIT_CUBE, title="NOCS", opt_in=True),
    Channel(ALBEDO, ".exr", "float32", 3, "half-float EXR channels `R, G, B`: the beauty pass's linear surface "
            "albedo (Cycles' denoising albedo; through glass, the tinted albedo of what it shows)", Made.BEAUTY,
            frame_files.read_colour, frame_files.write_colour, present=opted(ALBEDO),
            check=Step(checks.finite_non_negative), show=Show.LINEAR, title="albedo", opt_in=True),
)  # fmt: skip

BY_NAME: dict[str, Channel] = {c.name: c for c in CHANNELS}
if {c.name for c in CHANNELS if c.opt_in} != set(get_args(OptionalChannel)):
    raise AssertionError("the opt-in channels and scene.spec.OptionalChannel disagree")


def channel(name: str) -> Channel:
    """The row of channel ``name``."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown channel {name!r}; channels: {', '.join(BY_NAME)}") from None


def frame_path(scene_dir: str | Path, name: str, frame: int) -> Path:
    """Path of one per-frame file: ``<scene_dir>/<name>/<frame:06d><suffix>``."""
    return channel(name).path(scene_dir, frame)


def channels_of(switches: Switches, made_by: Made | None = None) -> list[Channel]:
    """The channels a scene with ``switches`` has (made by ``made_by`` only, if given), in table order."""
    return [c for c in CHANNELS if c.present(switches) and (made_by is None or c.made_by == made_by)]


def present_in(scene_dir: str | Path, switches: Switches | None = None) -> list[Channel]:
    """The channels a scene directory holds: those ``switches`` ask for (without switches, the
    channels every scene has), and any other whose folder is there."""
    scene_dir = Path(scene_dir)
    asked = {c.name for c in channels_of(switches or Switches())}
    return [c for c in CHANNELS if c.name in asked or (scene_dir / c.folder).is_dir()]


def expected_files(switches: Switches, num_frames: int, instance_ids: Iterable[int] = ()) -> list[str]:
    """Relative paths every complete scene directory holds (environment meshes excluded)."""
    files = [SCENE_SPEC_FILE, CAMERA_FILE, OBJECTS_FILE, META_FILE]
    for c in channels_of(switches):
        files += [f"{c.folder}/{frame_name(f, c.suffix)}" for f in c.frames(num_frames)]
    return files + [object_mesh_file(i) for i in instance_ids]


def markdown_table() -> str:
    """The table of channels in docs/format.md (a test checks that the docs hold it)."""
    lines = ["| folder | file | array | made by | present | encoding |", "| --- | --- | --- | --- | --- | --- |"]
    for c in CHANNELS:
        shape = "H x W" + (f" x {c.components}" if c.components else "")
        grid = " (IR grid)" if c.grid == Grid.IR else ""
        frames = "" if c.every_frame else ", frames 0..F-2"
        lines.append(
            f"| `{c.folder}/` | `{frame_name(0, c.suffix)}` | {c.dtype} {shape}{grid} | {c.made_by.value} pass | "
            f"{c.present.text}{frames} | {c.encoding} |"
        )
    return "\n".join(lines) + "\n"
