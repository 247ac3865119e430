"""The preview pipeline: resolve the scene(s), run physics at the config's own settings (so the
camera path is the one a full render gets), render a few frames of the path small and denoised,
then compose the contact sheet and the animation and write ``preview.json``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from transphy3d._version import __version__
from transphy3d.documents import load_yaml_file
from transphy3d.errors import UserError
from transphy3d.files import keep_log, publish_directory, write_json
from transphy3d.interrupts import exit_on_signal
from transphy3d.output import contract
from transphy3d.output.reader import Scene, SceneObject, open_scene
from transphy3d.pipeline import material_counts, physics_summary, resolve_scene
from transphy3d.preview.animation import write_animation
from transphy3d.preview.checks import Solid, preview_warnings
from transphy3d.preview.contact_sheet import FramePanels, SeedBlock, animation_frames, compose_contact_sheet
from transphy3d.preview.output import (
    PREVIEW_FILE,
    check_out_dir,
    default_out_dir,
    make_partial,
    preview_name,
)
from transphy3d.preview.settings import MIN_WIDTH, PreviewSettings, preview_frames, preview_spec
from transphy3d.scene.config import RenderConfig
from transphy3d.scene.config_loader import config_path
from transphy3d.scene.spec import Runtime, SceneSpec, is_spec_document, save_spec

CONTACT_SHEET = "contact_sheet.png"
ANIMATION_STEM = "preview"
MAX_SEEDS = 16


@dataclass
class ScenePreview:
    """What one previewed scene produced (paths relative to the preview directory)."""

    seed: int
    dir: str
    blend: str
    scene_yaml: str
    render: str
    warnings: list[str]
    timings: dict[str, float]


def _render_limit(name: str) -> int:
    """The largest value a config allows for ``render.<name>`` (one definition: RenderConfig)."""
    return next(m.le for m in RenderConfig.model_fields[name].metadata if getattr(m, "le", None) is not None)


def _check_settings(settings: PreviewSettings, seeds: int) -> None:
    for name, value, low, high in (
        ("--frames", settings.frames, 1, None),
        ("--width", settings.width, MIN_WIDTH, _render_limit("width")),
        ("--samples", settings.samples, 1, _render_limit("samples")),
        ("--seeds", seeds, 1, MAX_SEEDS),
    ):
        if value < low or (high is not None and value > high):
            allowed = f"at least {low}" if high is None else f"{low}..{high}"
            raise UserError(f"{name} must be {allowed}, got {value}")


def resolve_specs(
    path: Path, seed: int | None, seeds: int, overrides: dict[str, Any]
) -> tuple[list[tuple[SceneSpec, Runtime]], bool]:
    """The scene(s) to preview (with the device settings their config asks for) and whether
    ``path`` is a recorded scene.yaml. Every input error surfaces here, before anything is
    rendered or written."""
    recorded = is_spec_document(load_yaml_file(path))
    if recorded:
        if seeds != 1:
            raise UserError(
                f"--seeds {seeds} does not apply to a recorded scene (it is one scene); pass the scene config",
                path=str(path),
            )
        return [resolve_scene(path, seed, overrides)], True
    first = 0 if seed is None else seed
    return [resolve_scene(path, first + i, overrides) for i in range(seeds)], False


def _solid(obj: SceneObject, transparent: bool | None = None) -> Solid:
    """The object's convex hull: a camera in a cup's cavity is inside the cup for an artist."""
    mesh = obj.load_mesh().convex_hull
    material = obj.material
    return Solid(
        instance_id=obj.instance_id,
        name=obj.name,
        material_class=str(material.get("class", "")) if obj.instance_id else "",
        transparent=bool(material.get("transparent", False)) if transparent is None else transparent,
        vertices=np.asarray(mesh.vertices, dtype=np.float64),
        faces=np.asarray(mesh.faces, dtype=np.int64),
        poses=obj.object_to_world,
    )


def scene_warnings(spec: SceneSpec, scene: Scene, frames: list[int]) -> list[str]:
    """Warnings for one rendered preview: physics drops, then the artist checks."""
    out = [f"object {r.instance_id} was dropped by physics: {r.reason}" for r in spec.dropped]
    objects = [_solid(o) for o in scene.objects]
    environment = [_solid(o, transparent=False) for o in scene.environment]
    masks = [scene.mask(f) for f in frames]
    # With camera.fill the camera comes close on purpose and objects may leave the frame at times.
    whole = spec.camera.fill <= 0
    return out + preview_warnings(objects, environment, masks, scene.K, scene.world_to_camera, frames, whole)


def _caption(spec: SceneSpec, physics: str) -> str:
    materials = material_counts(spec)
    liquids = [o.liquid.type for o in spec.objects if o.filled]
    held = f", liquid in {len(liquids)} ({', '.join(liquids)})" if liquids else ""
    return (
        f"{spec.environment.type}, {len(spec.objects)} objects ({materials}){held}, {spec.world.type} world, "
        f"{len(spec.lights)} lights; {physics}"
    )


def preview_scene(
    spec: SceneSpec, settings: PreviewSettings, root: Path, log: Path, progress: bool, runtime: Runtime | None = None
) -> tuple[SeedBlock, ScenePreview]:
    """Settle, render and check one scene into ``root/seed_NNNNNN``."""
    from transphy3d.blender.realise import realise, settle_scene  # imports bpy: only here

    name = f"seed_{spec.seed:06d}"
    seed_dir = root / name
    render_dir = seed_dir / "render"
    render_dir.mkdir(parents=True)
    start = time.perf_counter()
    recorded = spec.is_settled
    settled = settle_scene(spec, log)
    physics = time.perf_counter() - start
    save_spec(settled, seed_dir / contract.SCENE_SPEC_FILE)
    shown = preview_spec(settled, settings)
    frames = preview_frames(shown.render.frames, settings.frames)
    result = realise(shown, render_dir, log, runtime, progress=progress, frames=frames)
    os.replace(render_dir / contract.BLEND_FILE, seed_dir / contract.BLEND_FILE)
    scene = open_scene(render_dir)
    start = time.perf_counter()
    warnings = scene_warnings(settled, scene, frames)
    checks = time.perf_counter() - start
    panel_channels = [c.name for c in scene.channels if c.show is not None]
    panels = [FramePanels(f, scene.frame(f, channels=panel_channels).arrays) for f in frames]
    instances = {o.instance_id: f"{o.name}, {o.material_class}/{o.material.get('preset', '')}" for o in scene.objects}
    physics_text = physics_summary(settled, recorded, physics)
    block = SeedBlock(settled.seed, _caption(settled, physics_text), panels, instances, warnings)
    t = result.timings
    timings = {
        "physics": physics,
        "setup": t["setup"],
        "render": t["render_data"] + t["render_beauty"] + t.get("render_ir", 0.0) + t.get("stereo", 0.0),
        "write": t["write"],
        "checks": checks,
    }
    record = ScenePreview(
        seed=settled.seed,
        dir=name,
        blend=f"{name}/{contract.BLEND_FILE}",
        scene_yaml=f"{name}/{contract.SCENE_SPEC_FILE}",
        render=f"{name}/render",
        warnings=warnings,
        timings={k: round(v, 3) for k, v in timings.items()},
    )
    return block, record


def _title(path: Path, shown: SceneSpec, full: SceneSpec, frames: list[int]) -> str:
    r, f = shown.render, full.render
    return (
        f"transphy3d preview of {path}: {len(frames)} of {f.frames} frames, {r.width}x{r.height}, "
        f"{r.samples} spp + denoising (the full render: {f.width}x{f.height}, {f.samples} spp)"
    )


def open_in_viewer(path: Path) -> str | None:
    """Open ``path`` with the desktop's default viewer; returns why not, or None."""
    if sys.platform == "darwin":
        command = ["open", str(path)]
    elif os.name == "nt":
        os.startfile(path)  # type: ignore[attr-defined]
        return None
    else:
        command = ["xdg-open", str(path)]
    if shutil.which(command[0]) is None:
        return f"cannot open {path}: {command[0]} not found"
    subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    return None


def run(
    input_path: str,
    seed: int | None,
    seeds: int,
    settings: PreviewSettings,
    out: str | None,
    overrides: dict[str, Any],
    open_viewer: bool = False,
) -> int:
    """``transphy3d preview``: returns the exit code."""
    start = time.perf_counter()
    _check_settings(settings, seeds)
    path = config_path(input_path)
    resolved, recorded = resolve_specs(path, seed, seeds, overrides)
    specs = [spec for spec, _ in resolved]
    out_dir = Path(out) if out else default_out_dir(preview_name(path, [s.seed for s in specs], recorded))
    out_dir = out_dir.absolute()
    check_out_dir(out_dir)
    partial = make_partial(out_dir)
    log = partial.with_name(partial.name + ".log")
    progress = sys.stderr.isatty()

    def discard() -> None:
        keep_log(log, out_dir.with_name(f"{out_dir.name}.log"))
        shutil.rmtree(partial, ignore_errors=True)

    try:
        blocks, records = [], []
        with exit_on_signal(discard, f"the preview {out_dir}"):
            for spec, runtime in resolved:
                block, record = preview_scene(spec, settings, partial, log, progress, runtime)
                blocks.append(block)
                records.append(record)
        compose_start = time.perf_counter()
        shown = preview_spec(specs[0], settings)
        frames = [f.frame for f in blocks[0].frames]
        sheet, layout = compose_contact_sheet(blocks, _title(path, shown, specs[0], frames))
        sheet.save(partial / CONTACT_SHEET)
        animation = write_animation(partial / ANIMATION_STEM, animation_frames(sheet, layout))
        compose = time.perf_counter() - compose_start
        write_json(
            partial / PREVIEW_FILE,
            {
                "format_version": 1,
                "transphy3d_version": __version__,
                "input": str(path),
                "recorded": recorded,
                "overrides": json.loads(json.dumps(overrides, default=str)),  # YAML dates and the like
                "settings": asdict(settings),
                "resolution": [shown.render.width, shown.render.height],
                "num_frames": shown.render.frames,
                "frames": frames,
                "contact_sheet": CONTACT_SHEET,
                "animation": animation.name,
                "layout": layout,
                "scenes": [asdict(r) for r in records],
                "timings": {"compose": round(compose, 3), "total": round(time.perf_counter() - start, 3)},
            },
        )
        publish_directory(partial, out_dir)
        log.unlink(missing_ok=True)
    except BaseException:
        kept = keep_log(log, out_dir.with_name(f"{out_dir.name}.log"))
        shutil.rmtree(partial, ignore_errors=True)
        if kept is not None:
            print(f"transphy3d preview: Blender's output is in {kept}", file=sys.stderr)
        raise
    _report(path, out_dir, shown, frames, records, animation.name, time.perf_counter() - start)
    if open_viewer:
        problem = open_in_viewer(out_dir / CONTACT_SHEET)
        if problem:
            print(f"warning: {problem}", file=sys.stderr)
    return 0


def _report(
    path: Path,
    out: Path,
    shown: SceneSpec,
    frames: list[int],
    records: list[ScenePreview],
    animation: str,
    total: float,
) -> None:
    r = shown.render
    seeds = ", ".join(str(rec.seed) for rec in records)
    render = sum(rec.timings["render"] for rec in records)
    physics = sum(rec.timings["physics"] for rec in records)
    print(
        f"preview of {path}, seed{'s' * (len(records) > 1)} {seeds}: {len(frames)} of {r.frames} frames at "
        f"{r.width}x{r.height}, {r.samples} spp + denoising; physics {physics:.1f} s, render {render:.1f} s, "
        f"total {total:.1f} s"
    )
    print(f"  contact sheet  {out / CONTACT_SHEET}")
    print(f"  animation      {out / animation}")
    for rec in records:
        print(f"  blend          {out / rec.blend}")
        print(f"  scene          {out / rec.scene_yaml}")
    print("  (transphy3d render-scene SCENE --out DIR renders a scene in full, at the config's settings)")
    for rec in records:
        for warning in rec.warnings:
            print(f"warning: seed {rec.seed}: {warning}", file=sys.stderr)
