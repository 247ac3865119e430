"""Where a scene's wall time goes: set-up, physics, Cycles rendering, writing; and the share of
wall time outside Cycles rendering for a 120-frame scene at a small resolution.

The scene is rendered exactly as the farm does it (``python -m transphy3d render-scene`` in a new
process); wall time is measured around the process, so interpreter start-up and imports count.

    python benchmarks/scene_time_split.py [--frames 120] [--width 256 --height 192 --samples 32]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import machine, render_scene


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--height", type=int, default=192)
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        wall, meta = render_scene(
            Path(tmp) / "scene",
            "--seed", str(args.seed),
            "--set", f"camera.frames={args.frames}",
            "--set", f"render.width={args.width}",
            "--set", f"render.height={args.height}",
            "--set", f"render.samples={args.samples}",
            "--set", "environment.type=tabletop",
        )  # fmt: skip
    t = meta["timings"]
    cycles = t["render_beauty"] + t["render_data"]
    outside = wall - cycles
    print(
        f"scene: {args.frames} frames {args.width}x{args.height}, {args.samples} spp, denoiser {meta['denoiser']}, device {meta['device']['type']}"
    )
    print(f"  process wall time          {wall:8.2f} s")
    print(f"  start-up and imports       {wall - t['total']:8.2f} s")
    print(f"  physics                    {t['physics']:8.2f} s")
    print(f"  set-up (scene build)       {t['setup']:8.2f} s")
    print(f"  Cycles beauty pass         {t['render_beauty']:8.2f} s  ({t['render_beauty'] / args.frames:.3f} s/frame)")
    print(f"  Cycles data pass           {t['render_data']:8.2f} s  ({t['render_data'] / args.frames:.3f} s/frame)")
    print(
        f"  writing (not overlapped)   {t['write']:8.2f} s  (conversion {t['convert_busy']:.2f} s ran during the beauty pass)"
    )
    print(f"share of wall time outside Cycles rendering: {outside / wall:.2%}  (target < 2%)")
    print(f"share outside the beauty pass (data pass counted as overhead): {(wall - t['render_beauty']) / wall:.2%}")


if __name__ == "__main__":
    main()
