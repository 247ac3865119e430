"""A readable account of a render output directory (``transphy3d status``): what is finished,
what failed and why, each node's throughput, retried attempts and attempts lost with their node,
torn records (with ``--repair``) and, with ``--verify``, the finished scenes whose files fail
validation, with the command that renders them again."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transphy3d.documents import load_yaml_file
from transphy3d.errors import UserError
from transphy3d.farm.local_ray import stop_leftover_cluster
from transphy3d.farm.nodes import describe_nodes, tally
from transphy3d.farm.records import RETRIES_FILE, read_retries
from transphy3d.farm.rundir import invalid_scenes, scan
from transphy3d.output.contract import FAILURES_FILE, INDEX_FILE, RUN_FILE, SUMMARY_FILE, scene_name
from transphy3d.output.records import repair_records, torn_lines


def read_run(out: Path) -> dict[str, Any]:
    """The run record (``run.yaml``) of a render output directory; one-line errors."""
    if not out.is_dir():
        raise UserError("not a directory", path=str(out))
    if not (out / RUN_FILE).is_file():
        raise UserError(f"no {RUN_FILE}: not a render output directory", path=str(out))
    run = load_yaml_file(out / RUN_FILE)
    if not isinstance(run, dict) or "run_seed" not in run:
        raise UserError("not a run record (a mapping with run_seed, config_path, ...)", path=str(out / RUN_FILE))
    return run


def rerender_command(run: dict[str, Any], out: Path, index: int, seed: int | None) -> str:
    """The command that renders one scene of the run again, in place."""
    args = ["transphy3d", "render-scene", str(run.get("config_path")), "--seed", str(seed), "--out"]
    args += [str(out / scene_name(index)), "--overwrite"]
    for key, value in (run.get("overrides") or {}).items():
        args += ["--set", f"{key}={json.dumps(value)}"]
    return shlex.join(args)


@dataclass
class StatusReport:
    text: str
    invalid: int = 0  # finished scenes that failed validation (with verify)


def describe(out: Path, verify: bool = False, repair: bool = False) -> str:
    """What the render output ``out`` holds, as the lines ``transphy3d status`` prints."""
    return status_report(out, verify, repair).text


def status_report(out: Path, verify: bool = False, repair: bool = False) -> StatusReport:
    """``describe``'s text and, with ``verify``, how many finished scenes are invalid."""
    run = read_run(out)
    bad: dict[int, str] = {}
    lines = [
        f"{out}: config {run.get('config_name')!r} ({run.get('config_path')}, digest {run.get('config_digest')}), "
        f"run seed {run.get('run_seed')}"
    ]
    stopped = stop_leftover_cluster(out)
    if stopped:
        lines.append(f"  stopped {stopped} Ray process(es) left running by a killed run's local cluster")
    for name in (INDEX_FILE, FAILURES_FILE, RETRIES_FILE):
        torn = repair_records(out / name) if repair else torn_lines(out / name)
        if torn:
            what = "dropped" if repair else "skipped; `transphy3d status --repair` drops them"
            lines.append(f"  {name}: {len(torn)} torn line(s) ({', '.join(map(str, torn[:5]))}): {what}")
    state = scan(out)
    frames = sum(r.frames or 0 for r in state.done.values())
    lines += [f"  finished: {len(state.done)} scenes, {frames} frames", f"  failed:   {len(state.failed)} scenes"]
    if state.partial:
        lines.append(f"  leftovers of killed workers (removed by the next run): {len(state.partial)}")
    if state.unindexed:
        lines.append(f"  scene directories missing from index.jsonl (checked by the next run): {len(state.unindexed)}")
    if state.done:
        indices = sorted(state.done)
        missing = sorted(set(range(indices[-1] + 1)) - set(indices) - set(state.failed))
        if missing:
            lines.append(f"  gaps below the highest finished index: {len(missing)} (first: {missing[0]})")
    retries = list(read_retries(out / RETRIES_FILE))
    nodes = tally(state.done.values(), retries)
    if nodes:
        lost = [n.label for n in nodes if n.lost]
        lines.append(
            f"  nodes: {len(nodes)}; retried attempts: {len(retries)}"
            + (f"; nodes lost: {len(lost)} ({', '.join(lost)})" if lost else "")
        )
        lines += describe_nodes(nodes, indent="    ")
    for _index, failure in sorted(state.failed.items()):
        lines.append(
            f"  FAILED {failure.scene} after {failure.attempts} attempt(s) ({failure.status}): "
            f"{failure.error}  log: {failure.log}"
        )
    if verify:
        bad = invalid_scenes(out, sorted(state.done))
        lines.append(f"  verified: {len(state.done) - len(bad)} of {len(state.done)} finished scenes pass validation")
        for index, problem in sorted(bad.items()):
            lines.append(f"  INVALID {scene_name(index)}: {problem}")
            lines.append(f"    render it again: {rerender_command(run, out, index, state.done[index].seed)}")
        if bad:
            lines.append(
                "  (or `transphy3d render ... --verify` with the run's options re-renders every invalid scene)"
            )
    summary_path = out / SUMMARY_FILE
    if summary_path.is_file():
        try:
            summary = json.loads(summary_path.read_text())
        except ValueError:
            summary = {}
        lines.append(
            f"  last run: {summary.get('ok')} rendered, {summary.get('skipped')} skipped, {summary.get('failed')} failed, "
            f"{summary.get('wall_seconds')} s wall, finished {summary.get('finished')}"
            + (" (interrupted)" if summary.get("interrupted") else "")
        )
    versions = run.get("versions", {})
    if isinstance(versions, dict) and versions:
        lines.append("  versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    return StatusReport("\n".join(lines), len(bad))
