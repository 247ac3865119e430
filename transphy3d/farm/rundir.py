"""A render run directory: run.yaml (what was asked for), resume scanning, and the rule that a
changed config is not mixed into an existing run."""

from __future__ import annotations

import datetime as dt
import fcntl
import importlib.metadata
import os
import platform
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from transphy3d._version import __version__
from transphy3d.documents import load_yaml_file
from transphy3d.errors import OutputError, UserError
from transphy3d.farm.records import LOCK_FILE, LOG_DIR
from transphy3d.files import is_partial, write_text_atomic
from transphy3d.output.contract import (
    FAILURES_FILE,
    INDEX_FILE,
    RUN_FILE,
    FailureRecord,
    IndexRecord,
    scene_index,
    scene_name,
)
from transphy3d.output.records import read_failures, read_index
from transphy3d.output.validate import validate_scene
from transphy3d.rng import derive_seed


def scene_seed(run_seed: int, index: int) -> int:
    """The seed of scene ``index``: a function of (run seed, index) only, so it does not depend
    on the order scenes run in, the cluster size or restarts."""
    return derive_seed(run_seed, "scene", index)


def tool_versions() -> dict[str, str]:
    versions = {"transphy3d": __version__, "python": platform.python_version()}
    for package in ("bpy", "ray", "numpy"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def run_record(
    config_path: str, config_name: str, digest: str, config: dict, overrides: dict, run_seed: int
) -> dict[str, Any]:
    return {
        "format_version": 1,
        "run_seed": run_seed,
        "config_path": config_path,
        "config_name": config_name,
        "config_digest": digest,
        "overrides": overrides,
        "config": config,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "versions": tool_versions(),
    }


def check_or_write_run(out: Path, record: dict[str, Any], allow_changed_config: bool) -> dict[str, Any]:
    """Write run.yaml for a new run, or check that an existing run used the same config and seed
    (the same scene index must always mean the same scene). Returns the run record in force."""
    path = out / RUN_FILE
    if path.is_file():
        existing = load_yaml_file(path) or {}
        if not isinstance(existing, dict):
            raise UserError("not a run record (a mapping with run_seed, config_path, ...)", path=str(path))
        changed = [k for k in ("config_digest", "run_seed") if existing.get(k) != record[k]]
        if changed and not allow_changed_config:
            what = " and ".join("config" if k == "config_digest" else "seed" for k in changed)
            raise UserError(
                f"this output directory was rendered with a different {what} "
                f"(run.yaml: config {existing.get('config_name')!r} digest {existing.get('config_digest')}, "
                f"seed {existing.get('run_seed')}); use a new --out, the same config and --seed, "
                "or --allow-changed-config to add scenes of the new config",
                path=str(out),
            )
        if not changed:
            return existing
        history = [
            *existing.get("previous_runs", []),
            {k: existing.get(k) for k in ("config_digest", "run_seed", "created")},
        ]
        record = {**record, "previous_runs": history}
    write_text_atomic(path, yaml.safe_dump(record, sort_keys=False))
    return record


def prepare_output(out: Path) -> None:
    """Create the output directory and prove it is writable (fails fast, one line)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_bytes(b"ok")
        probe.unlink()
        (out / LOG_DIR).mkdir(exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise OutputError("cannot create the output directory: a file is in the way", path=str(out)) from None
    except OSError as error:
        raise OutputError(f"output directory is not writable: {error.strerror}", path=str(out)) from None


class RunLock:
    """An exclusive lock on the run directory: two farms must not render into one directory."""

    def __init__(self, out: Path):
        self.path = out / LOCK_FILE
        self.fd: int | None = None

    def __enter__(self) -> RunLock:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise OutputError("another render is running into this directory", path=str(self.path.parent)) from None
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)


@dataclass
class RunState:
    """What an output directory holds, from index.jsonl and one directory listing."""

    done: dict[int, IndexRecord] = field(default_factory=dict)
    failed: dict[int, FailureRecord] = field(default_factory=dict)
    partial: list[str] = field(default_factory=list)
    unindexed: list[int] = field(default_factory=list)


def scan(out: Path) -> RunState:
    """Finished scenes (in index.jsonl and present on disk), failures, leftovers of killed workers
    (``*.partial-*``) and complete-looking scene directories missing from the index."""
    state = RunState()
    try:
        names = set(os.listdir(out))
    except FileNotFoundError:
        return state
    for record in read_index(out / INDEX_FILE):
        index = record.index if record.index is not None else scene_index(record.scene)
        if record.scene in names and index is not None:
            state.done[index] = record
    for failure in read_failures(out / FAILURES_FILE):
        if failure.index not in state.done:
            state.failed[failure.index] = failure
    for name in names:
        index = scene_index(name)
        if is_partial(name):
            state.partial.append(name)
        elif index is not None and index not in state.done:
            state.unindexed.append(index)
    state.partial.sort()
    state.unindexed.sort()
    return state


def remove_partials(out: Path, names: list[str]) -> None:
    for name in names:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def invalid_scenes(out: Path, indices: list[int], workers: int = 4) -> dict[int, str]:
    """Finished scenes whose files fail validation (first and last frame read): index -> problem."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        reports = pool.map(lambda i: (i, validate_scene(out / scene_name(i), frames="ends")), indices)
        return {i: report.problems[0] for i, report in reports if not report.ok}
