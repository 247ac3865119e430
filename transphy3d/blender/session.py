"""A clean Blender session, Blender's console output captured to a log, and render devices."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import bpy
import numpy as np

GPU_ORDER = ("OPTIX", "CUDA", "HIP")


def reset() -> bpy.types.Scene:
    """An empty factory-settings session; returns its scene, set to Cycles."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    return scene


@contextlib.contextmanager
def captured_output(log_path: str | Path) -> Iterator[None]:
    """Send everything written to file descriptors 1 and 2 (Blender's C code prints there) to
    ``log_path``. Python's ``sys.stderr`` keeps pointing at the terminal for progress bars."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal_err = os.fdopen(os.dup(saved_err), "w", buffering=1)
    old_stderr, old_stdout = sys.stderr, sys.stdout
    with open(log_path, "ab", buffering=0) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        sys.stderr = terminal_err
        sys.stdout = terminal_err
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            sys.stderr, sys.stdout = old_stderr, old_stdout
            terminal_err.close()


@dataclass
class DeviceChoice:
    """The device Cycles renders on, and why GPUs were passed over."""

    type: str  # CPU, OPTIX, CUDA or HIP
    names: list[str] = field(default_factory=list)
    fallback: list[str] = field(default_factory=list)

    @property
    def denoiser(self) -> str:
        return "OPTIX" if self.type == "OPTIX" else "OPENIMAGEDENOISE"


def _probe_render(scene: bpy.types.Scene) -> str | None:
    """Render a 16x16 emission plane on the selected device; None if the image is right, else
    the reason. Catches devices that are listed but fail (driver, kernel or memory errors)."""
    probe = bpy.data.scenes.new("device_probe")
    try:
        probe.render.engine = "CYCLES"
        probe.cycles.device = scene.cycles.device
        probe.cycles.samples = 1
        probe.cycles.use_denoising = False
        probe.render.resolution_x = probe.render.resolution_y = 16
        probe.render.resolution_percentage = 100
        probe.view_settings.view_transform = "Standard"
        world = bpy.data.worlds.new("probe_world")
        world.use_nodes = True
        world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.5, 0.5, 0.5, 1.0)
        world.node_tree.nodes["Background"].inputs["Strength"].default_value = 1.0
        probe.world = world
        camera = bpy.data.objects.new("probe_camera", bpy.data.cameras.new("probe_camera"))
        probe.collection.objects.link(camera)
        probe.camera = camera
        with tempfile.TemporaryDirectory() as tmp:
            probe.render.filepath = os.path.join(tmp, "probe.png")
            probe.render.image_settings.file_format = "PNG"
            bpy.ops.render.render(write_still=True, scene=probe.name)
            from PIL import Image

            with Image.open(probe.render.filepath) as image:
                pixels = np.asarray(image.convert("RGB"), dtype=np.float64)
        expected = 255 * (1.055 * 0.5 ** (1 / 2.4) - 0.055)  # sRGB of linear 0.5
        if abs(pixels.mean() - expected) > 6:
            return f"probe render gave mean {pixels.mean():.1f}, expected {expected:.1f}"
        return None
    except Exception as error:  # a failing GPU surfaces as RuntimeError or a missing file
        return f"probe render failed: {error}".splitlines()[0]
    finally:
        bpy.data.scenes.remove(probe)


_CHOSEN: dict[str, DeviceChoice] = {}  # per process: the device each request settled on, probe passed


def _use(kind: str) -> list[bpy.types.CyclesDeviceSettings]:
    """Make ``kind`` (OPTIX, CUDA, HIP or NONE) Cycles' compute device; its devices."""
    prefs = bpy.context.preferences.addons["cycles"].preferences
    prefs.compute_device_type = kind
    prefs.refresh_devices()
    for device in prefs.devices:
        device.use = device.type == kind
    return [d for d in prefs.devices if d.type == kind]


def select_device(scene: bpy.types.Scene, requested: str = "auto", threads: int = 0) -> DeviceChoice:
    """OptiX > CUDA > HIP > CPU (or just ``requested``), checked by a probe render; falls back to
    the CPU when a GPU is missing or fails, recording why. A process that renders several scenes
    (warm workers) probes once: later scenes reuse the choice (a GPU that fails later fails its
    scene, and the next scene starts a new process)."""
    scene.render.threads_mode = "FIXED" if threads else "AUTO"
    if threads:
        scene.render.threads = threads
    if requested in _CHOSEN:
        choice = _CHOSEN[requested]
        _use(choice.type if choice.type != "CPU" else "NONE")
        scene.cycles.device = "CPU" if choice.type == "CPU" else "GPU"
        return choice
    _CHOSEN[requested] = choice = _probe_devices(scene, requested)
    return choice


def _probe_devices(scene: bpy.types.Scene, requested: str) -> DeviceChoice:
    prefs = bpy.context.preferences.addons["cycles"].preferences
    fallback: list[str] = []
    candidates = GPU_ORDER if requested == "auto" else ((requested,) if requested != "CPU" else ())
    for kind in candidates:
        try:
            devices = _use(kind)
        except TypeError:
            fallback.append(f"{kind}: not supported by this Blender build")
            continue
        if not devices:
            fallback.append(f"{kind}: no device found")
            continue
        scene.cycles.device = "GPU"
        failure = _probe_render(scene)
        if failure is None:
            return DeviceChoice(kind, [d.name for d in devices], fallback)
        fallback.append(f"{kind}: {failure}")
    prefs.compute_device_type = "NONE"
    scene.cycles.device = "CPU"
    cpu = [d.name for d in prefs.devices if d.type == "CPU"] or ["CPU"]
    return DeviceChoice("CPU", cpu, fallback)
