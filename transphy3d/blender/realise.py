"""Render one SceneSpec into a directory, as a list of named stages run by one runner that times
each into meta.json: physics (unless recorded), scene build, data pass, beauty pass (the data
pass converted meanwhile on a thread), the beauty pass's extra channels, the depth camera's IR
pair and stereo matching, the scene's JSON and mesh files. Runs in the worker process."""

from __future__ import annotations

import contextlib
import errno
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bpy
from tqdm import tqdm

from transphy3d._version import __version__
from transphy3d.blender.channel_passes import BEAUTY_PASSES, ReadBack, end_beauty_passes
from transphy3d.blender.cycles import configure_beauty, configure_data_pass, render_animation
from transphy3d.blender.scene_builder import build_scene, liquid_names
from transphy3d.blender.sensor_rig import SensorRig, build_sensor, render_ir
from transphy3d.blender.session import DeviceChoice, captured_output, reset, select_device
from transphy3d.blender.settle import settle
from transphy3d.files import out_of_space, write_json
from transphy3d.output import contract
from transphy3d.output.channels import RGB, Made, Switches, channel, channels_of
from transphy3d.output.quality import scene_quality
from transphy3d.output.writer import FrameConverter, write_scene_files
from transphy3d.scene.liquids import pour
from transphy3d.scene.spec import Runtime, SceneSpec
from transphy3d.sensor.convert import SensorConverter


@dataclass
class RealiseResult:
    spec: SceneSpec
    meta: contract.MetaFile
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class Render:
    """What the stages of one render share."""

    spec: SceneSpec
    out_dir: Path
    log_path: Path
    runtime: Runtime
    selected: list[int] | None  # the frames asked for (None: all)
    scratch: Path  # intermediate files, removed at the end
    bar: Any  # the progress bar, one step per frame and pass
    timings: dict[str, float] = field(default_factory=dict)
    recorded: bool = False
    scene: bpy.types.Scene | None = None
    device: DeviceChoice | None = None
    rig: SensorRig | None = None
    converter: FrameConverter | None = None
    sensor_figures: dict[str, dict[str, float]] | None = None

    @property
    def frames(self) -> list[int]:
        return list(range(self.spec.render.frames)) if self.selected is None else self.selected

    def step(self, _frame: int) -> None:
        self.bar.update(1)


@dataclass(frozen=True)
class Stage:
    """A named step of a render; its wall time is recorded under its name (``meta.json`` timings)."""

    name: str
    run: Callable[[Render], None]
    applies: Callable[[Render], bool] = lambda render: True


def settled(spec: SceneSpec) -> SceneSpec:
    """``spec`` after physics, its liquids poured; unchanged if both are recorded."""
    return pour(spec if spec.is_settled else settle(spec))


def settle_scene(spec: SceneSpec, log_path: Path) -> SceneSpec:
    """``spec`` after physics (unchanged if already settled), Blender's output going to ``log_path``."""
    with captured_output(log_path):
        return settled(spec)


def _physics(r: Render) -> None:
    r.recorded = r.spec.is_settled
    r.spec = settled(r.spec)


def _build(r: Render) -> None:
    """A fresh Blender scene of the spec on the chosen device, with the depth camera's rig."""
    r.scene = reset()
    r.device = select_device(r.scene, r.runtime.device, r.runtime.threads)
    built = build_scene(r.scene, r.spec)
    if r.spec.sensor is not None:
        transparent = [built[o.name] for o in r.spec.objects if o.material.transparent]
        clear = [o for o in r.spec.objects if o.filled and o.liquid.scatter < 1]
        transparent += [built[name] for o in clear for name in liquid_names(o) if name in built]
        r.rig = build_sensor(r.scene, r.spec.sensor, built["camera"], transparent)
    configure_beauty(r.scene, r.spec.render, r.device, r.spec.output.png_compression)
    r.converter = FrameConverter(r.spec, r.out_dir)


def _save_blend(r: Render) -> None:
    # bpy prints the operator's report ("Info: Saved copy ...") through Python's sys.stdout,
    # which captured_output leaves on the terminal: send it to the log.
    with open(r.log_path, "a", encoding="utf-8") as log, contextlib.redirect_stdout(log):
        bpy.ops.wm.save_as_mainfile(filepath=str(r.out_dir / contract.BLEND_FILE), copy=True, compress=True)


def _data_pass(r: Render) -> None:
    configure_data_pass(r.scene)
    (r.scratch / "data").mkdir()
    render_animation(r.scene, r.scratch / "data" / "######", r.step, r.selected)


def _beauty_pass(r: Render) -> None:
    """The beauty pass, converting the data pass on a worker thread meanwhile (Cycles releases the
    GIL while it renders); then the beauty pass's extra channels from their scratch files."""
    busy = {"seconds": 0.0}
    lock = threading.Lock()

    def convert(frame: int) -> None:
        start = time.perf_counter()
        r.converter.convert(frame, r.scratch / "data" / contract.frame_name(frame, ".exr"))
        with lock:
            busy["seconds"] += time.perf_counter() - start

    extra = [c for c in channels_of(Switches.from_spec(r.spec), Made.BEAUTY) if c.name != RGB]
    with ThreadPoolExecutor(max_workers=1) as pool:
        futures = [pool.submit(convert, f) for f in r.frames]
        configure_beauty(r.scene, r.spec.render, r.device, r.spec.output.png_compression)
        read_back = {c.name: BEAUTY_PASSES[c.name](r.scene, r.scratch / c.name) for c in extra}
        rgb = channel(RGB)
        (r.out_dir / rgb.folder).mkdir(exist_ok=True)
        render_animation(r.scene, r.out_dir / rgb.folder / "######", r.step, r.selected)
        end_beauty_passes(r.scene)
        wait_start = time.perf_counter()
        for future in futures:
            future.result()
    r.timings["convert_busy"] = busy["seconds"]
    r.timings["convert_wait"] = time.perf_counter() - wait_start
    _write_beauty_channels(r, read_back)


def _write_beauty_channels(r: Render, read_back: dict[str, ReadBack]) -> None:
    for name, read in read_back.items():
        row = channel(name)
        (r.out_dir / row.folder).mkdir(exist_ok=True)
        for frame in r.frames:
            row.write(row.path(r.out_dir, frame), read(frame), r.spec.output.exr_compression)


def _ir_pass(r: Render) -> None:
    render_ir(r.scene, r.rig, r.spec.sensor, r.scratch / "ir", r.step, r.selected)


def _stereo(r: Render) -> None:
    sensor = SensorConverter(r.spec, r.out_dir)
    for frame in r.frames:
        name = contract.frame_name(frame, ".exr")
        sensor.convert(frame, r.scratch / "ir" / "left" / name, r.scratch / "ir" / "right" / name)
    r.sensor_figures = sensor.summary()


def _write(r: Render) -> None:
    write_scene_files(r.spec, r.out_dir)


def _has_sensor(r: Render) -> bool:
    return r.spec.sensor is not None


STAGES: tuple[Stage, ...] = (
    Stage("physics", _physics),
    Stage("setup", _build),
    Stage("save_blend", _save_blend, lambda r: r.spec.output.keep_blend),
    Stage("render_data", _data_pass),
    Stage("render_beauty", _beauty_pass),
    Stage("render_ir", _ir_pass, _has_sensor),
    Stage("stereo", _stereo, _has_sensor),
    Stage("write", _write),
)


def run_stages(stages: Sequence[Stage], render: Render) -> None:
    """Run the stages that apply, in order, each timed into ``render.timings`` under its name."""
    for stage in stages:
        if stage.applies(render):
            start = time.perf_counter()
            stage.run(render)
            render.timings[stage.name] = time.perf_counter() - start + render.timings.get(stage.name, 0.0)


def _meta(r: Render) -> contract.MetaFile:
    t, spec = r.timings, r.spec
    return contract.MetaFile(
        transphy3d_version=__version__,
        blender_version=bpy.app.version_string,
        device=contract.DeviceInfo(type=r.device.type, names=r.device.names, fallback=r.device.fallback),
        samples=spec.render.samples,
        denoiser=r.device.denoiser if spec.render.denoise else None,
        view_transform=spec.render.view_transform,
        resolution=(spec.render.width, spec.render.height),
        num_frames=spec.render.frames,
        seed=spec.seed,
        physics_recorded=r.recorded,
        seconds_per_frame=(t["render_beauty"] + t["render_data"] + t.get("render_ir", 0.0)) / len(r.frames),
        rendered_frames=r.selected,
        timings={k: round(v, 4) for k, v in t.items()},
        quality=scene_quality(spec, r.converter.tally),
        sensor=r.sensor_figures,
        render_quality=spec.render.quality,
    )


@contextlib.contextmanager
def _full_disk_named(out_dir: Path):
    """A failure while the output's disk is full is that (ENOSPC): Blender and OpenEXR report it
    as whatever broke first, and removing the scratch files afterwards frees the evidence."""
    try:
        yield
    except Exception as error:
        if out_of_space(out_dir):
            raise OSError(errno.ENOSPC, "no space left on device", str(out_dir)) from error
        raise


def _selection(spec: SceneSpec, frames: Sequence[int] | None) -> list[int] | None:
    selected = None if frames is None else sorted({int(f) for f in frames})
    if selected is not None and (not selected or selected[0] < 0 or selected[-1] >= spec.render.frames):
        raise ValueError(f"frames must be a non-empty subset of 0..{spec.render.frames - 1}, got {selected}")
    return selected


def realise(
    spec: SceneSpec,
    out_dir: Path,
    log_path: Path,
    runtime: Runtime | None = None,
    progress: bool = True,
    frames: Sequence[int] | None = None,
) -> RealiseResult:
    """Render ``spec`` into ``out_dir`` (which must exist and be empty) on ``runtime``'s device.

    ``frames`` (0-based indices into the camera path, default all) renders only those frames: the
    per-frame files exist for them alone, while camera.json and objects.json still describe the
    whole path; meta.json lists them as ``rendered_frames``.
    """
    selected = _selection(spec, frames)
    count = spec.render.frames if selected is None else len(selected)
    passes = 2 if spec.sensor is None else 4
    bar = tqdm(total=passes * count, desc=f"scene seed {spec.seed}", unit="frame", disable=not progress, leave=False)
    scratch = Path(tempfile.mkdtemp(prefix="tp3d-data-", dir=out_dir))
    render = Render(spec, Path(out_dir), Path(log_path), runtime or Runtime(), selected, scratch, bar)
    wall_start = time.perf_counter()
    try:
        with captured_output(log_path), _full_disk_named(render.out_dir):
            run_stages(STAGES, render)
            render.timings["write"] += render.timings["convert_wait"]  # waiting for the data pass's files
            render.timings["total"] = time.perf_counter() - wall_start
            meta = _meta(render)
            write_json(render.out_dir / contract.META_FILE, meta.to_json())
    finally:
        bar.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return RealiseResult(spec=render.spec, meta=meta, timings=render.timings)
