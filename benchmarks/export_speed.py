"""Export throughput of ``transphy3d export`` per format against the time to render the same run.

Renders a small run (``--scenes`` scenes of the tiny config at the given size, frames and samples,
each in its own ``render-scene`` process as the farm runs them), then exports it to each format
in its own process; prints frames per second (the command's own count, start-up excluded) and the
export's wall time over the render's.

    python benchmarks/export_speed.py [--scenes 2 --frames 8 --width 256 --height 192 --samples 16]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

from _common import machine, render_scene, run_timed

FORMATS = ("bop", "coco", "transphy3d")
SUMMARY = re.compile(r"exported (\d+) scene\(s\), (\d+) frames .* in ([\d.]+) s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=2)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--height", type=int, default=192)
    parser.add_argument("--samples", type=int, default=16)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    settings = [f"camera.frames={args.frames}", f"render.width={args.width}", f"render.height={args.height}",
                f"render.samples={args.samples}", "objects.static_fraction=0.5"]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        render_wall = 0.0
        for i in range(args.scenes):
            overrides = [a for s in settings for a in ("--set", s)]
            wall, _ = render_scene(run / f"scene_{i:06d}", "--seed", str(i), *overrides, config="tiny")
            render_wall += wall
        frames = args.scenes * args.frames
        print(f"render: {args.scenes} scenes x {args.frames} frames at {args.width}x{args.height}, {args.samples} spp: "
              f"{render_wall:.1f} s wall ({frames / render_wall:.2f} frames/s)")  # fmt: skip
        print("| format | frames/s (in the command) | command wall s | export wall / render wall |")
        print("| --- | --- | --- | --- |")
        for fmt in FORMATS:
            command = [sys.executable, "-m", "transphy3d", "export", str(run), "--format", fmt,
                       "--out", str(Path(tmp) / fmt), "--no-progress"]  # fmt: skip
            wall, out = run_timed(command)
            match = SUMMARY.search(out)
            if not match or int(match.group(2)) != frames:
                raise SystemExit(f"unexpected summary: {out}")
            seconds = float(match.group(3))
            print(f"| {fmt} | {frames / seconds:.1f} | {wall:.1f} | {wall / render_wall:.3f} |")


if __name__ == "__main__":
    main()
