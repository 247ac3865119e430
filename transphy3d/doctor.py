"""``transphy3d doctor``: what a render node needs, one line each, with the fix for each problem.

Checks the Python version, the shipped configs, materials and starter bank, Blender (version,
Cycles devices with the probe render, denoisers) in a separate process, a real one-frame render
that must pass the data-contract validation, OpenCV for the simulated depth camera, the ray
caster of the visibility check, Ray, free disk at the output, ffmpeg for previews, and the
trainer's packages when installed. A problem that stops rendering makes the exit code
non-zero.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from transphy3d._version import __version__
from transphy3d.errors import UserError
from transphy3d.output.validate import validate_scene
from transphy3d.resources import ASSET_BANK_DIR, MATERIALS_DIR, SHIPPED, shipped_configs

# docs/benchmarks.md, "Bytes per frame at 832x480": 0.954 MB per frame, all passes.
BYTES_PER_PIXEL = 0.954e6 / (832 * 480)
GL_LIBRARIES = "libgl1 libsm6 libx11-6 libxext6 libxfixes3 libxi6 libxkbcommon0 libxrender1"


@dataclass
class Check:
    """One line of the report. ``ok``: True, False (a problem), or None (informative)."""

    name: str
    ok: bool | None
    detail: str
    fix: str = ""
    blocks_rendering: bool = False

    def line(self) -> str:
        mark = {True: "ok  ", False: "FAIL" if self.blocks_rendering else "warn", None: "--  "}[self.ok]
        return f"{mark}  {self.name}: {self.detail}" + (f"; fix: {self.fix}" if self.fix and self.ok is False else "")


def required_version(package: str) -> str | None:
    """The version pin (``==``) of ``package`` in transphy3d's declared requirements (any extra)."""
    for text in importlib.metadata.requires("transphy3d") or []:
        match = re.match(rf"{re.escape(package)}\s*==\s*([^;,\s]+)", text)
        if match:
            return match.group(1)
    return None


def installed(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def python_check() -> Check:
    ok = sys.version_info[:2] == (3, 11)
    return Check("python", ok, platform.python_version(), "use Python 3.11 (bpy 4.5 wheels are cp311)", True)


def shipped_data_check() -> Check:
    from transphy3d.scene.asset_bank import read_manifest, resolve
    from transphy3d.scene.config_loader import load_config

    try:
        configs = shipped_configs()
        for path in configs.values():
            load_config(path)  # also loads the material library and checks every reference
        manifest = ASSET_BANK_DIR / "starter.jsonl"
        records = read_manifest(manifest)
        missing = [r.asset_id for r in records if not resolve(manifest, r.canonical.mesh).is_file()]
    except UserError as error:
        return Check("shipped data", False, str(error), "reinstall transphy3d", True)
    if not configs or missing:
        detail = f"no configs in {SHIPPED}" if not configs else f"starter assets without meshes: {missing}"
        return Check("shipped data", False, detail, "reinstall transphy3d", True)
    return Check(
        "shipped data",
        True,
        f"{len(configs)} configs ({', '.join(configs)}), materials in {MATERIALS_DIR.resolve()}, "
        f"starter bank of {len(records)} assets",
    )


def blender_checks() -> list[Check]:
    """bpy's version, then what the Blender layer reports from its own process."""
    version, required = installed("bpy"), required_version("bpy")
    if version is None:
        return [Check("bpy", False, "not installed", "pip install 'transphy3d[render]'", True)]
    found = [Check("bpy", version == required or required is None, f"{version} (tested with {required})",
                   f"pip install 'bpy=={required}' (other versions write other EXR passes)", True)]  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "transphy3d.blender.doctor"], capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        fix = f"apt-get install {GL_LIBRARIES}" if ".so" in last else "see the error above"
        return [*found, Check("Blender", False, f"does not start: {last}", fix, True)]
    for line in result.stdout.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record["name"] != "bpy":
                found.append(Check(record["name"], record["ok"], record["detail"]))
    return found


def render_check(seconds_limit: float = 600) -> Check:
    """Render a one-frame scene of the shipped tiny config and validate it against the contract."""
    with tempfile.TemporaryDirectory(prefix="transphy3d-doctor-") as tmp:
        out = Path(tmp) / "scene"
        settings = ["camera.frames=1", "render.width=32", "render.height=24", "render.samples=2"]
        command = [sys.executable, "-m", "transphy3d", "render-scene", "tiny", "--out", str(out), "--quiet"]
        command += [arg for s in settings for arg in ("--set", s)]
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, timeout=seconds_limit)
        seconds = time.perf_counter() - start
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            return Check("test render", False, last, "see the lines above", True)
        report = validate_scene(out)
        if not report.ok:
            return Check("test render", False, f"the scene fails validation: {report.problems[0]}", "", True)
    return Check(
        "test render", True, f"a 1-frame scene rendered and validated (RGB, depth, normal, mask) in {seconds:.1f} s"
    )


def depth_camera_check() -> Check:
    """OpenCV's semi-global matcher, which the simulated depth camera (``sensor.enabled``) runs."""
    try:
        import cv2

        cv2.StereoSGBM_create(numDisparities=16, blockSize=5)
    except Exception as error:  # not installed, or a build that fails to load
        return Check("depth camera (OpenCV)", False, f"cv2 does not work: {error}", "pip install 'transphy3d[render]'")
    return Check("depth camera (OpenCV)", True, f"OpenCV {cv2.__version__}: StereoSGBM for sensor.enabled")


def raycast_check() -> Check:
    """Which ray caster the visibility check before rendering uses."""
    import trimesh

    if trimesh.ray.has_embree:
        return Check("ray casting", True, f"Embree (embreex {installed('embreex')}) for the visibility check")
    return Check(
        "ray casting", None, "Blender's BVH tree: no Embree here (embreex wheels are x86-64 only); "
        "the visibility check takes about 6x longer",
    )  # fmt: skip


def ray_check() -> Check:
    version = installed("ray")
    if version is None:
        return Check("ray", False, "not installed: `transphy3d render` needs it", "pip install 'transphy3d[farm]'")
    return Check("ray", True, version)


def disk_check(out: Path) -> Check:
    """Free space at ``out`` (or its nearest existing parent) and how many default scenes fit."""
    from transphy3d.scene.config_loader import load_config

    existing = out.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        return Check(f"disk at {out}", False, f"{existing} is not a writable directory", "choose another --out", True)
    free = shutil.disk_usage(existing).free
    config = load_config("default")
    per_scene = BYTES_PER_PIXEL * config.render.width * config.render.height * config.camera.frames
    scenes = int(free // per_scene)
    detail = f"{free / 1e9:.1f} GB free, about {scenes} scenes of the default config ({per_scene / 1e6:.0f} MB each)"
    return Check(f"disk at {out}", scenes >= 1, detail, "free some space or choose another --out", scenes < 1)


def ffmpeg_check() -> Check:
    try:
        import imageio_ffmpeg

        return Check("ffmpeg (previews)", True, imageio_ffmpeg.get_ffmpeg_exe())
    except Exception:  # not installed, or no binary for this platform
        return Check(
            "ffmpeg (previews)", None, "not found: previews write GIF animations (pip install 'transphy3d[preview]')"
        )


def trainer_check() -> Check:
    torch, diffusers = installed("torch"), installed("diffusers")
    if torch is None or diffusers is None:
        return Check("trainer", None, "not installed (pip install 'transphy3d[train]' on training machines)")
    code = "import torch; print(', '.join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return Check("trainer", False, f"torch {torch} does not import: {last}", "reinstall 'transphy3d[train]'")
    gpus = result.stdout.strip() or "none"
    return Check("trainer", True, f"torch {torch}, diffusers {diffusers}; CUDA: {gpus}")


def run_checks(out: Path, render: bool = True) -> list[Check]:
    """Every check, in report order."""
    checks = [
        Check("transphy3d", True, f"{__version__} at {Path(__file__).parent}"),
        python_check(),
        shipped_data_check(),
    ]
    checks += blender_checks()
    if render and all(c.ok is not False for c in checks if c.blocks_rendering):
        checks.append(render_check())
    checks += [depth_camera_check(), raycast_check()]
    return [*checks, ray_check(), disk_check(out), ffmpeg_check(), trainer_check()]
