"""``transphy3d render``: the render farm (Ray), resumable."""

from __future__ import annotations

import argparse
from pathlib import Path

from transphy3d.cli.render_scene import add_override_argument


def _count(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {number}")
    return number


def _positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return number


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "render",
        help="render N scenes on a Ray cluster (local by default), resumable",
        description="Render scenes 0..N-1 of a config into an output directory, one Blender worker "
        "process per scene on Ray. Scene i always gets the same seed for a given --seed. Running the "
        "same command again renders only what is missing. Crashed, killed or timed-out workers are "
        "retried with backoff; scenes that use up their retries go to failures.jsonl.",
    )
    parser.add_argument("--scenes", type=_count, required=True, help="number of scenes (indices 0..N-1)")
    parser.add_argument("--out", required=True, type=Path, help="output directory (shared storage on a cluster)")
    parser.add_argument("--config", default="scene_configs/default.yaml", help="scene config (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="run seed; scene i's seed derives from it (default 0)")
    parser.add_argument("--address", help="join this Ray cluster (HOST:PORT, ray://HOST:PORT or auto; default: "
                        "$RAY_ADDRESS, else a local cluster started for the run)")  # fmt: skip
    parser.add_argument(
        "--workers", type=_count, help="scenes rendered at once (default: one per GPU, else one per node)"
    )
    parser.add_argument("--gpus-per-worker", type=float, help="GPUs per worker (default 1 on GPU clusters, else 0)")
    parser.add_argument("--threads-per-worker", type=_count, help="CPU threads per worker (default: CPUs / workers)")
    parser.add_argument(
        "--retries", type=_count, default=2, help="retries of a crashed/killed/timed-out scene (default 2)"
    )
    parser.add_argument(
        "--timeout", type=_positive, default=3600.0, help="seconds before a scene's worker is killed (default 3600)"
    )
    parser.add_argument(
        "--backoff", type=float, default=2.0, help="first retry delay in seconds, doubled each retry (default 2)"
    )
    parser.add_argument("--allow-changed-config", action="store_true",
                        help="add scenes of a different config or seed to an existing output directory")  # fmt: skip
    parser.add_argument("--worker-prefix", default="", help="command prefix for each worker process, e.g. 'nice -n 10'")
    add_override_argument(parser)
    parser.add_argument("--no-progress", action="store_true", help="one line per scene instead of a progress bar")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from transphy3d.errors import ExitCode
    from transphy3d.farm.driver import FarmOptions, format_summary, run_farm

    options = FarmOptions(
        scenes=args.scenes, out=args.out, config=args.config, seed=args.seed, address=args.address,
        workers=args.workers or None, gpus_per_worker=args.gpus_per_worker, threads_per_worker=args.threads_per_worker or None,
        retries=args.retries, timeout=args.timeout, overrides=args.overrides, allow_changed_config=args.allow_changed_config,
        worker_prefix=args.worker_prefix, backoff=args.backoff, progress=not args.no_progress,
    )  # fmt: skip
    summary = run_farm(options)
    print(format_summary(summary, args.out))
    if summary.interrupted:
        return ExitCode.INTERRUPTED
    return ExitCode.FAILED if summary.failed else ExitCode.OK
