"""``transphy3d render-server``: the warm render process of ``render --warm-workers``
(``transphy3d.farm.warm``). Renders scene after scene, each exactly as ``render-scene`` with the
same arguments would (same exit codes; its output to the job's log), in one Python process."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

from transphy3d.errors import ExitCode
from transphy3d.farm.warm import read_job, result_message
from transphy3d.jobs import RenderJob


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of ``transphy3d render-server``."""
    parser.description = (
        "Used by `transphy3d render --warm-workers`: read jobs (a render job and a log "
        "path, one JSON line each) on stdin and render them one after another in this process, "
        "answering each on --result-fd. Ends at the end of stdin, or after a scene that fails."
    )
    parser.add_argument("--result-fd", type=int, required=True, help="file descriptor the answers are written to")
    parser.set_defaults(func=_run)


@contextlib.contextmanager
def _output_to(log: str) -> Iterator[None]:
    """File descriptors 1 and 2 (Python's and Blender's output) to ``log`` for the block."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log, "ab", buffering=0) as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def _render_scene(job: RenderJob) -> int:
    """``job`` rendered in this process as ``render-scene`` would; its exit code."""
    from transphy3d.cli import handled
    from transphy3d.pipeline import run

    try:
        return handled("render-scene", lambda: run(job), job.out)
    except Exception:  # what a render-scene process would die of, with its traceback
        traceback.print_exc()
        return ExitCode.FAILED


def _resident_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _run(args: argparse.Namespace) -> int:
    scenes = 0
    with os.fdopen(args.result_fd, "w", buffering=1) as results:
        for line in sys.stdin:
            if not line.strip():
                continue
            job, log = read_job(line)
            with _output_to(log):
                code = _render_scene(job)
            scenes += 1
            results.write(result_message(code, _resident_bytes(), scenes))
            if code != ExitCode.OK:
                break  # the next scene gets a fresh process
    return ExitCode.OK
