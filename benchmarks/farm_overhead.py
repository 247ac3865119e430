"""Farm overhead: the wall time of ``transphy3d render --scenes N`` against the sum of the
workers' own times (each worker process's wall time, from index.jsonl) and against the sum of
the Cycles render times, in one run on one machine.

    python benchmarks/farm_overhead.py [--scenes 4] [--frames 120] [--width 160 --height 120 --samples 16]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from _common import machine, run_timed

from transphy3d.output import contract
from transphy3d.output.reader import open_scene
from transphy3d.output.records import read_index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=4)
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--width", type=int, default=160)
    parser.add_argument("--height", type=int, default=120)
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        command = [
            sys.executable, "-m", "transphy3d", "render", "--scenes", str(args.scenes), "--out", str(out),
            "--workers", str(args.workers), "--no-progress", "--set", f"camera.frames={args.frames}",
            "--set", f"render.width={args.width}", "--set", f"render.height={args.height}",
            "--set", f"render.samples={args.samples}",
        ]  # fmt: skip
        wall, _ = run_timed(command)
        records = list(read_index(out / contract.INDEX_FILE))
        worker = sum(r.seconds for r in records)
        cycles = sum(r.render_seconds for r in records)
        totals = [open_scene(out / r.scene).meta.timings["total"] for r in records]
    print(
        f"{args.scenes} scenes x {args.frames} frames, {args.width}x{args.height}, {args.samples} spp, {args.workers} worker(s)"
    )
    print(f"  farm wall time                  {wall:8.1f} s")
    print(f"  sum of worker process times     {worker:8.1f} s  (per scene {worker / len(records):.1f} s)")
    print(f"  sum of Cycles render times      {cycles:8.1f} s")
    print(
        f"  per-scene process start-up      {(worker - sum(totals)) / len(records):8.2f} s (worker wall - in-process total)"
    )
    print(f"farm overhead vs worker time: {(wall * args.workers - worker) / (wall * args.workers):.2%}  (target < 3%)")
    print(f"share of farm wall time outside Cycles: {(wall * args.workers - cycles) / (wall * args.workers):.2%}")


if __name__ == "__main__":
    main()
