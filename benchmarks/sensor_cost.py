"""The simulated depth camera's cost: per frame, the IR pair (Cycles) and the stereo matching as a
share of the beauty pass, measured side by side in the same render process (default config at
832x480, 64 samples; the sensor at its defaults: two 640x360 IR images at 8 samples).

    python benchmarks/sensor_cost.py [--frames 1] [--seeds 0] [--preset d415] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import machine, render_scene


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--preset", default="d415")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="more config overrides")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(
        "| seed | beauty s/frame | data s/frame | IR pair s/frame | stereo s/frame | sensor / beauty | opaque coverage | opaque within 2 % | transparent failed |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            sets = [
                "--set",
                f"camera.frames={args.frames}",
                "--set",
                "sensor.enabled=true",
                "--set",
                f"sensor.preset={args.preset}",
            ]
            for item in args.set:
                sets += ["--set", item]
            _, meta = render_scene(Path(tmp) / f"seed{seed}", "--seed", str(seed), *sets)
            t, n = meta["timings"], args.frames
            extra = t["render_ir"] + t["stereo"]
            ratios.append(extra / t["render_beauty"])
            s = meta["sensor"]
            print(
                f"| {seed} | {t['render_beauty'] / n:.1f} | {t['render_data'] / n:.2f} | {t['render_ir'] / n:.1f} | "
                f"{t['stereo'] / n:.2f} | {100 * ratios[-1]:.1f} % | {100 * s['opaque']['coverage']:.1f} % | "
                f"{100 * s['opaque']['within_2pct']:.1f} % | {100 * s['transparent']['failed']:.1f} % |"
            )
    print(f"mean extra time of the sensor as a share of the beauty pass: {100 * sum(ratios) / len(ratios):.1f} %")


if __name__ == "__main__":
    main()
