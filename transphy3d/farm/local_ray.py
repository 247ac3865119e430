"""The local Ray cluster a run started, ended with the run even when its driver was killed: Ray's
dashboard and runtime-env agents outlive a SIGKILLed driver (measured: still running a minute
later). When the farm starts a local cluster it records the cluster's processes (pid and start
time, so a reused pid is never taken for one) in the run directory; a normal end forgets them, and
the next run or ``transphy3d status`` stops those of a driver that is gone."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path

from transphy3d.files import write_json

RECORD_FILE = ".ray-local.json"  # in the run directory, while a run's local cluster is up
GRACE_SECONDS = 3.0  # after SIGTERM, before SIGKILL


def _start_time(pid: int) -> int | None:
    """The start time (clock ticks since boot) of a live process ``pid``, None if gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in ("Z", "X") else int(fields[19])


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for name in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError, IndexError, ValueError):
            parent = int(Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()[1])
            tree.setdefault(parent, []).append(int(name))
    return tree


def _descendants(root: int) -> list[int]:
    tree, found, todo = _children(), [], [root]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def record_local_cluster(out: str | Path) -> None:
    """Write down this driver and the processes of the local cluster it just started."""
    driver = os.getpid()
    processes = [[pid, started] for pid in _descendants(driver) if (started := _start_time(pid)) is not None]
    write_json(Path(out) / RECORD_FILE, {"driver": [driver, _start_time(driver)], "processes": processes})


def forget_local_cluster(out: str | Path) -> None:
    """The run ended and shut its cluster down: nothing to stop later."""
    (Path(out) / RECORD_FILE).unlink(missing_ok=True)


def stop_leftover_cluster(out: str | Path) -> int:
    """Stop what remains of the local cluster of a run whose driver is gone; returns how many
    processes were stopped (0 when there is no record, or its driver still runs)."""
    path = Path(out) / RECORD_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        driver_pid, driver_start = record["driver"]
        processes = [(int(pid), int(start)) for pid, start in record["processes"]]
    except FileNotFoundError:
        return 0
    except (OSError, ValueError, KeyError, TypeError):
        path.unlink(missing_ok=True)  # not ours to read: nothing can be stopped safely from it
        return 0
    if _start_time(int(driver_pid)) == driver_start:
        return 0  # the run is alive
    alive = [pid for pid, start in processes if _start_time(pid) == start]
    for pid in alive:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    while time.monotonic() < deadline and any(_start_time(pid) == start for pid, start in processes):
        time.sleep(0.1)
    for pid, start in processes:
        if _start_time(pid) == start:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
    path.unlink(missing_ok=True)
    return len(alive)
