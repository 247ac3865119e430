"""``transphy3d datasets inspect SPEC...``: what each dataset decodes to, before a long run."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from transphy3d.datasets.spec import KINDS
from transphy3d.errors import ExitCode
from transphy3d.files import check_output_dir


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of ``transphy3d datasets``."""
    parser.description = "Datasets as published, read through transphy3d.datasets (" + ", ".join(KINDS) + ")."
    commands = parser.add_subparsers(dest="datasets_command", metavar="DATASETS_COMMAND", required=True)
    inspect = commands.add_parser(
        "inspect",
        help="figures and a contact sheet (rgb | depth | transparent mask) of each dataset",
        description="For each [KIND:]PATH: sequences, frames, resolutions, depth range, share of invalid depth and "
        "of transparent pixels (over --sample frames taken evenly), and OUT/<n>_<kind>.png, a contact sheet of "
        "--sheet frames, so you see the data decoded right before a long run. Writes OUT/inspect.json.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    inspect.add_argument("specs", nargs="+", metavar="SPEC", help="[KIND:]PATH (KIND: " + ", ".join(KINDS) + ")")
    inspect.add_argument("--out", required=True, help="folder for the contact sheets and inspect.json")
    inspect.add_argument("--sample", type=int, default=64, help="frames decoded for the figures")
    inspect.add_argument("--sheet", type=int, default=4, help="frames on each contact sheet")
    inspect.add_argument("--subset", default=None, help="ClearPose subset (heavy_occlusion, new_background, ...)")
    inspect.add_argument("--index-cache", default=None, help="directory-scan cache (default ~/.cache/transphy3d/index)")
    inspect.set_defaults(func=run_inspect)


def run_inspect(args: argparse.Namespace) -> int:
    from transphy3d.datasets import open_dataset
    from transphy3d.datasets.inspection import contact_sheet, evenly, figures
    from transphy3d.errors import UserError

    if args.sample < 1 or args.sheet < 1:
        raise UserError(f"{min(args.sample, args.sheet)}: must be >= 1", field="--sample/--sheet")
    out = check_output_dir(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cache = Path(args.index_cache) if args.index_cache else Path.home() / ".cache" / "transphy3d" / "index"
    report = []
    for number, spec in enumerate(args.specs):
        dataset = open_dataset(spec, cache_dir=cache, **({"subset": args.subset} if args.subset else {}))
        result = figures(dataset, evenly(dataset, args.sample)).as_dict()
        sheet = contact_sheet(evenly(dataset, args.sheet), out / f"{number}_{dataset.kind}.png")
        result["contact_sheet"] = str(sheet)
        report.append(result)
        print(
            f"{spec}: {dataset.kind}, {result['sequences']} sequences, {result['frames']} frames "
            f"({result['frames_read']} read), {', '.join(result['resolutions'])}, depth "
            f"{_number(result['depth_min_m'], 3)}-{_number(result['depth_max_m'], 3)} m, invalid "
            f"{_percent(result['invalid_share'])}, transparent {_percent(result['transparent_share'])}; "
            f"{result['skipped']} skipped; {sheet}"
        )
    (out / "inspect.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return ExitCode.OK


def _number(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"
