"""The simulated depth camera on default scenes: per seed and over all, how much of each region
gets a return and how much of it is right (within 2 % of the true depth). Regions as in
meta.json's ``sensor``: ``opaque`` and ``transparent`` within the ideal range (min-Z to 3 m),
``opaque_far`` beyond it. The beauty pass is cut to 1 sample (it does not touch the sensor).

    python benchmarks/sensor_coverage.py [--seeds 0 1 2 3 4 5] [--frames 3] [--preset d415] [--config default]
        [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import machine, render_scene

from transphy3d.sensor.agreement import REGIONS


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(6)))
    parser.add_argument("--frames", type=int, default=3, help="frames spread over the whole camera path")
    parser.add_argument("--preset", default="d415")
    parser.add_argument("--config", default="default", help="a shipped scene config's name, or a path")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="more config overrides")
    args = parser.parse_args()
    print(f"machine: {machine()}; config {args.config}, preset {args.preset}")
    header = " | ".join(f"{r} pixels | {r} coverage | {r} within 2 %" for r in REGIONS)
    print(f"| seed | {header} |")
    print("| --- " * (1 + 3 * len(REGIONS)) + "|")
    totals = {r: [0.0, 0.0, 0.0] for r in REGIONS}  # pixels, returns, good returns
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            sets = [f"camera.frames={args.frames}", "render.samples=1", "render.denoise=false"]
            sets += ["sensor.enabled=true", f"sensor.preset={args.preset}", *args.set]
            _, meta = render_scene(
                Path(tmp) / f"seed{seed}",
                "--seed",
                str(seed),
                *[a for s in sets for a in ("--set", s)],
                config=args.config,
            )
            cells = []
            for region in REGIONS:
                f = meta["sensor"][region]
                returns = f["coverage"] * f["pixels"]
                totals[region][0] += f["pixels"]
                totals[region][1] += returns
                totals[region][2] += f["within_2pct"] * returns
                cells += [
                    str(int(f["pixels"])),
                    pct(f["coverage"] if f["pixels"] else None),
                    pct(f["within_2pct"] if returns else None),
                ]
            print(f"| {seed} | {' | '.join(cells)} |", flush=True)
    cells = []
    for region in REGIONS:
        pixels, returns, good = totals[region]
        cells += [f"{int(pixels)}", pct(returns / pixels if pixels else None), pct(good / returns if returns else None)]
    print(f"| all | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
