"""Wall time of a default preview, ``transphy3d preview scene_configs/default.yaml``, on this
machine: each run in a new process (interpreter start-up and imports count), the median over the
runs, and where the time goes (from preview.json). The load average is printed too: the machines
here are shared, and other jobs slow Cycles down.

    python benchmarks/preview_time.py [--runs 5] [--vary-seed] [-- extra preview arguments]

By default every run previews seed 0 (the default command); ``--vary-seed`` previews seeds
0..runs-1 instead, to see the spread over scenes (object count, environment).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, machine

PHASES = ("physics", "setup", "render", "write", "checks")


def preview_once(out: Path, seed: int, extra: list[str]) -> tuple[float, float, dict]:
    """One ``transphy3d preview`` in a new process; returns (wall seconds, CPU seconds of the
    process, preview.json)."""
    command = [sys.executable, "-m", "transphy3d", "preview", "scene_configs/default.yaml", "--out", str(out)]
    if seed:
        command += ["--seed", str(seed)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run([*command, *extra], cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, json.loads((out / "preview.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--vary-seed", action="store_true", help="preview seeds 0..runs-1 instead of seed 0")
    parser.add_argument("extra", nargs="*", help="extra preview arguments (after --)")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    walls, cpus, splits = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            seed = run if args.vary_seed else 0
            wall, cpu, info = preview_once(Path(tmp) / "preview", seed, args.extra)
            scene = info["scenes"][0]
            t = scene["timings"]
            split = {k: t[k] for k in PHASES}
            split["compose"] = info["timings"]["compose"]
            split["start-up, imports, sampling"] = wall - info["timings"]["total"]
            walls.append(wall)
            cpus.append(cpu)
            splits.append(split)
            print(
                f"run {run + 1}: seed {seed}, {wall:6.2f} s wall, {cpu:6.2f} s CPU ({info['resolution'][0]}x{info['resolution'][1]}, "
                f"{len(info['frames'])} of {info['num_frames']} frames, {info['settings']['samples']} spp; "
                f"render {t['render']:.2f} s, physics {t['physics']:.2f} s; load {os.getloadavg()[0]:.2f})"
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"wall time: median {statistics.median(walls):.2f} s, min {min(walls):.2f} s, max {max(walls):.2f} s")
    print(f"CPU time (user + system) of the preview process: median {statistics.median(cpus):.2f} s")
    print("median split (s):")
    for key in splits[0]:
        print(f"  {key:30s} {statistics.median(s[key] for s in splits):6.2f}")


if __name__ == "__main__":
    main()
