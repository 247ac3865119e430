"""``transphy3d validate``: check every scene of an output against the data contract."""

from __future__ import annotations

import argparse
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of ``transphy3d validate``."""
    parser.description = (
        "Check each scene directory (or one scene) for the files of the data contract, "
        "their shapes, dtypes and value ranges; report problems per scene. Exit code 1 if any."
    )
    parser.add_argument("path", type=Path, help="render output directory or one scene directory")
    parser.add_argument("--quick", action="store_true", help="read only the first and last frame of each scene")
    parser.add_argument("--workers", type=int, default=4, help="scenes checked in parallel (default 4)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import sys
    from concurrent.futures import ThreadPoolExecutor

    from tqdm import tqdm

    from transphy3d.errors import ExitCode, UserError
    from transphy3d.output import contract
    from transphy3d.output.validate import validate_scene

    root = args.path
    if contract.is_scene_dir(root):
        scenes = [root]
    elif root.is_dir():
        scenes = contract.scene_dirs(root, finished_only=False)
    else:
        raise UserError("not a directory", path=str(root))
    if not scenes:
        raise UserError("no scene directories (scene_*) found", path=str(root))
    frames = "ends" if args.quick else "all"
    with ThreadPoolExecutor(max_workers=max(1, args.workers)) as pool:
        reports = list(
            tqdm(
                pool.map(lambda p: validate_scene(p, frames), scenes),
                total=len(scenes),
                unit="scene",
                disable=len(scenes) < 2 or not sys.stderr.isatty(),
            )
        )
    bad = [r for r in reports if not r.ok]
    for report in bad:
        for problem in report.problems:
            print(f"{report.scene}: {problem}")
    frames_total = sum(r.frames for r in reports)
    print(
        f"validated {len(reports)} scene(s), {frames_total} frames: {len(reports) - len(bad)} ok, {len(bad)} with problems"
    )
    return ExitCode.FAILED if bad else ExitCode.OK
