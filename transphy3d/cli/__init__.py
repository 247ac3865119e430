"""The ``transphy3d`` command. Each sub-command lives in its own module under
``transphy3d.cli`` (or a feature package) and exposes ``register(subparsers)``; heavy
imports (bpy, torch, ray) happen inside the command, never at start-up."""

from __future__ import annotations

import argparse
import importlib
import sys

from transphy3d._version import __version__
from transphy3d.errors import ExitCode, UserError

COMMAND_MODULES = [
    "transphy3d.cli.assets",
    "transphy3d.cli.preview",
    "transphy3d.cli.render",
    "transphy3d.cli.render_scene",
    "transphy3d.cli.status",
    "transphy3d.cli.validate",
    "transphy3d.cli.sample",
    "transphy3d.cli.dkt",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="transphy3d",
        description="Synthetic videos of transparent and reflective objects (Blender Cycles), "
        "and a DKT video-depth trainer.",
    )
    parser.add_argument("--version", action="version", version=f"transphy3d {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or ExitCode.OK)
    except UserError as error:
        print(f"transphy3d {args.command}: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"transphy3d {args.command}: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
