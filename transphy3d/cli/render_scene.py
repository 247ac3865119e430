"""``transphy3d render-scene``: render one scene (used by the farm for each scene)."""

from __future__ import annotations

import argparse
from typing import get_args

from transphy3d.cli.options import CONFIG_HELP, add_override_argument
from transphy3d.scene.spec import Device


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of ``transphy3d render-scene``."""
    parser.description = (
        "Render one scene: sample it from a scene config (with --seed) or re-create a "
        "recorded scene.yaml exactly, run physics, render RGB, depth, normals, masks and poses with "
        "Cycles, and write the scene directory atomically."
    )
    parser.add_argument("scene", nargs="?", help=f"{CONFIG_HELP}, or a recorded scene.yaml")
    parser.add_argument("--out", help="scene directory to write (e.g. out/scene_000000); required")
    parser.add_argument("--seed", type=int, default=None, help="seed for sampling a config (default 0)")
    add_override_argument(parser)
    parser.add_argument("--overwrite", action="store_true", help="replace an existing scene directory")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or warnings")
    parser.add_argument("--log", help="where Blender's console log goes if the render fails (default: OUT.log)")
    parser.add_argument(
        "--device",
        choices=get_args(Device),
        help="render device (default: the config's render.device; auto tries OptiX > CUDA > HIP > CPU)",
    )
    parser.add_argument("--threads", type=int, help="CPU threads (default: the config's render.threads; 0 = all)")
    parser.add_argument("--lease", help="(used by the farm) stop, leaving nothing behind, once this file is removed "
                        "or the parent process is gone")  # fmt: skip
    parser.add_argument("--job", help="(used by the farm) the whole job as one line of JSON (transphy3d.jobs.RenderJob), "
                        "instead of SCENE and the options")  # fmt: skip
    parser.add_argument("--allow-outside-assets", action="store_true", help="let a recorded scene.yaml load "
                        "meshes outside its folder and the asset banks ($TRANSPHY3D_ASSET_BANKS), each checked "
                        "against its recorded sha256")  # fmt: skip
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from transphy3d.errors import UserError
    from transphy3d.jobs import RenderJob
    from transphy3d.pipeline import run

    if args.job is not None:
        return run(RenderJob.from_line(args.job))
    if args.scene is None or args.out is None:
        raise UserError("give SCENE and --out (or --job)")
    if args.threads is not None and args.threads < 0:
        raise UserError(f"must be >= 0 (0 = every CPU), got {args.threads}", field="--threads")
    return run(RenderJob.from_options(vars(args)))
