"""``transphy3d render``: the render farm (Ray), resumable."""

from __future__ import annotations

import argparse

from transphy3d.cli.options import add_model_options, add_override_argument, model_values
from transphy3d.farm.options import FarmOptions


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of ``transphy3d render``."""
    parser.description = (
        "Render scenes 0..N-1 of a config into an output directory, one Blender worker "
        "process per scene on Ray. Scene i always gets the same seed for a given --seed. Running the "
        "same command again renders only what is missing. Crashed, killed or timed-out workers are "
        "retried with backoff; scenes that use up their retries go to failures.jsonl."
    )
    dests = add_model_options(parser, FarmOptions)
    add_override_argument(parser)
    parser.set_defaults(func=_run, model_dests=dests)


def _run(args: argparse.Namespace) -> int:
    from transphy3d.errors import ExitCode
    from transphy3d.farm.driver import format_summary, run_farm

    options = FarmOptions(**model_values(args, args.model_dests), overrides=args.overrides)
    summary = run_farm(options)
    print(format_summary(summary, options.out))
    if summary.interrupted:
        return ExitCode.TERMINATED if summary.stop_signal == "SIGTERM" else ExitCode.INTERRUPTED
    return ExitCode.FAILED if summary.failed else ExitCode.OK
