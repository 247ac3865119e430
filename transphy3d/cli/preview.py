"""``transphy3d preview``: a quick look at a scene config or a recorded scene (contact sheet,
animation, .blend)."""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of ``transphy3d preview``."""
    from transphy3d.cli.options import CONFIG_HELP, add_override_argument
    from transphy3d.preview.settings import PreviewSettings

    defaults = PreviewSettings()
    parser.description = (
        "Sample a scene config (or re-create a recorded scene.yaml exactly), run physics, "
        "render a few frames spread over the whole camera path small and denoised, and write a contact "
        "sheet (RGB | depth | normal | instance mask per frame), an animation and the scene's .blend. "
        "Never writes into a render output directory."
    )
    parser.add_argument("scene", help=f"{CONFIG_HELP}, or a recorded scene.yaml")
    parser.add_argument("--seed", type=int, default=None, help="seed of the (first) sampled scene (default 0)")
    parser.add_argument(
        "--seeds", type=int, default=1, metavar="N", help="preview N scenes (seeds S..S+N-1) side by side (default 1)"
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=defaults.samples,
        help=f"samples per pixel, denoised (default {defaults.samples})",
    )
    parser.add_argument(
        "--frames",
        type=int,
        default=defaults.frames,
        metavar="N",
        help=f"frames spread over the whole camera path (default {defaults.frames})",
    )
    parser.add_argument(
        "--width",
        type=int,
        default=defaults.width,
        help=f"preview width in pixels, aspect ratio kept, never above the config's (default {defaults.width})",
    )
    parser.add_argument(
        "--out", help="preview directory (default previews/NAME in the current directory); replaced if it is a preview"
    )
    parser.add_argument("--open", action="store_true", help="open the contact sheet in the default image viewer")
    add_override_argument(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from transphy3d.preview.run import run
    from transphy3d.preview.settings import PreviewSettings
    from transphy3d.scene.config_loader import parse_overrides

    settings = PreviewSettings(frames=args.frames, width=args.width, samples=args.samples)
    return run(args.scene, args.seed, args.seeds, settings, args.out, parse_overrides(args.overrides), args.open)
