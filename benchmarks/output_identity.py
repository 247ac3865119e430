"""Are the renderer's output bytes unchanged by a code change? Render the shipped configs (small:
few frames, few samples, tiny images) with the code on ``PYTHONPATH`` into a folder, once before
and once after the change, then compare the two folders file by file.

    PYTHONPATH=/path/to/old/checkout python benchmarks/output_identity.py render /tmp/before
    python benchmarks/output_identity.py render /tmp/after
    python benchmarks/output_identity.py compare /tmp/before /tmp/after

Every file must be byte-identical, but for what records the wall clock or the checkout: PNGs are
compared by their pixels (Blender stamps the render date and time in a PNG text chunk), meta.json
without its ``timings`` and ``seconds_per_frame``, and the shipped asset bank's absolute path
(scene.yaml, objects.json of scenes with static assets) is the same wherever it lies (scene.yaml is
compared as data: its line wrapping depends on that path's length).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

SMALL = ("--set", "render.width=48", "--set", "render.height=32", "--set", "camera.frames=3",
         "--set", "render.samples=4")  # fmt: skip
# (name, config, seed, extra overrides): every shipped config, and the optional outputs on.
CASES = (
    ("tiny", "tiny", 1, ()),
    ("default", "default", 2, ()),
    ("tabletop", "tabletop", 3, ()),
    ("container", "container", 4, ()),
    ("mixed", "mixed", 5, ()),
    (
        "flow_sensor_ir",
        "tiny",
        6,
        ("--set", "output.flow=true", "--set", "sensor.enabled=true", "--set", "sensor.keep_ir=true"),
    ),
)
WALL_CLOCK_KEYS = ("timings", "seconds_per_frame")


def render(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, config, seed, extra in CASES:
        command = [sys.executable, "-m", "transphy3d", "render-scene", config, "--seed", str(seed),
                   "--out", str(out / name), "--quiet", "--overwrite", *SMALL, *extra]  # fmt: skip
        print(f"{name}: rendering", flush=True)
        subprocess.run(command, check=True)


SHIPPED_BANK = re.compile(rb"[^\s,{}\[\]\"']*/assets_manifest/")


def _comparable(path: Path) -> bytes:
    if path.suffix == ".png":
        from PIL import Image

        with Image.open(path) as image:
            return image.mode.encode() + image.tobytes()
    if path.suffix == ".yaml":  # its line wrapping depends on the bank's path length: compare the data
        import yaml

        return SHIPPED_BANK.sub(b"<assets_manifest>/", json.dumps(yaml.safe_load(path.read_text())).encode())
    if path.name != "meta.json":
        return SHIPPED_BANK.sub(b"<assets_manifest>/", path.read_bytes())
    meta = json.loads(path.read_text())
    for key in WALL_CLOCK_KEYS:
        meta.pop(key, None)
    return json.dumps(meta, sort_keys=True).encode()


def compare(before: Path, after: Path) -> int:
    names = sorted({p.relative_to(before) for p in before.rglob("*") if p.is_file()}
                   | {p.relative_to(after) for p in after.rglob("*") if p.is_file()})  # fmt: skip
    differing = [n for n in names if not ((before / n).is_file() and (after / n).is_file())
                 or _comparable(before / n) != _comparable(after / n)]  # fmt: skip
    for name in differing:
        print(f"differs: {name}")
    print(f"{len(names) - len(differing)} of {len(names)} files identical")
    return 1 if differing else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("render").add_argument("out", type=Path)
    diff = sub.add_parser("compare")
    diff.add_argument("before", type=Path)
    diff.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.action == "render":
        render(args.out)
        return 0
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
