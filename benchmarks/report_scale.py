"""Time of ``transphy3d report`` on a run of 11,000 finished scenes: each a copy of one real
rendered scene's small files (meta.json with its quality figures at 120 frames, camera.json, the
first RGB frame; links, to spare the disk), listed in index.jsonl.

    python benchmarks/report_scale.py [--scenes 11000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import machine

from transphy3d.output import channels, contract


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=11000)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = tmp / "source"
        # a real scene at the default frame count (tiny size): its meta.json is what the report reads
        subprocess.run(
            [sys.executable, "-m", "transphy3d", "render-scene", "tiny", "--out", str(source), "--quiet",
             "--set", "camera.frames=120", "--set", "render.samples=1"],
            check=True,
        )  # fmt: skip
        meta = json.loads((source / contract.META_FILE).read_text())
        print(f"meta.json: {(source / contract.META_FILE).stat().st_size} bytes, {meta['num_frames']} frames")
        run = tmp / "run"
        start = time.perf_counter()
        with open(run.mkdir() or run / contract.INDEX_FILE, "w") as index:
            for i in range(args.scenes):
                scene = run / contract.scene_name(i)
                (scene / channels.RGB).mkdir(parents=True)
                for name in (contract.META_FILE, contract.CAMERA_FILE):
                    os.link(source / name, scene / name)
                os.link(source / channels.RGB / "000000.png", scene / channels.RGB / "000000.png")
                index.write(json.dumps({"scene": scene.name, "index": i}) + "\n")
        print(f"made {args.scenes} scenes in {time.perf_counter() - start:.0f} s")
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "transphy3d", "report", str(run)], capture_output=True, text=True, check=True
        )
        seconds = time.perf_counter() - start
        print(result.stdout.splitlines()[0])
        print(f"transphy3d report on {args.scenes} scenes: {seconds:.1f} s wall (plots, 24 thumbnails included)")


if __name__ == "__main__":
    main()
