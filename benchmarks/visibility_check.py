"""What the visibility check before rendering costs: settles N scenes of a config in this process
(Blender's physics), then runs the check (camera alternatives and the approach to ``camera.fill``
included) on each with Embree and with Blender's BVH tree, side by side, and prints seconds per
scene and the checks each needed. A third run, Embree with the framing tested on every hull point
of every pose instead of only the vertices of their convex hull, shows what testing the hull's
vertices alone saves (a frustum is convex: they are in view exactly when all points are).

    python benchmarks/visibility_check.py [--scenes 8] [--config default]
"""

from __future__ import annotations

import argparse
import statistics
import time

from _common import machine

from transphy3d.blender.raycast import bvh_first_hit
from transphy3d.blender.session import captured_output
from transphy3d.blender.settle import settle
from transphy3d.resources import CONFIG_DIR
from transphy3d.scene import camera_path, visibility
from transphy3d.scene.config_loader import load_config
from transphy3d.scene.sampling import sample_spec
from transphy3d.scene.visibility import choose_camera, trimesh_first_hit


def timed(spec, caster) -> tuple[float, int]:
    """Seconds of ``choose_camera`` and the number of checks it ran."""
    calls = 0
    original = visibility.check_camera

    def counting(*args, **kwargs):
        nonlocal calls
        calls += 1
        return original(*args, **kwargs)

    visibility.check_camera = counting
    try:
        start = time.perf_counter()
        choose_camera(spec, caster=caster)
        return time.perf_counter() - start, calls
    finally:
        visibility.check_camera = original


def every_point(spec, caster) -> tuple[float, int]:
    """``timed`` with the framing tested on every point (the convex-hull reduction undone)."""
    original = camera_path.hull_vertices
    camera_path.hull_vertices = lambda points: points
    try:
        return timed(spec, caster)
    finally:
        camera_path.hull_vertices = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=8)
    parser.add_argument("--config", default="default")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    config = load_config(CONFIG_DIR / f"{args.config}.yaml")
    rows = {"embree": [], "bvh": [], "embree, every point": []}
    checks = []
    for seed in range(args.scenes):
        with captured_output("/dev/null"):
            settled = settle(sample_spec(config, seed))
        # the sampled camera again, as settle saw it before choosing
        unsettled_camera = sample_spec(config, seed).camera
        spec = settled.model_copy(update={"camera": unsettled_camera, "camera_check": None})
        for name, caster in (("embree", trimesh_first_hit), ("bvh", bvh_first_hit)):
            seconds, calls = timed(spec, caster)
            rows[name].append(seconds)
        rows["embree, every point"].append(every_point(spec, trimesh_first_hit)[0])
        checks.append(calls)
    print(f"{args.scenes} scenes of {args.config}, render size {config.render.width}x{config.render.height}")
    print(f"checks per scene: median {statistics.median(checks)}, max {max(checks)}")
    for name, values in rows.items():
        print(f"{name:>19}: {statistics.median(values):.2f} s per scene (median), max {max(values):.2f} s")
    for slow, fast in (("bvh", "embree"), ("embree, every point", "embree")):
        ratio = statistics.median(b / e for b, e in zip(rows[slow], rows[fast], strict=True))
        print(f"{slow} / {fast}: {ratio:.1f}x (median over scenes)")


if __name__ == "__main__":
    main()
