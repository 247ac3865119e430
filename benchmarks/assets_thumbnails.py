"""Thumbnail seconds per asset: `transphy3d assets thumbnails` on a copy of the shipped starter
bank (first run renders, second run is served from the cache).

    python benchmarks/assets_thumbnails.py [--views 3] [--size 160] [--samples 16]
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

from _common import REPO, machine, run_timed


def run(manifest: Path, args: argparse.Namespace) -> tuple[float, str]:
    command = [sys.executable, "-m", "transphy3d", "assets", "thumbnails", "--manifest", str(manifest),
               "--views", str(args.views), "--size", str(args.size), "--samples", str(args.samples)]  # fmt: skip
    wall, stdout = run_timed(command)
    return wall, stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--views", type=int, default=3)
    parser.add_argument("--size", type=int, default=160)
    parser.add_argument("--samples", type=int, default=16)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        bank = Path(tmp) / "assets_manifest"
        shutil.copytree(REPO / "assets_manifest", bank, ignore=shutil.ignore_patterns("thumbs"))
        manifest = bank / "starter.jsonl"
        assets = sum(1 for line in manifest.read_text().splitlines() if line.strip())
        first_wall, first = run(manifest, args)
        second_wall, second = run(manifest, args)
    per_asset = float(re.search(r"([0-9.]+) s per rendered asset", first).group(1))
    print(f"{assets} assets, {args.views} views of {args.size}x{args.size} px, {args.samples} spp, CPU + OIDN")
    print(f"render: {per_asset:.2f} s per asset ({per_asset / args.views:.2f} s per view); "
          f"command wall {first_wall:.1f} s ({first_wall / assets:.2f} s per asset incl. start-up)")  # fmt: skip
    print(f"cached re-run: command wall {second_wall:.1f} s ({second})")


if __name__ == "__main__":
    main()
