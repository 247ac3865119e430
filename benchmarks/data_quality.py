"""Data quality of the default config, measured: renders N small scenes of each config given
(masks do not depend on size or samples, so 104x60, 6 frames, 16 spp) on the local farm and
prints the report's figures side by side, baseline first.

    python benchmarks/data_quality.py [--scenes 30] [--seed 1] [CONFIG ...]
    (default configs: benchmarks/configs/default_0.1.yaml, i.e. the 0.1.0 default, and default)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import machine

from transphy3d.report.collect import collect
from transphy3d.report.figures import summarize

HERE = Path(__file__).resolve().parent
SMALL = ["render.width=104", "render.height=60", "camera.frames=6", "render.samples=16"]
ROWS = [
    ("object share, median over frames", "object_share.median", "pct"),
    ("object share, mean", "object_share.mean", "pct"),
    ("object share, p10 of frames", "object_share.p10", "pct"),
    ("transparent share, mean", "transparent_share.mean", "pct"),
    ("transparent share, median", "transparent_share.median", "pct"),
    ("(object, frame) pairs visible", "visibility.visible_pairs", "pct"),
    ("frames without a visible object", "visibility.frames_without_visible_object", "int"),
    ("scenes with < 95 % pairs visible", "visibility.scenes_below_95", "int"),
    ("scenes that needed another camera", "camera.kept.alternative", "int"),
    ("scenes whose visibility check failed", "camera.visibility_check_failed", "int"),
    ("objects per scene, mean", "objects_per_scene.mean", "num"),
    ("camera elevation, median (deg)", "camera.elevation_deg.median", "num"),
    ("camera distance, median (m)", "camera.distance_m.median", "num"),
    ("dropped objects", "physics.dropped_objects", "int"),
    ("seconds per frame (104x60, 16 spp)", "seconds_per_frame.median", "num"),
]


def figure(figures: dict, dotted: str):
    value = figures
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def shown(value, kind: str) -> str:
    if value is None:
        return "n/a"
    return {"pct": f"{100 * value:.1f} %", "int": f"{int(value)}", "num": f"{value:.2f}"}[kind]


def render(config: str, scenes: int, seed: int, out: Path) -> float:
    start = time.perf_counter()
    args = ["render", "--config", config, "--scenes", str(scenes), "--seed", str(seed), "--out", str(out)]
    for item in SMALL:
        args += ["--set", item]
    result = subprocess.run(
        [sys.executable, "-m", "transphy3d", *args, "--no-progress"], capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.exit(f"rendering {config} failed:\n{result.stderr[-3000:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", default=[str(HERE / "configs" / "default_0.1.yaml"), "default"])
    parser.add_argument("--scenes", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    columns = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, config in enumerate(args.configs):
            seconds = render(config, args.scenes, args.seed, Path(tmp) / f"run{i}")
            columns.append(summarize(collect(Path(tmp) / f"run{i}", progress=False)))
            print(f"rendered {args.scenes} scenes of {config} in {seconds:.0f} s")
    names = [Path(c).stem for c in args.configs]
    width = max(len(r[0]) for r in ROWS) + 2
    print("".ljust(width) + "".join(n.rjust(18) for n in names))
    for label, key, kind in ROWS:
        print(label.ljust(width) + "".join(shown(figure(f, key), kind).rjust(18) for f in columns))


if __name__ == "__main__":
    main()
