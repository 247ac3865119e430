"""Fixed cost per scene, a render process per scene against warm workers (``--warm-workers``),
side by side in one run: the same N scenes rendered by ``transphy3d render --workers 1`` both
ways. Fixed cost = the worker's wall time for the scene (index.jsonl ``seconds``) minus its Cycles
time (``render_seconds``) minus its physics (meta.json ``timings.physics``): Python start-up,
imports, device probe, scene build, writing.

    python benchmarks/warm_workers.py [--scenes 8] [--frames 1] [--config tiny]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from _common import machine, run_timed

from transphy3d.output import contract
from transphy3d.output.reader import open_scene
from transphy3d.output.records import read_index


def farm(out: Path, args: argparse.Namespace, *extra: str) -> tuple[float, list[dict]]:
    """Run the farm; (wall seconds, per scene: fixed cost, Cycles, physics, rank in its process)."""
    command = [
        sys.executable, "-m", "transphy3d", "render", "--scenes", str(args.scenes), "--out", str(out),
        "--workers", "1", "--no-progress", "--config", args.config, "--set", f"camera.frames={args.frames}", *extra,
    ]  # fmt: skip
    wall, _ = run_timed(command)
    rows = []
    for record in read_index(out / contract.INDEX_FILE):
        physics = open_scene(out / record.scene).meta.timings["physics"]
        fixed = record.seconds - record.render_seconds - physics
        rows.append(
            {"fixed": fixed, "cycles": record.render_seconds, "physics": physics, "rank": record.process_scene or 1}
        )
    return wall, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=8)
    parser.add_argument("--frames", type=int, default=1)
    parser.add_argument("--config", default="tiny")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"{args.scenes} scenes of config {args.config!r}, {args.frames} frame(s) each, 1 worker, a local Ray cluster")
    with tempfile.TemporaryDirectory() as tmp:
        cold_wall, cold = farm(Path(tmp) / "cold", args)
        warm_wall, warm = farm(Path(tmp) / "warm", args, "--warm-workers")
    steady = [r["fixed"] for r in warm if r["rank"] > 1]
    mean = statistics.mean
    print(f"{'':34}{'per-process':>14}{'warm':>10}")
    print(f"{'farm wall time (s)':34}{cold_wall:14.1f}{warm_wall:10.1f}")
    print(
        f"{'Cycles per scene (s, mean)':34}{mean(r['cycles'] for r in cold):14.2f}{mean(r['cycles'] for r in warm):10.2f}"
    )
    print(
        f"{'physics per scene (s, mean)':34}{mean(r['physics'] for r in cold):14.2f}{mean(r['physics'] for r in warm):10.2f}"
    )
    cold_fixed, warm_fixed = mean(r["fixed"] for r in cold), mean(r["fixed"] for r in warm)
    print(f"{'fixed cost per scene (s, mean)':34}{cold_fixed:14.2f}{warm_fixed:10.2f}")
    print(
        f"{'  median':34}{statistics.median(r['fixed'] for r in cold):14.2f}{statistics.median(r['fixed'] for r in warm):10.2f}"
    )
    if steady:
        print(f"{'  warm, after the first scene':34}{'':14}{mean(steady):10.2f}  (target < 0.5 s)")
        print(f"{'  warm, first scene of the process':34}{'':14}{warm[0]['fixed']:10.2f}")
    print(f"fixed cost ratio per-process / warm: {cold_fixed / warm_fixed:.2f}")
    if steady:
        print(f"fixed cost ratio per-process / warm after the first scene: {cold_fixed / mean(steady):.2f}")
    print(f"farm wall time ratio per-process / warm: {cold_wall / warm_wall:.2f}")


if __name__ == "__main__":
    main()
