"""The farm's own bookkeeping in a run directory, beside the public format of ``output.contract``:
the lock of the driver writing into the run, the logs of failed attempts, the retries, and the
leases and places of running attempts. Readers of the data never need any of it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from transphy3d.output.contract import SCENE_PREFIX, ContractModel, SceneAttempt, scene_name
from transphy3d.output.records import validated_records

LOCK_FILE = ".run.lock"  # held by the farm driver writing into the run
LOG_DIR = "logs"  # logs of failed attempts
RETRIES_FILE = "retries.jsonl"  # one RetryRecord per attempt that failed and was retried or lost with its node
ATTEMPT_DIR = ".attempts"  # leases of running attempts (the farm removes one to give its attempt up)


def attempt_log(index: int, attempt: int, blender: bool = False) -> str:
    """Name of a scene attempt's log under ``logs/``: the worker's output, or Blender's console."""
    return f"{scene_name(index)}.attempt{attempt}{'.blender' * blender}.log"


LEASE_SUFFIX = ".lease"
_LEASE_NAME = re.compile(rf"{SCENE_PREFIX}(\d+)\.attempt(\d+){re.escape(LEASE_SUFFIX)}")


def attempt_lease(index: int, attempt: int) -> str:
    """Name of a running attempt's lease under ``.attempts/``: while it exists the attempt may
    write; the farm removes it to give the attempt up, and the render process then stops."""
    return f"{scene_name(index)}.attempt{attempt}{LEASE_SUFFIX}"


def lease_attempt(name: str) -> tuple[int, int] | None:
    """(scene index, attempt) of a lease's name; None for anything else."""
    match = _LEASE_NAME.fullmatch(name)
    return (int(match.group(1)), int(match.group(2))) if match else None


def attempt_place(index: int, attempt: int) -> str:
    """Name of the file under ``.attempts/`` in which a running attempt's worker says where it
    runs (an AttemptPlace)."""
    return f"{scene_name(index)}.attempt{attempt}.place.json"


class RetryRecord(SceneAttempt):
    """One line of ``retries.jsonl``: an attempt that failed and was tried again. ``node_lost``
    marks an attempt lost with its node (its Ray node died or became unreachable)."""

    scene: str
    node_lost: bool = False


class AttemptPlace(ContractModel):
    """Where a running attempt runs (``.attempts/<scene>.attemptK.place.json``), written by its
    worker: what the farm needs to account for, and clean up after, an attempt lost with its node."""

    node: str  # host name
    node_id: str = ""
    worker_pid: int
    render_pid: int  # the render process; its partial directory is <scene>.partial-<render_pid>@<node>


def read_retries(path: str | Path) -> Iterator[RetryRecord]:
    """The records of a ``retries.jsonl``."""
    yield from validated_records(path, RetryRecord)
