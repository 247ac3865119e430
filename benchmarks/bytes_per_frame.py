"""Bytes per frame on disk for each output at 832x480, and the lossless EXR codec for depth and
normals chosen by measurement (size and encode/decode time, side by side in one run).

    python benchmarks/bytes_per_frame.py [--frames 3] [--samples 32]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import machine, render_scene

from transphy3d.output import frame_files
from transphy3d.output.exr import LOSSLESS_COMPRESSIONS, NEW_LOSSLESS_COMPRESSIONS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=3)
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    print(f"machine: {machine()}")
    totals: dict[str, list[int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        scenes = []
        for seed in args.seeds:
            out = Path(tmp) / f"scene_{seed}"
            render_scene(
                out,
                "--seed",
                str(seed),
                "--set",
                f"camera.frames={args.frames}",
                "--set",
                f"render.samples={args.samples}",
                "--set",
                "output.flow=true",
            )
            scenes.append(out)
            for kind in ("rgb", "depth", "normal", "mask", "flow"):
                totals.setdefault(kind, []).extend(p.stat().st_size for p in (out / kind).iterdir())
        print(f"\nper-frame bytes at 832x480 ({len(args.seeds)} scenes x {args.frames} frames, default codec zip):")
        frame_total = 0.0
        for kind, sizes in totals.items():
            mean = float(np.mean(sizes))
            if kind != "flow":
                frame_total += mean
            print(f"  {kind:7s} {mean / 1e6:7.3f} MB")
        print(f"  {'total':7s} {frame_total / 1e6:7.3f} MB (without the optional flow)")

        print("\nEXR codecs on the same depth and normal frames (lossless; size, encode, decode):")
        depths = [frame_files.read_depth(p) for s in scenes for p in sorted((s / "depth").iterdir())]
        normals = [frame_files.read_normal(p) for s in scenes for p in sorted((s / "normal").iterdir())]
        rows = []
        for name in [*LOSSLESS_COMPRESSIONS, *NEW_LOSSLESS_COMPRESSIONS]:
            sizes, enc, dec = [], 0.0, 0.0
            for i, (d, n) in enumerate(zip(depths, normals, strict=True)):
                dp, np_ = Path(tmp) / f"d{i}.exr", Path(tmp) / f"n{i}.exr"
                t = time.perf_counter()
                frame_files.write_depth(dp, d, name)
                frame_files.write_normal(np_, n, name)
                enc += time.perf_counter() - t
                t = time.perf_counter()
                back_d, back_n = frame_files.read_depth(dp), frame_files.read_normal(np_)
                dec += time.perf_counter() - t
                assert np.array_equal(back_d, d) and np.array_equal(back_n, n.astype(np.float16).astype(np.float32))
                sizes.append((dp.stat().st_size, np_.stat().st_size))
            k = len(depths)
            rows.append((name, np.mean([s[0] for s in sizes]), np.mean([s[1] for s in sizes]), enc / k, dec / k))
        base = dict((r[0], r) for r in rows)["zip"]
        for name, ds, ns, e, d in rows:
            print(
                f"  {name:6s} depth {ds / 1e6:6.3f} MB  normal {ns / 1e6:6.3f} MB  "
                f"size vs zip {(ds + ns) / (base[1] + base[2]):5.2f}  encode {e * 1e3:6.1f} ms  decode {d * 1e3:6.1f} ms"
            )


if __name__ == "__main__":
    main()
