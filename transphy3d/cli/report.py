"""``transphy3d report``: the data-quality report of a render run."""

from __future__ import annotations

import argparse
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of ``transphy3d report``."""
    parser.description = (
        "Measure a render run as training data: object and transparent pixel share, visibility, "
        "materials, families, depth, camera, physics, render time and failures. Writes report.json "
        "and report.html (plots, thumbnails) into RUN_DIR/report or --out."
    )
    parser.add_argument("run_dir", type=Path, help="render output directory (or one scene directory)")
    parser.add_argument("--out", type=Path, help="where to write the report (default RUN_DIR/report)")
    parser.add_argument("--thumbnails", type=int, default=24, help="scenes shown as thumbnails (default 24)")
    parser.add_argument("--no-plots", action="store_true", help="skip the plots (no matplotlib needed)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from transphy3d.errors import UserError
    from transphy3d.report.run import make_report

    if args.thumbnails < 0:
        raise UserError(f"--thumbnails must be at least 0, got {args.thumbnails}")
    report = make_report(args.run_dir, args.out, args.thumbnails, plots=not args.no_plots)
    f = report.figures

    def pct(value) -> str:
        return "n/a" if value is None else f"{100 * value:.1f} %"

    share, transparent, vis = f["object_share"], f["transparent_share"], f["visibility"]
    print(
        f"{f['scenes']} scenes, {f['frames']} frames, {f['objects']} objects: objects cover {pct(share['median'])} "
        f"of a frame (median; mean {pct(share['mean'])}), transparent objects {pct(transparent['mean'])} (mean); "
        f"visible in {pct(vis['visible_pairs'])} of (object, frame) pairs; "
        f"{vis['frames_without_visible_object']} frames without a visible object; "
        f"{f['failures']['scenes']} failed scenes"
    )
    liquids = f["liquids"]
    print(
        f"  liquid: {liquids['scenes']} scenes ({pct(liquids['scene_share'])}) with a filled container, "
        f"{liquids['containers']} containers; liquid is the first surface of "
        f"{pct((liquids['pixel_share'] or {}).get('mean'))} of a frame (mean)"
    )
    for row in f["render_cost"]:
        print(
            f"  render: {row['scenes']} scenes on {row['device']} at quality {row['quality']}: "
            f"{row['seconds_per_frame']['median']:.2f} s per frame (median)"
        )
    sensor = f.get("sensor")
    if sensor:
        opaque, glass = sensor.get("opaque", {}), sensor.get("transparent", {})
        print(
            f"  depth camera ({sensor['scenes']} scenes, within its ideal range): opaque {pct(opaque.get('coverage'))} "
            f"with a return, {pct(opaque.get('within_2pct'))} of those within 2 %; transparent "
            f"{pct(glass.get('failed'))} missing or off by more than 2 %"
        )
    for key, result in f["targets"].items():
        if result["met"] is False:
            print(f"  below the default-config target: {key} = {result['value']} (target {result['target']})")
    if f["counted_from_files"]:
        print(f"  {f['counted_from_files']} scenes had no quality figures in meta.json: counted from their masks")
    for line in f["unreadable"][:5]:
        print(f"  unreadable, skipped: {line}")
    print(f"  {report.html_path}\n  {report.json_path}")
    return 0
