"""``transphy3d doctor``: what a render node needs, one line each."""

from __future__ import annotations

import argparse
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of ``transphy3d doctor``."""
    parser.description = (
        "Check what rendering needs on this machine, one line each with ok or the problem and its "
        "fix: Python, the shipped configs and materials, bpy and the passes it writes, Cycles "
        "devices (OptiX, CUDA, HIP, CPU) with a probe render, denoisers, a real one-frame render "
        "validated against the data contract, Ray, free disk at --out, ffmpeg for previews, and "
        "the trainer's packages. Exit code 1 when rendering cannot work."
    )
    parser.add_argument("--out", type=Path, default=Path("."), help="where renders will go (default: here)")
    parser.add_argument("--no-render", action="store_true", help="skip the one-frame test render")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from transphy3d.doctor import run_checks
    from transphy3d.errors import ExitCode

    checks = run_checks(args.out, render=not args.no_render)
    for check in checks:
        print(check.line(), flush=True)
    broken = [c for c in checks if c.ok is False and c.blocks_rendering]
    print(f"{len(broken)} problem(s) stop rendering" if broken else "this machine can render")
    return ExitCode.FAILED if broken else ExitCode.OK
