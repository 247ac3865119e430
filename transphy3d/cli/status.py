"""``transphy3d status``: what a render output directory holds, what failed and why."""

from __future__ import annotations

import argparse
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of ``transphy3d status``."""
    parser.description = (
        "Summarise a render output directory: the run's config and seed, finished, "
        "failed and leftover scenes, failures with their reasons and logs, and the last run's summary."
    )
    parser.add_argument("out", type=Path, help="render output directory")
    parser.add_argument("--verify", action="store_true",
                        help="also validate every finished scene (first and last frame read) and print how to render "
                        "the invalid ones again; exit code 1 when any is invalid")  # fmt: skip
    parser.add_argument("--repair", action="store_true", help="drop torn lines of index.jsonl and failures.jsonl")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from transphy3d.errors import ExitCode
    from transphy3d.farm.status import status_report

    report = status_report(args.out, verify=args.verify, repair=args.repair)
    print(report.text)
    return ExitCode.FAILED if report.invalid else ExitCode.OK
