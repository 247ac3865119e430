"""A readable account of a render output directory (``transphy3d status``)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from transphy3d.errors import UserError
from transphy3d.farm.rundir import scan
from transphy3d.output.contract import RUN_FILE, SUMMARY_FILE


def describe(out: Path) -> str:
    if not out.is_dir():
        raise UserError("not a directory", path=str(out))
    if not (out / RUN_FILE).is_file():
        raise UserError(f"no {RUN_FILE}: not a render output directory", path=str(out))
    run = yaml.safe_load((out / RUN_FILE).read_text()) or {}
    state = scan(out)
    frames = sum(r.frames or 0 for r in state.done.values())
    lines = [
        f"{out}: config {run.get('config_name')!r} ({run.get('config_path')}, digest {run.get('config_digest')}), "
        f"run seed {run.get('run_seed')}",
        f"  finished: {len(state.done)} scenes, {frames} frames",
        f"  failed:   {len(state.failed)} scenes",
    ]
    if state.partial:
        lines.append(f"  leftovers of killed workers (removed by the next run): {len(state.partial)}")
    if state.unindexed:
        lines.append(f"  scene directories missing from index.jsonl (checked by the next run): {len(state.unindexed)}")
    if state.done:
        indices = sorted(state.done)
        missing = sorted(set(range(indices[-1] + 1)) - set(indices) - set(state.failed))
        if missing:
            lines.append(f"  gaps below the highest finished index: {len(missing)} (first: {missing[0]})")
    for _index, failure in sorted(state.failed.items()):
        lines.append(
            f"  FAILED {failure.scene} after {failure.attempts} attempt(s) ({failure.status}): "
            f"{failure.error}  log: {failure.log}"
        )
    summary_path = out / SUMMARY_FILE
    if summary_path.is_file():
        summary = json.loads(summary_path.read_text())
        lines.append(
            f"  last run: {summary.get('ok')} rendered, {summary.get('skipped')} skipped, {summary.get('failed')} failed, "
            f"{summary.get('wall_seconds')} s wall, finished {summary.get('finished')}"
            + (" (interrupted)" if summary.get("interrupted") else "")
        )
    versions = run.get("versions", {})
    if versions:
        lines.append("  versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    return "\n".join(lines)
