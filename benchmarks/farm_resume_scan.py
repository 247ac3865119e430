"""Time of the resume scan of a run directory holding 11,000 finished scenes (synthetic markers:
one directory and one index line per scene, as the farm leaves them), plus a few leftovers.

    python benchmarks/farm_resume_scan.py [--scenes 11000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _common import machine

from transphy3d.farm.rundir import scan, scene_seed
from transphy3d.output.contract import FAILURES_FILE, INDEX_FILE, scene_name
from transphy3d.output.records import append_record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=11000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        start = time.perf_counter()
        with open(out / INDEX_FILE, "w") as index:
            for i in range(args.scenes):
                (out / scene_name(i)).mkdir()
                index.write(
                    f'{{"attempts": 1, "device": "OPTIX", "frames": 120, "index": {i}, "node": "gpu-{i % 64}", '
                    f'"render_seconds": 512.3, "scene": "{scene_name(i)}", "seconds": 530.1, "seed": {scene_seed(0, i)}}}\n'
                )
        (out / f"{scene_name(args.scenes)}.partial-4242").mkdir()
        append_record(out / FAILURES_FILE, {"scene": scene_name(args.scenes), "index": args.scenes, "error": "x"})
        print(f"made {args.scenes} synthetic scenes in {time.perf_counter() - start:.1f} s")
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            state = scan(out)
            todo = [i for i in range(args.scenes + 100) if i not in state.done]
            times.append(time.perf_counter() - t)
        assert len(state.done) == args.scenes and len(todo) == 100 and state.partial
        print(f"resume scan of {args.scenes} finished scenes: median {statistics.median(times):.3f} s "
              f"(runs: {', '.join(f'{x:.3f}' for x in times)}; target < 2 s)")  # fmt: skip


if __name__ == "__main__":
    main()
