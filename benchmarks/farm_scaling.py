"""Farm scaling on one machine: throughput with 1 worker (all threads) and with 2 workers
(threads split between them), same scenes, measured one after the other in one run.

    python benchmarks/farm_scaling.py [--scenes 4] [--frames 24]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from _common import machine, run_timed


def run(out: Path, workers: int, args) -> float:
    cpus = os.cpu_count() or 1
    command = [
        sys.executable, "-m", "transphy3d", "render", "--scenes", str(args.scenes), "--out", str(out),
        "--workers", str(workers), "--threads-per-worker", str(max(1, cpus // workers)), "--no-progress",
        "--set", f"camera.frames={args.frames}", "--set", f"render.width={args.width}",
        "--set", f"render.height={args.height}", "--set", f"render.samples={args.samples}",
    ]  # fmt: skip
    return run_timed(command)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=4)
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--width", type=int, default=160)
    parser.add_argument("--height", type=int, default=120)
    parser.add_argument("--samples", type=int, default=16)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        one = run(Path(tmp) / "one", 1, args)
        two = run(Path(tmp) / "two", 2, args)
    frames = args.scenes * args.frames
    print(f"{args.scenes} scenes x {args.frames} frames, {args.width}x{args.height}, {args.samples} spp")
    print(f"  1 worker  x {os.cpu_count()} threads: {one:7.1f} s  {frames / one:.3f} frames/s")
    print(f"  2 workers x {max(1, (os.cpu_count() or 1) // 2)} threads: {two:7.1f} s  {frames / two:.3f} frames/s")
    print(f"  throughput ratio 2 workers / 1 worker: {one / two:.3f}")


if __name__ == "__main__":
    main()
