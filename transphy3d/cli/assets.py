"""``transphy3d assets import|fetch|thumbnails|filter|starter``: the static asset bank."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from transphy3d.assets.vlm.backends import FilterOptions
from transphy3d.cli.options import add_model_options, model_values
from transphy3d.errors import ExitCode, UserError


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of ``transphy3d assets``."""
    parser.description = (
        "Build the static asset bank scene sampling draws from: import model files into a "
        "manifest (one canonical mesh each), fetch BlenderKit models, render thumbnails, and keep the "
        "transparent or reflective ones with a Qwen2.5-VL filter."
    )
    commands = parser.add_subparsers(dest="assets_command", metavar="ASSETS_COMMAND", required=True)

    imp = commands.add_parser(
        "import",
        help="import .blend/.glb/.gltf/.obj/.ply files into a manifest",
        description="Scan files or folders, convert each asset once (Blender) into a canonical mesh "
        "(one triangulated mesh, z up, metres; plus a .blend with its own materials), and record it in "
        "the manifest. Broken or empty files are reported and skipped.",
    )
    imp.add_argument("inputs", nargs="+", metavar="DIR_OR_FILE")
    imp.add_argument("--manifest", required=True, help="manifest to create or extend (.jsonl)")
    imp.add_argument("--cache", help="folder for canonical meshes (default: cache/ next to the manifest)")
    imp.add_argument("--licence", help="licence of assets without sidecar metadata (cc_zero, royalty_free, ...)")
    imp.add_argument("--category", help="category of assets without sidecar metadata")
    imp.add_argument("--timeout", type=float, default=300.0, help="seconds one file may take (default 300)")
    imp.add_argument("--report", help="write the import report (JSON) here (default: <manifest>.import.json)")
    imp.set_defaults(func=_import)

    fetch = commands.add_parser(
        "fetch",
        help="search and download BlenderKit models (needs an API key)",
        description="Search BlenderKit (Blendkit) for models and download them with sidecar metadata "
        "(assetBaseId, licence, name, category), ready for `assets import`. Downloads resume.",
    )
    fetch.add_argument("--query", required=True, help="search words, e.g. 'glass bottle'")
    fetch.add_argument("--out", required=True, help="download folder")
    fetch.add_argument("--api-key", help="API key (default: $BLENDERKIT_API_KEY)")
    fetch.add_argument("--server", help="server URL (default: $BLENDERKIT_SERVER or https://www.blenderkit.com)")
    fetch.add_argument(
        "--licence",
        choices=["royalty_free", "cc_zero", "any"],
        default="any",
        help="keep only this licence (default any of royalty_free, cc_zero)",
    )
    fetch.add_argument("--limit", type=int, default=50, help="at most this many assets (default 50)")
    fetch.add_argument("--timeout", type=float, default=60.0, help="seconds per HTTP request (default 60)")
    fetch.set_defaults(func=_fetch)

    thumbs = commands.add_parser(
        "thumbnails",
        help="render thumbnails of every asset (Blender, cached by content hash)",
        description="Render each asset of the manifest from a few views under neutral lighting; images "
        "are cached by the canonical mesh's content hash and recorded in the manifest.",
    )
    thumbs.add_argument("--manifest", required=True)
    thumbs.add_argument("--views", type=int, default=3, help="views per asset (default 3)")
    thumbs.add_argument("--size", type=int, default=160, help="square image side in pixels (default 160)")
    thumbs.add_argument("--samples", type=int, default=16, help="Cycles samples (default 16)")
    thumbs.add_argument("--cache", help="thumbnail cache folder (default: cache/ next to the manifest)")
    thumbs.set_defaults(func=_thumbnails)

    filt = commands.add_parser(
        "filter",
        help="score assets with Qwen2.5-VL and keep the transparent or reflective ones",
        description="Ask a Qwen2.5-VL model about each asset's thumbnails for a JSON verdict, score it, "
        "keep the best and write verdicts into the manifest. Resumes where it stopped.",
    )
    filt.add_argument("--manifest", required=True)
    dests = add_model_options(filt, FilterOptions)
    ray = filt.add_mutually_exclusive_group()
    ray.add_argument("--ray", dest="ray", action="store_const", const="always", default=argparse.SUPPRESS,
                     help="always run on Ray (default: from --ray-min-assets assets on)")  # fmt: skip
    ray.add_argument("--no-ray", dest="ray", action="store_const", const="never", default=argparse.SUPPRESS,
                     help="never run on Ray")  # fmt: skip
    filt.set_defaults(func=_filter, model_dests=[*dests, "ray"])

    starter = commands.add_parser(
        "starter",
        help="write the shipped starter bank's source files again (CC0, made by this code)",
        description="Write the starter assets (made by transphy3d's own code, CC0) with sidecar metadata "
        "into a folder; `assets import` then builds their manifest.",
    )
    starter.add_argument("--out", default="assets_manifest/starter", help="folder (default assets_manifest/starter)")
    starter.add_argument("--manifest", help="also import them into this manifest, kept with curated verdicts")
    starter.set_defaults(func=_starter)


def _import(args: argparse.Namespace) -> int:
    from transphy3d.assets.importer import import_assets

    report = import_assets(args.inputs, args.manifest, args.cache, args.licence, args.category, timeout=args.timeout)
    report_path = Path(args.report) if args.report else Path(f"{args.manifest}.import.json")
    report_path.write_text(json.dumps(report.as_dict(), indent=1) + "\n", encoding="utf-8")
    for item in report.broken:
        print(f"broken: {item['path']}: {item['reason']}", file=sys.stderr)
    print(
        f"{args.manifest}: {len(report.added)} imported, {len(report.skipped)} skipped, "
        f"{len(report.broken)} broken (report: {report_path})"
    )
    return ExitCode.FAILED if report.broken else ExitCode.OK  # the good files are in the manifest either way


def _fetch(args: argparse.Namespace) -> int:
    from transphy3d.assets.blenderkit import DEFAULT_SERVER, BlenderKitClient

    key = args.api_key or os.environ.get("BLENDERKIT_API_KEY")
    if not key:
        raise UserError("an API key is needed: pass --api-key or set BLENDERKIT_API_KEY", field="--api-key")
    if args.limit < 1:
        raise UserError(f"must be >= 1, got {args.limit}", field="--limit")
    server = args.server or os.environ.get("BLENDERKIT_SERVER") or DEFAULT_SERVER
    client = BlenderKitClient(server, key, timeout=args.timeout)
    licences = ("royalty_free", "cc_zero") if args.licence == "any" else (args.licence,)
    result = client.fetch(args.query, Path(args.out), licences=licences, limit=args.limit)
    for problem in result.failed:
        print(f"failed: {problem['asset']}: {problem['reason']}", file=sys.stderr)
    print(
        f"{args.out}: {len(result.downloaded)} downloaded, {len(result.skipped)} already there, "
        f"{len(result.failed)} failed; next: transphy3d assets import {args.out} --manifest MANIFEST"
    )
    return 0 if not result.failed else 1


def _thumbnails(args: argparse.Namespace) -> int:
    from transphy3d.assets.thumbnails import make_thumbnails

    # A thumbnail, not a render job: the upper bounds keep a typo from running for days.
    limits = (("--views", args.views, 1, 64), ("--size", args.size, 16, 4096), ("--samples", args.samples, 1, 4096))
    for name, value, lo, hi in limits:
        if not lo <= value <= hi:
            raise UserError(f"must be {lo}..{hi}, got {value}", field=name)
    stats = make_thumbnails(args.manifest, args.views, args.size, args.samples, args.cache)
    print(
        f"{args.manifest}: {stats['rendered']} assets rendered, {stats['cached']} from cache, "
        f"{stats['seconds_per_asset']:.2f} s per rendered asset"
    )
    return 0


def _filter(args: argparse.Namespace) -> int:
    from transphy3d.assets.vlm.run import run_filter

    options = FilterOptions(**model_values(args, args.model_dests))
    summary = run_filter(args.manifest, options)
    print(
        f"{args.manifest}: asked about {summary.asked} assets ({summary.assets_per_second:.2f} assets/s"
        f"{', on Ray' if summary.used_ray else ''}); verdicts ok {summary.counts.get('ok', 0)}, "
        f"partial {summary.counts.get('partial', 0)}, malformed {summary.counts.get('malformed', 0)}, "
        f"error {summary.counts.get('error', 0)}; kept {summary.kept} of {summary.total}"
    )
    if summary.failed:
        print(
            f"transphy3d assets filter: error: {summary.failed} of {summary.asked} requests failed "
            f"(first: {summary.first_error}); assets with an earlier verdict keep it; run the same command "
            "to ask again (with --rescore for answers that were not verdicts)",
            file=sys.stderr,
        )
        return ExitCode.FAILED
    return 0


def _starter(args: argparse.Namespace) -> int:
    from transphy3d.assets.starter import write_starter

    files = write_starter(args.out)
    print(f"{args.out}: {len(files)} starter assets written")
    if args.manifest:
        from transphy3d.assets.importer import import_assets
        from transphy3d.assets.starter import curate

        report = import_assets(files, args.manifest)
        for item in report.broken:
            print(f"broken: {item['path']}: {item['reason']}", file=sys.stderr)
        print(f"{args.manifest}: {len(report.added)} imported, {curate(args.manifest)} kept (curated)")
    return 0
