"""``transphy3d export``: a render run as a BOP, COCO or published TransPhy3D dataset."""

from __future__ import annotations

import argparse
from pathlib import Path

from transphy3d.export.options import CATEGORY_KINDS, DEFAULT_SCENE_TYPE, DEFAULT_SPLIT, FORMATS, IMAGE_MODES


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of ``transphy3d export``."""
    parser.description = (
        "Write the scenes of a render run in another ecosystem's format: bop (BOP-scenewise, for 6D pose "
        "tools), coco (COCO instances with RLE masks, for instance segmenters) or transphy3d (the published "
        "TransPhy3D WebDataset tars). Resumable: scenes already exported are kept, so running the command "
        "again finishes an interrupted export. One line per bad scene, which is skipped; exit code 1 if any was."
    )
    parser.add_argument("run_dir", type=Path, help="render output directory (or one scene directory)")
    parser.add_argument("--format", required=True, choices=FORMATS, help="what to write")
    parser.add_argument("--out", type=Path, required=True, help="the export's directory (created)")
    parser.add_argument("--split", default=DEFAULT_SPLIT, help=f"bop: the split folder (default {DEFAULT_SPLIT})")
    parser.add_argument(
        "--categories", default=CATEGORY_KINDS[0], choices=CATEGORY_KINDS,
        help="coco: what a category is: the object family (static assets: their asset id), the material class, "
        "or transparent / opaque (default family)",
    )  # fmt: skip
    parser.add_argument(
        "--images", default=IMAGE_MODES[0], choices=IMAGE_MODES,
        help="coco: hard-link the frames (copied where linking fails; default) or copy them",
    )  # fmt: skip
    parser.add_argument(
        "--shard-frames", type=int, default=None,
        help="transphy3d: frames per tar (default: a scene's frames in one tar, as the release)",
    )  # fmt: skip
    parser.add_argument(
        "--scene-type",
        default=DEFAULT_SCENE_TYPE,
        help=f"transphy3d: the tar names' scene type (default {DEFAULT_SCENE_TYPE})",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=_run)


def make_exporter(args: argparse.Namespace, out: Path):
    """The exporter of ``--format`` with its options."""
    if args.format == "bop":
        from transphy3d.export.bop import BopExporter

        return BopExporter(out, args.split)
    if args.format == "coco":
        from transphy3d.export.coco import CocoExporter

        return CocoExporter(out, args.categories, args.images)
    from transphy3d.export.published import PublishedExporter

    return PublishedExporter(out, args.shard_frames, args.scene_type)


def _run(args: argparse.Namespace) -> int:
    from transphy3d.errors import ExitCode, UserError
    from transphy3d.export.run import export_run
    from transphy3d.files import check_output_dir
    from transphy3d.output.contract import OBJECTS_FILE, is_scene_dir

    out = check_output_dir(args.out)
    in_scene = any(is_scene_dir(p) and (p / OBJECTS_FILE).is_file() for p in (out, *out.parents))
    if out == args.run_dir.absolute() or in_scene:
        raise UserError("must not be the run directory or lie inside a scene", path=str(out), field="--out")
    exporter = make_exporter(args, out)
    summary = export_run(args.run_dir, out, exporter, progress=not args.no_progress)
    print(summary.line(args.format, out))
    return ExitCode.FAILED if summary.skipped else ExitCode.OK
