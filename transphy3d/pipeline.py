"""One scene from a config (and a seed) or a recorded scene.yaml to a finished directory.

The scene is rendered into ``<out>.partial-<pid>`` and renamed to ``<out>`` only when every file
of the data contract is there, so ``<out>`` is never half-written. Blender's console output goes
to a log that is deleted on success and kept (``<out>.log``) on failure. Started by the farm with a
lease (``transphy3d.fence``), the render stops, removing its partial output, once the farm gives
its attempt up, and never publishes after that.
"""

from __future__ import annotations

import errno
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from transphy3d.documents import load_yaml_file
from transphy3d.errors import OutputError, UserError
from transphy3d.fence import check_lease, fenced
from transphy3d.files import keep_log, out_of_space, partial_path, publish_directory, remove_stale_partials
from transphy3d.interrupts import exit_on_signal
from transphy3d.jobs import RenderJob
from transphy3d.output.channels import Switches, expected_files
from transphy3d.scene.asset_paths import confine_static_paths
from transphy3d.scene.config_loader import apply_overrides, config_path, load_config, parse_overrides
from transphy3d.scene.quality import expand_quality
from transphy3d.scene.recorded import parse_spec
from transphy3d.scene.sampling import sample_spec
from transphy3d.scene.spec import Runtime, SceneSpec, is_spec_document


def resolve_scene(
    path: str | Path, seed: int | None, overrides: dict[str, Any] | None = None, allow_outside_assets: bool = False
) -> tuple[SceneSpec, Runtime]:
    """A SceneSpec from a scene config (sampled with ``seed``, default 0) or a recorded spec, and
    the runtime settings (device, threads) the config asks for (defaults for a recorded spec).
    A config may be given by the name of a shipped one. A recorded spec's asset paths are confined
    to its folder and the asset banks (``scene.asset_paths``) unless ``allow_outside_assets``."""
    path = config_path(path)
    raw = load_yaml_file(path)
    if is_spec_document(raw):
        if seed is not None and seed != raw.get("seed"):
            raise UserError(
                f"--seed {seed} does not apply to a recorded scene (its seed is {raw.get('seed')}); "
                "pass the scene config to sample a new scene",
                path=str(path),
            )
        if overrides:
            raw = apply_overrides(raw, expand_quality(overrides))
        return confine_static_paths(parse_spec(raw, str(path)), path, allow_outside_assets), Runtime()
    config = load_config(path, overrides)
    runtime = Runtime(device=config.render.device, threads=config.render.threads)
    return sample_spec(config, 0 if seed is None else seed), runtime


def sample_scene(config: str | Path, seed: int = 0, overrides: dict[str, Any] | None = None) -> SceneSpec:
    """The SceneSpec of a scene config (a shipped config's name or a path) and a seed: every
    sampled number written out, before physics. No Blender needed. ``overrides`` are dotted
    keys like ``{"camera.frames": 8}``."""
    return resolve_scene(config, seed, overrides)[0]


UNWRITABLE = (errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EROFS, errno.EPERM)


def _check_writable(out_dir: Path, overwrite: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError("exists and is not a directory", path=str(out_dir))
    if out_dir.is_dir() and any(out_dir.iterdir()) and not overwrite:
        raise OutputError("already holds a scene; pass --overwrite to replace it", path=str(out_dir))
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise OutputError(
            "cannot create the output directory: a file is in the way", path=str(out_dir.parent)
        ) from None
    except OSError as error:
        raise OutputError(f"cannot create the output directory: {error.strerror}", path=str(out_dir.parent)) from None
    if not os.access(out_dir.parent, os.W_OK | os.X_OK):
        raise OutputError("output directory is not writable", path=str(out_dir.parent))


def missing_files(scene_dir: Path, spec: SceneSpec) -> list[str]:
    """Files of the data contract that ``scene_dir`` lacks."""
    expected = expected_files(Switches.from_spec(spec), spec.render.frames, [o.instance_id for o in spec.objects])
    return [f for f in expected if not (scene_dir / f).is_file()]


def render_scene(
    spec: SceneSpec,
    out_dir: str | Path,
    runtime: Runtime | None = None,
    overwrite: bool = False,
    progress: bool = True,
    log_path: str | Path | None = None,
    lease: str | Path | None = None,
):
    """Render ``spec`` into ``out_dir`` atomically; returns the RealiseResult. With a ``lease``
    (the farm's), the render stops once the lease is gone and does not publish."""
    out_dir = Path(out_dir).absolute()
    _check_writable(out_dir, overwrite)
    partial = partial_path(out_dir)
    log = Path(log_path) if log_path else out_dir.with_name(f"{out_dir.name}.log")
    remove_stale_partials(out_dir)
    shutil.rmtree(partial, ignore_errors=True)  # this process's own leftover (a reused pid)

    def discard() -> None:
        keep_log(partial.with_name(partial.name + ".log"), log)
        shutil.rmtree(partial, ignore_errors=True)

    try:
        with exit_on_signal(discard, f"rendering {out_dir}"), fenced(lease):
            result = _render_into(spec, partial, runtime, progress)
        check_lease(lease)
        publish_directory(partial, out_dir)
        partial.with_name(partial.name + ".log").unlink(missing_ok=True)
        return result
    except BaseException as error:
        disk_full = out_of_space(partial)  # before the partial scene is removed
        discard()
        if isinstance(error, OSError) and error.errno in UNWRITABLE:
            raise OutputError(f"cannot write the scene: {error.strerror} (log: {log})", path=str(out_dir)) from None
        if disk_full:  # Blender's image writers report it as a RuntimeError
            raise OutputError(
                f"cannot write the scene: no space left on device (log: {log})", path=str(out_dir)
            ) from None
        raise


def _render_into(spec: SceneSpec, partial: Path, runtime: Runtime | None, progress: bool):
    """Render into ``partial`` and check that every file of the contract is there."""
    partial.mkdir(parents=True)
    try:
        from transphy3d.blender.realise import realise  # imports bpy: only here
    except ImportError as error:
        if error.name != "bpy":
            raise
        raise UserError("rendering needs Blender's bpy module: pip install 'transphy3d[render]'") from None
    scratch_log = partial.with_name(partial.name + ".log")
    result = realise(spec, partial, scratch_log, runtime, progress=progress)
    missing = missing_files(partial, result.spec)
    if missing:
        raise RuntimeError(f"render finished but {len(missing)} files are missing, e.g. {missing[0]}")
    return result


def material_counts(spec: SceneSpec) -> str:
    """``2 glass, 1 metal``: the scene's objects per material class."""
    classes: dict[str, int] = {}
    for obj in spec.objects:
        classes[obj.material.class_name] = classes.get(obj.material.class_name, 0) + 1
    return ", ".join(f"{n} {c}" for c, n in sorted(classes.items()))


def physics_summary(spec: SceneSpec, recorded: bool, seconds: float) -> str:
    """``physics 1.2 s (2 attempts)``, or ``recorded poses`` when physics did not run."""
    attempts = len(spec.placement)
    return "recorded poses" if recorded else f"physics {seconds:.1f} s ({attempts} attempt{'s' * (attempts != 1)})"


def summary_line(result, out_dir: Path, seconds: float) -> str:
    """The one line ``render-scene`` prints for a finished scene."""
    spec: SceneSpec = result.spec
    materials = material_counts(spec)
    t = result.timings
    physics = physics_summary(spec, result.meta.physics_recorded, t["physics"])
    sensor = f" + depth camera {t['render_ir'] + t['stereo']:.1f} s" if "render_ir" in t else ""
    return (
        f"{out_dir}: {spec.render.frames} frames {spec.render.width}x{spec.render.height}, "
        f"{len(spec.objects)} objects ({materials}), {spec.environment.type}; {physics}, "
        f"render {t['render_beauty'] + t['render_data']:.1f} s{sensor} ({result.meta.seconds_per_frame:.2f} s/frame on "
        f"{result.meta.device.type}), total {seconds:.1f} s"
    )


def run(job: RenderJob) -> int:
    """Render one job (``transphy3d render-scene``, the farm's render processes): the scene, a
    warning per object dropped by physics, and one summary line on stdout."""
    start = time.perf_counter()
    spec, runtime = resolve_scene(job.scene, job.seed, parse_overrides(job.overrides), job.allow_outside_assets)
    if job.device is not None or job.threads is not None:
        runtime = runtime.model_copy(
            update={k: v for k, v in (("device", job.device), ("threads", job.threads)) if v is not None}
        )
    progress = not job.quiet and sys.stderr.isatty()
    result = render_scene(spec, job.out, runtime, job.overwrite, progress, log_path=job.log, lease=job.lease)
    if result.spec.dropped and not job.quiet:
        for rejection in result.spec.dropped:
            print(f"warning: object {rejection.instance_id} dropped: {rejection.reason}", file=sys.stderr)
    print(summary_line(result, Path(job.out), time.perf_counter() - start))
    return 0
