"""Persistent data on vs off for a static scene: frames per second at equal settings, measured
alternately in one run (on, off, on, off, ...) to cancel drift on a noisy machine.

    python benchmarks/persistent_data.py [--frames 24] [--repeats 2]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from _common import machine, render_scene


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--height", type=int, default=192)
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    fps: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        # Record the scene once so every run renders the same settled scene (no physics).
        _, _ = render_scene(
            Path(tmp) / "base", "--set", "camera.frames=1", "--set", "environment.type=tabletop", "--seed", "2"
        )
        spec = Path(tmp) / "base" / "scene.yaml"
        for _ in range(args.repeats):
            for persistent in (True, False):
                _, meta = render_scene(
                    Path(tmp) / "run",
                    "--set", f"render.frames={args.frames}",
                    "--set", f"render.width={args.width}",
                    "--set", f"render.height={args.height}",
                    "--set", f"render.samples={args.samples}",
                    "--set", f"render.persistent_data={str(persistent).lower()}",
                    config=str(spec),
                )  # fmt: skip
                t = meta["timings"]
                fps[persistent].append(args.frames / (t["render_beauty"] + t["render_data"]))
    on, off = np.mean(fps[True]), np.mean(fps[False])
    print(f"{args.frames} frames {args.width}x{args.height} {args.samples} spp, {args.repeats} alternating runs each")
    print(f"  persistent data on : {on:.3f} frames/s  {np.round(fps[True], 3).tolist()}")
    print(f"  persistent data off: {off:.3f} frames/s  {np.round(fps[False], 3).tolist()}")
    print(f"  ratio on/off: {on / off:.3f}")


if __name__ == "__main__":
    main()
