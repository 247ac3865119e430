"""Render one SceneSpec into a directory: physics (unless recorded), scene build, data pass,
beauty pass, conversion and the scene's JSON/mesh files. Runs in the worker process."""

from __future__ import annotations

import contextlib
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import bpy
from tqdm import tqdm

from transphy3d._version import __version__
from transphy3d.blender.cycles import configure_beauty, configure_data_pass, render_animation
from transphy3d.blender.scene_builder import build_scene
from transphy3d.blender.sensor_rig import build_sensor, render_ir
from transphy3d.blender.session import captured_output, reset, select_device
from transphy3d.blender.settle import settle
from transphy3d.files import write_json
from transphy3d.output import contract
from transphy3d.output.quality import scene_quality
from transphy3d.output.writer import FrameConverter, write_scene_files
from transphy3d.scene.spec import Runtime, SceneSpec
from transphy3d.sensor.convert import SensorConverter


@dataclass
class RealiseResult:
    spec: SceneSpec
    meta: contract.MetaFile
    timings: dict[str, float] = field(default_factory=dict)


def settle_scene(spec: SceneSpec, log_path: Path) -> SceneSpec:
    """``spec`` after physics (unchanged if already settled), Blender's output going to ``log_path``."""
    if spec.is_settled:
        return spec
    with captured_output(log_path):
        return settle(spec)


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
    runtime = runtime or Runtime()
    selected = None if frames is None else sorted({int(f) for f in frames})
    if selected is not None and (not selected or selected[0] < 0 or selected[-1] >= spec.render.frames):
        raise ValueError(f"frames must be a non-empty subset of 0..{spec.render.frames - 1}, got {selected}")
    timings: dict[str, float] = {}
    wall_start = time.perf_counter()
    with captured_output(log_path):
        start = time.perf_counter()
        recorded = spec.is_settled
        if not recorded:
            spec = settle(spec)
        timings["physics"] = time.perf_counter() - start

        start = time.perf_counter()
        scene = reset()
        device = select_device(scene, runtime.device, runtime.threads)
        built = build_scene(scene, spec)
        rig = None
        if spec.sensor is not None:
            transparent = [built[o.name] for o in spec.objects if o.material.transparent]
            rig = build_sensor(scene, spec.sensor, built["camera"], transparent)
        configure_beauty(scene, spec.render, device, spec.output.png_compression)
        if spec.output.keep_blend:
            # bpy prints the operator's report ("Info: Saved copy ...") through Python's sys.stdout,
            # which captured_output leaves on the terminal: send it to the log.
            with open(log_path, "a", encoding="utf-8") as log, contextlib.redirect_stdout(log):
                bpy.ops.wm.save_as_mainfile(filepath=str(out_dir / contract.BLEND_FILE), copy=True, compress=True)
        converter = FrameConverter(spec, out_dir)
        timings["setup"] = time.perf_counter() - start

        rendered = list(range(spec.render.frames)) if selected is None else selected
        passes = 2 if rig is None else 4
        bar = tqdm(
            total=passes * len(rendered),
            desc=f"scene seed {spec.seed}",
            unit="frame",
            disable=not progress,
            leave=False,
        )
        with tempfile.TemporaryDirectory(prefix="tp3d-data-", dir=out_dir) as scratch:
            scratch_dir = Path(scratch)
            configure_data_pass(scene)
            timings["render_data"] = render_animation(scene, scratch_dir / "######", lambda f: bar.update(1), selected)

            # Convert the data pass on a worker thread while Cycles renders the beauty pass.
            busy = {"seconds": 0.0}
            lock = threading.Lock()

            def convert(frame: int) -> None:
                t = time.perf_counter()
                converter.convert(frame, scratch_dir / contract.frame_name(frame, ".exr"))
                with lock:
                    busy["seconds"] += time.perf_counter() - t

            with ThreadPoolExecutor(max_workers=1) as pool:
                futures = [pool.submit(convert, f) for f in rendered]
                configure_beauty(scene, spec.render, device, spec.output.png_compression)
                (out_dir / contract.RGB_DIR).mkdir(exist_ok=True)
                timings["render_beauty"] = render_animation(
                    scene, out_dir / contract.RGB_DIR / "######", lambda f: bar.update(1), selected
                )
                wait_start = time.perf_counter()
                for future in futures:
                    future.result()
            timings["convert_busy"] = busy["seconds"]
            timings["convert_wait"] = time.perf_counter() - wait_start
            sensor_figures = None
            if rig is not None:
                timings["render_ir"] = render_ir(
                    scene, rig, spec.sensor, scratch_dir / "ir", lambda f: bar.update(1), selected
                )
                start = time.perf_counter()
                sensor = SensorConverter(spec, out_dir)
                for f in rendered:
                    name = contract.frame_name(f, ".exr")
                    sensor.convert(f, scratch_dir / "ir" / "left" / name, scratch_dir / "ir" / "right" / name)
                timings["stereo"] = time.perf_counter() - start
                sensor_figures = sensor.summary()
        bar.close()

        start = time.perf_counter()
        write_scene_files(spec, out_dir)
        timings["write"] = time.perf_counter() - start + timings["convert_wait"]
        timings["total"] = time.perf_counter() - wall_start
        meta = contract.MetaFile(
            transphy3d_version=__version__,
            blender_version=bpy.app.version_string,
            device=contract.DeviceInfo(type=device.type, names=device.names, fallback=device.fallback),
            samples=spec.render.samples,
            denoiser=device.denoiser if spec.render.denoise else None,
            view_transform=spec.render.view_transform,
            resolution=(spec.render.width, spec.render.height),
            num_frames=spec.render.frames,
            seed=spec.seed,
            physics_recorded=recorded,
            seconds_per_frame=(timings["render_beauty"] + timings["render_data"] + timings.get("render_ir", 0.0))
            / len(rendered),
            rendered_frames=selected,
            timings={k: round(v, 4) for k, v in timings.items()},
            quality=scene_quality(spec, converter.tally),
            sensor=sensor_figures,
        )
        write_json(out_dir / contract.META_FILE, meta.to_json())
    return RealiseResult(spec=spec, meta=meta, timings=timings)
