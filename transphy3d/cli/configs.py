"""``transphy3d configs``: the scene configs shipped with the package."""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of ``transphy3d configs``."""
    parser.description = (
        "List the scene configs shipped with transphy3d: every command takes one by name "
        "(`transphy3d render --config tabletop`), or a path to your own (which may inherit a "
        "shipped one with `base:`)."
    )
    parser.add_argument("--paths", action="store_true", help="print only the files' paths, one per line")
    parser.set_defaults(func=_run)


def _summary(text: str) -> str:
    """The first line of the config's leading comment."""
    first = text.splitlines()[0] if text.strip() else ""
    return first.lstrip("# ").strip() if first.startswith("#") else ""


def _run(args: argparse.Namespace) -> int:
    from transphy3d.resources import shipped_configs

    configs = shipped_configs()
    width = max(len(name) for name in configs)
    for name, path in configs.items():
        print(path if args.paths else f"{name:<{width}}  {_summary(path.read_text(encoding='utf-8'))}")
    return 0
