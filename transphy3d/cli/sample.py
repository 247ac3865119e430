"""``transphy3d sample``: the resolved SceneSpec of a config and seed (no Blender)."""

from __future__ import annotations

import argparse
import sys


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of ``transphy3d sample``."""
    from transphy3d.cli.options import CONFIG_HELP, add_override_argument

    parser.description = (
        "Sample a scene config with a seed and write the resolved SceneSpec (before "
        "physics) as YAML. Same config + same seed = the same spec on any machine."
    )
    parser.add_argument("config", help=CONFIG_HELP)
    parser.add_argument("--seed", type=int, default=None, help="seed (default 0; a recorded scene keeps its own)")
    add_override_argument(parser)
    parser.add_argument("--out", help="write the spec here instead of standard output")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from transphy3d.files import check_output_file, write_text_atomic
    from transphy3d.pipeline import resolve_scene
    from transphy3d.scene.config_loader import parse_overrides
    from transphy3d.scene.spec import spec_to_yaml

    out = check_output_file(args.out) if args.out else None
    spec, _ = resolve_scene(args.config, args.seed, parse_overrides(args.overrides))
    text = spec_to_yaml(spec)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(out, text)
    else:
        sys.stdout.write(text)
    return 0
