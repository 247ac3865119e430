"""Render quality per second: error against converged references (NVIDIA FLIP, PSNR; all pixels
and transparent-object pixels; temporal) and Cycles seconds per frame, for render settings that
trade time for quality. Prints a table with ratios to the previous default and writes a Pareto plot.

Each scene is sampled once from the default config (a frame pair: 2 frames, 1.5 degrees of
orbit apart, about one frame step of a 120-frame scene) and every setting re-renders the
recorded scene.yaml with ``--set render.KEY=VALUE`` in its own ``render-scene`` process, as the
farm does. The reference is the mean of two renders with different Cycles noise seeds at
``--ref-samples`` (no adaptive stopping, no clamping, filter glossy 0, generous bounces,
OpenImageDenoise); their disagreement is printed as the reference's own error.

    python benchmarks/render_quality.py --quick [--rows presets] [--work DIR] [--device optix] [--plot out.png]

``--work`` keeps the scenes and references, so a second run re-renders only the settings.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _common import machine, render_scene
from PIL import Image

from transphy3d.output import contract
from transphy3d.scene.quality import QUALITY_PRESETS

SCENES = {"quick": [(1, "tabletop"), (2, "container")], "full": [(1, "tabletop"), (2, "container"), (3, "tabletop"), (4, "container")]}  # fmt: skip
REFERENCE = {
    "adaptive_threshold": 0.0,
    "clamp_indirect": 0.0,
    "clamp_direct": 0.0,
    "filter_glossy": 0.0,
    "max_bounces": 48,
    "diffuse_bounces": 8,
    "glossy_bounces": 32,
    "transmission_bounces": 32,
    "transparent_bounces": 16,
    "caustics": True,
    "denoise": True,
    "denoise_prefilter": "ACCURATE",
    "denoise_quality": "HIGH",
}
# The render settings before this benchmark chose new ones (issue 25): the baseline every ratio is
# against, and the base each setting below changes.
BASELINE = {
    "samples": 64,
    "adaptive_threshold": 0.01,
    "adaptive_min_samples": 0,
    "denoise": True,
    "denoise_prefilter": "ACCURATE",
    "denoise_input_passes": "RGB_ALBEDO_NORMAL",
    "denoise_quality": "HIGH",
    "max_bounces": 16,
    "diffuse_bounces": 4,
    "glossy_bounces": 12,
    "transmission_bounces": 12,
    "transparent_bounces": 8,
    "caustics": True,
    "filter_glossy": 1.0,
    "clamp_direct": 0.0,
    "clamp_indirect": 10.0,
    "light_tree": True,
    "light_sampling_threshold": 0.01,
    "path_guiding": False,
    "animated_seed": False,
}
NEW = {"clamp_indirect": 0.0, "denoise_prefilter": "FAST", "filter_glossy": 0.0}
# One change each from the previous default, then the combinations the singles pointed to.
SETTINGS: dict[str, dict] = {
    "default": {},
    "samples 16": {"samples": 16},
    "samples 32": {"samples": 32},
    "samples 128": {"samples": 128},
    "samples 256": {"samples": 256},
    "adaptive off": {"adaptive_threshold": 0.0},
    "adaptive 0.05": {"adaptive_threshold": 0.05},
    "adaptive 0.1": {"adaptive_threshold": 0.1},
    "adaptive min 32": {"adaptive_min_samples": 32},
    "no denoise": {"denoise": False},
    "prefilter FAST": {"denoise_prefilter": "FAST"},
    "prefilter NONE": {"denoise_prefilter": "NONE"},
    "denoise inputs RGB_ALBEDO": {"denoise_input_passes": "RGB_ALBEDO"},
    "oidn quality BALANCED": {"denoise_quality": "BALANCED"},
    "oidn quality FAST": {"denoise_quality": "FAST"},
    "bounces 8/2/6/6/4": {
        "max_bounces": 8,
        "diffuse_bounces": 2,
        "glossy_bounces": 6,
        "transmission_bounces": 6,
        "transparent_bounces": 4,
    },
    "bounces 12/2/8/8/8": {"max_bounces": 12, "diffuse_bounces": 2, "glossy_bounces": 8, "transmission_bounces": 8},
    "diffuse bounces 2": {"diffuse_bounces": 2},
    "caustics off": {"caustics": False},
    "filter glossy 0": {"filter_glossy": 0.0},
    "filter glossy 2": {"filter_glossy": 2.0},
    "clamp indirect off": {"clamp_indirect": 0.0},
    "clamp indirect 3": {"clamp_indirect": 3.0},
    "clamp direct 10": {"clamp_direct": 10.0},
    "light tree off": {"light_tree": False},
    "light threshold 0.05": {"light_sampling_threshold": 0.05},
    "path guiding": {"path_guiding": True},
    "animated seed": {"animated_seed": True},
    # Around the chosen default (32 spp, no indirect clamp, fast prefilter, filter glossy 0).
    "old preview (8 spp, FAST)": {"samples": 8, "denoise_prefilter": "FAST"},
    "new default, 16 spp": {"samples": 16, **NEW},
    "new default, 24 spp": {"samples": 24, **NEW},
    "new default, light tree off": {"samples": 32, **NEW, "light_tree": False},
    "new default, ACCURATE prefilter": {"samples": 32, **NEW, "denoise_prefilter": "ACCURATE"},
}
FRAMES = 2
FIXED_COST = {"samples": 1, "adaptive_threshold": 0.0, "denoise": False}
PRESET_ROWS = ["default", *(name for name in SETTINGS if name.startswith(("old preview", "new default")))]
QUICK = ["default", "samples 16", "samples 32", "samples 128", "adaptive 0.05", "adaptive 0.1", "no denoise", "prefilter FAST", "denoise inputs RGB_ALBEDO", "oidn quality BALANCED", "bounces 8/2/6/6/4", "caustics off", "clamp indirect off", "clamp direct 10", "light tree off", "path guiding", "animated seed"]  # fmt: skip


@dataclass
class Scene:
    """A recorded scene: its directory (scene.yaml, masks, objects) and its reference frames."""

    dir: Path
    reference: list[np.ndarray]
    reference_gap: dict[str, float]
    transparent: list[np.ndarray]


def render_args(overrides: dict) -> list[str]:
    args: list[str] = []
    for key, value in overrides.items():
        args += ["--set", f"render.{key}={json.dumps(value)}"]
    return args


def load_frames(scene_dir: Path) -> list[np.ndarray]:
    return [
        np.asarray(Image.open(p), dtype=np.float32)[..., :3] / 255.0 for p in sorted((scene_dir / "rgb").glob("*.png"))
    ]


def transparent_masks(scene_dir: Path) -> list[np.ndarray]:
    """Per frame, the pixels whose instance is a transparent material (objects.json)."""
    objects = json.loads((scene_dir / "objects.json").read_text())["objects"]
    ids = [o["instance_id"] for o in objects if o["material"].get("transparent")]
    return [np.isin(np.asarray(Image.open(p)), ids) for p in sorted((scene_dir / "mask").glob("*.png"))]


def rerender(spec: Path, out: Path, overrides: dict, device: list[str]) -> tuple[float, float]:
    """The recorded scene ``spec`` rendered with ``overrides``: (Cycles wall seconds per frame of
    the beauty pass, from meta.json; CPU seconds of the whole process)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    _, meta = render_scene(out, *render_args(overrides), *device, config=str(spec))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return meta["timings"]["render_beauty"] / meta["num_frames"], cpu


def flip(reference: np.ndarray, test: np.ndarray) -> np.ndarray:
    import flip_evaluator

    error, _, _ = flip_evaluator.evaluate(reference, test, "LDR", applyMagma=False)
    return np.asarray(error).reshape(reference.shape[:2])


def psnr(reference: np.ndarray, test: np.ndarray, where: np.ndarray | None = None) -> float:
    d = (reference - test) ** 2
    mse = float(d[where].mean() if where is not None else d.mean())
    return 10 * np.log10(1.0 / max(mse, 1e-12))


def errors(frames: list[np.ndarray], scene: Scene) -> dict[str, float]:
    """FLIP and PSNR (all pixels, transparent pixels) averaged over the frames, and the temporal
    error: RMS of (frame 1 - frame 0) minus the reference's (frame 1 - frame 0)."""
    maps = [flip(r, f) for r, f in zip(scene.reference, frames, strict=True)]
    t = scene.transparent
    ref = scene.reference
    temporal = (frames[1] - frames[0]) - (ref[1] - ref[0])
    return {
        "flip": float(np.mean([m.mean() for m in maps])),
        "flip_t": float(np.mean([m[w].mean() for m, w in zip(maps, t, strict=True)])),
        "psnr": float(np.mean([psnr(r, f) for r, f in zip(ref, frames, strict=True)])),
        "psnr_t": float(np.mean([psnr(r, f, w) for r, f, w in zip(ref, frames, t, strict=True)])),
        "temporal": float(np.sqrt((temporal**2).mean())),
        "temporal_t": float(np.sqrt((temporal[t[0] & t[1]] ** 2).mean())),
    }


def prepare_scene(work: Path, seed: int, env: str, args: argparse.Namespace, device: list[str]) -> Scene:
    """Sample and record the scene (1 spp), render the two references (kept in ``work``)."""
    base = work / f"seed{seed}_{env}"
    spec = base / "scene" / contract.SCENE_SPEC_FILE
    if not spec.exists():
        render_scene(
            base / "scene",
            "--seed", str(seed),
            "--set", f"environment.type={env}",
            "--set", "camera.frames=2",
            "--set", "camera.sweep_deg=1.5",
            "--set", f"render.width={args.width}",
            "--set", f"render.height={args.height}",
            "--set", "render.samples=1",
            *device,
        )  # fmt: skip
    refs = []
    for i in range(2):
        out = base / f"reference_{i}"
        if not (out / contract.META_FILE).exists():
            overrides = {**BASELINE, **REFERENCE, "samples": args.ref_samples, "cycles_seed": 1000 + i}
            seconds, _ = rerender(spec, out, overrides, device)
            (out / "seconds_per_frame.txt").write_text(f"{seconds}\n")
        refs.append(load_frames(out))
    reference = [(a + b) / 2 for a, b in zip(*refs, strict=True)]
    scene = Scene(base / "scene", reference, {}, transparent_masks(base / "scene"))
    # The references' own error: one seed against the other (the mean is closer to converged).
    scene.reference_gap = errors(refs[1], Scene(base / "scene", refs[0], {}, scene.transparent))
    return scene


def pareto_plot(rows: list[dict], path: Path, chosen: set[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.5))
    for row in rows:
        marker = "*" if row["name"] in chosen else "o"
        ax.scatter(row["time_ratio"], row["flip_t"], marker=marker, s=120 if marker == "*" else 25)
        ax.annotate(
            row["name"], (row["time_ratio"], row["flip_t"]), fontsize=6, xytext=(3, 2), textcoords="offset points"
        )
    front = pareto(rows)
    ax.plot([r["time_ratio"] for r in front], [r["flip_t"] for r in front], "k--", lw=0.8, label="Pareto front")
    ax.set_xscale("log")
    ax.set_xlabel("CPU seconds per frame / the previous default's")
    ax.set_ylabel("mean FLIP on transparent-object pixels vs reference")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=130)


def pareto(rows: list[dict]) -> list[dict]:
    """The rows no other row beats in both time and transparent-pixel FLIP, fastest first."""
    front, best = [], float("inf")
    for row in sorted(rows, key=lambda r: (r["time_ratio"], r["flip_t"])):
        if row["flip_t"] < best:
            front.append(row)
            best = row["flip_t"]
    return front


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 scenes and the main settings (about 30 minutes here)")
    parser.add_argument("--width", type=int, default=96)
    parser.add_argument("--height", type=int, default=56)
    parser.add_argument("--ref-samples", type=int, default=512)
    parser.add_argument("--device", choices=["cpu", "optix", "cuda"], default="cpu")
    parser.add_argument("--work", type=Path, help="keep scenes and references here (default: a temporary folder)")
    parser.add_argument("--rows", choices=["singles", "presets"], default="singles",
                        help="singles: one change each from the previous default; presets: the presets and their neighbours")  # fmt: skip
    parser.add_argument("--only", nargs="*", help="settings to render (default: those of --rows)")
    parser.add_argument("--extra", type=json.loads, default={}, help='more settings: {"name": {"samples": 32}}')
    parser.add_argument("--chosen", nargs="*", default=["default"], help="settings to mark in the plot")
    parser.add_argument("--plot", type=Path, default=Path("render_quality.png"))
    parser.add_argument("--json", type=Path, help="write the rows here")
    args = parser.parse_args()
    device = ["--device", args.device.upper() if args.device != "cpu" else "CPU"]
    presets = {f"preset {q}": p for q, p in QUALITY_PRESETS.items() if p != BASELINE and args.rows == "presets"}
    settings = {**SETTINGS, **presets, **args.extra}
    singles = QUICK if args.quick else [n for n in SETTINGS if n not in PRESET_ROWS[1:]]
    names = args.only or (singles if args.rows == "singles" else list(PRESET_ROWS))
    names += [n for n in [*presets, *args.extra] if n not in names]
    if "default" not in names:
        names.insert(0, "default")
    print(f"machine: {machine()}; device {args.device}")
    print(f"scenes: {args.width}x{args.height}, frame pair, reference {args.ref_samples} spp x 2 seeds")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        scenes = [prepare_scene(work, s, e, args, device) for s, e in SCENES["quick" if args.quick else "full"]]
        print(f"references ready after {time.perf_counter() - start:.0f} s")
        results: dict[str, list[dict]] = {n: [] for n in names}
        for scene in scenes:
            spec = scene.dir / contract.SCENE_SPEC_FILE
            out = Path(tmp) / "test"
            # CPU time depends far less on the other jobs sharing the machine than wall time does;
            # a 1-sample render gives the process's fixed CPU cost (start-up, sync, data pass).
            _, fixed = rerender(spec, out, FIXED_COST, device)
            for name in names:
                seconds, cpu = rerender(spec, out, {**BASELINE, **settings[name]}, device)
                cpu = (cpu - fixed) / FRAMES
                results[name].append({"seconds": seconds, "cpu": cpu, **errors(load_frames(out), scene)})
                print(
                    f"  {scene.dir.parent.name:18s} {name:28s} {seconds:7.2f} s/frame {results[name][-1]['flip_t']:.4f}",
                    flush=True,
                )
            # The default again at the end: the machine's load drifts; its time is the mean of both.
            again, cpu = rerender(spec, out, BASELINE, device)
            first = results["default"][-1]
            first["seconds"], first["cpu"] = (first["seconds"] + again) / 2, (first["cpu"] + (cpu - fixed) / FRAMES) / 2
            print(f"  {scene.dir.parent.name:18s} {'default (again)':28s} {again:7.2f} s/frame", flush=True)
    rows = summarise(results)
    report(rows, scenes)
    pareto_plot(rows, args.plot, set(args.chosen))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    print(f"plot: {args.plot}; total {time.perf_counter() - start:.0f} s", file=sys.stderr)


def summarise(results: dict[str, list[dict]]) -> list[dict]:
    """Per setting: the metrics averaged over the scenes, time as the mean over scenes of the
    per-scene ratio to the default (scenes differ in cost)."""
    base = results["default"]
    rows = []
    for name, per_scene in results.items():
        row = {"name": name, **{k: float(np.mean([s[k] for s in per_scene])) for k in per_scene[0]}}
        row["time_ratio"] = float(np.mean([s["cpu"] / b["cpu"] for s, b in zip(per_scene, base, strict=True)]))
        row["wall_ratio"] = float(np.mean([s["seconds"] / b["seconds"] for s, b in zip(per_scene, base, strict=True)]))
        rows.append(row)
    return rows


def report(rows: list[dict], scenes: list[Scene]) -> None:
    base = rows[0]
    print()
    print("| setting | Cycles s/frame | CPU s/frame | CPU vs default | wall vs default | FLIP all | FLIP transparent | vs default | PSNR all | PSNR transparent | temporal RMS (x1e3) | temporal transparent | vs default |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    gaps = [s.reference_gap for s in scenes]
    gap = {k: float(np.mean([g[k] for g in gaps])) for k in gaps[0]}
    print(
        f"| reference seed A vs seed B | | | | | {gap['flip']:.4f} | {gap['flip_t']:.4f} | | {gap['psnr']:.1f} | {gap['psnr_t']:.1f} | {gap['temporal'] * 1e3:.2f} | {gap['temporal_t'] * 1e3:.2f} | |"
    )
    front = {r["name"] for r in pareto(rows)}
    for r in rows:
        mark = " (front)" if r["name"] in front else ""
        print(
            f"| {r['name']}{mark} | {r['seconds']:.2f} | {r['cpu']:.2f} | {r['time_ratio']:.2f} | {r['wall_ratio']:.2f} | {r['flip']:.4f} | {r['flip_t']:.4f} | "
            f"{r['flip_t'] / base['flip_t']:.2f} | {r['psnr']:.1f} | {r['psnr_t']:.1f} | {r['temporal'] * 1e3:.2f} | "
            f"{r['temporal_t'] * 1e3:.2f} | {r['temporal_t'] / base['temporal_t']:.2f} |"
        )


if __name__ == "__main__":
    main()
