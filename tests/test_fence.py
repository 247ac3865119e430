"""``transphy3d.fence``: a process working under a farm lease stops, cleaning up, within a poll or
two of its lease file being removed or of its parent dying; without either it runs to the end.
The fenced work runs in a real child process (the fence ends its own process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import REPO

from transphy3d.errors import ExitCode
from transphy3d.fence import HARD_EXIT_SECONDS, POLL_SECONDS, AttemptGivenUp, check_lease, fenced, lease_held

# Work under a lease: write a partial file, say so, then sleep up to ``argv[3]`` seconds; a stop
# removes the partial file first (as the pipeline removes its partial scene).
WORK = """
import os, signal, sys, time
from pathlib import Path
from transphy3d.fence import fenced
from transphy3d.interrupts import exit_on_signal
lease, partial, seconds = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
if len(sys.argv) > 4:  # a process that does not stop on SIGTERM (Blender deep in C code)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    stop = fenced(lease)
else:
    stop = exit_on_signal(partial.unlink, "the work")
with stop, fenced(lease):
    partial.write_text("half")
    print("started", os.getpid(), flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.05)
print("finished", flush=True)
"""


def _start(tmp_path: Path, seconds: float, *extra: str, **popen) -> tuple[subprocess.Popen, Path, Path]:
    """The WORK process under a fresh lease ``tmp_path/lease``; returns it, the lease, the partial."""
    lease, partial = tmp_path / "lease", tmp_path / "partial"
    lease.touch()
    popen = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, **popen}
    process = subprocess.Popen(
        [sys.executable, "-c", WORK, str(lease), str(partial), str(seconds), *extra], cwd=REPO, **popen
    )
    return process, lease, partial


def _remove_lease_once_started(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, Path, Path, str, str, float]:
    """Start WORK, remove its lease once it works; the process (ended), the lease, the partial
    file, its stdout and stderr and the seconds it took to end after the removal."""
    process, lease, partial = _start(tmp_path, 60, *extra)
    line = process.stdout.readline()
    assert line.startswith("started"), (line, process.communicate())
    lease.unlink()
    start = time.monotonic()
    stdout, stderr = process.communicate(timeout=30)
    return process, lease, partial, stdout, stderr, time.monotonic() - start


def test_a_held_lease_lets_the_work_finish(tmp_path: Path) -> None:
    process, lease, partial = _start(tmp_path, 3 * POLL_SECONDS)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0 and stdout.splitlines()[-1] == "finished" and stderr == ""
    assert partial.read_text() == "half" and lease.exists()


def test_removing_the_lease_stops_the_work(tmp_path: Path) -> None:
    process, lease, partial, stdout, stderr, took = _remove_lease_once_started(tmp_path)
    assert took < 2 * POLL_SECONDS + 1.0
    assert process.returncode == ExitCode.TERMINATED and "finished" not in stdout
    assert stderr.splitlines() == [
        f"transphy3d: the farm gave this attempt up (lease {lease} removed); stopping",
        "transphy3d: the work stopped by SIGTERM",
    ]
    assert not partial.exists()


def test_a_process_that_ignores_sigterm_is_ended_anyway(tmp_path: Path) -> None:
    process, _, partial, stdout, stderr, took = _remove_lease_once_started(tmp_path, "ignore SIGTERM")
    assert HARD_EXIT_SECONDS <= took < HARD_EXIT_SECONDS + 2 * POLL_SECONDS + 1.0
    assert process.returncode == ExitCode.TERMINATED and "finished" not in stdout
    assert "lease" in stderr and partial.exists()  # nothing cleaned up: the hard exit is the last resort


# Starts WORK (argv[1:]) as its child, prints the child's pid, then waits to be killed.
PARENT = "import subprocess, sys, time\nprint(subprocess.Popen(sys.argv[1:]).pid, flush=True)\ntime.sleep(120)\n"


def test_the_work_stops_once_its_parent_is_gone(tmp_path: Path) -> None:
    lease, partial, log = tmp_path / "lease", tmp_path / "partial", tmp_path / "work.log"
    lease.touch()
    with open(log, "w") as out:
        parent = subprocess.Popen(
            [sys.executable, "-c", PARENT, sys.executable, "-c", WORK, str(lease), str(partial), "60"],
            cwd=REPO, stdout=subprocess.PIPE, stderr=out, text=True,
        )  # fmt: skip
    try:
        child = int(parent.stdout.readline())
        deadline = time.monotonic() + 30
        while not partial.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert partial.exists()
        parent.kill()
        parent.wait()
        start = time.monotonic()
        while _running(child) and time.monotonic() - start < 10:
            time.sleep(0.05)
        assert not _running(child) and time.monotonic() - start < 2 * POLL_SECONDS + 1.0
    finally:
        if _running(child):
            os.kill(child, signal.SIGKILL)
    assert not partial.exists() and lease.exists()
    assert f"the process that started this render (pid {parent.pid}) is gone; stopping" in log.read_text()


def _running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_without_a_lease_nothing_watches() -> None:
    threads = threading.active_count()
    with fenced(None):
        assert threading.active_count() == threads  # no watcher thread
        check_lease(None)  # no lease: never given up


def test_check_lease_names_the_removed_lease(tmp_path: Path) -> None:
    lease = tmp_path / "scene_000003.attempt1.lease"
    lease.touch()
    check_lease(lease)
    lease.unlink()
    with pytest.raises(AttemptGivenUp) as error:
        check_lease(lease)
    assert str(lease) in str(error.value) and error.value.exit_code == ExitCode.FAILED


def test_only_a_missing_lease_counts_as_given_up(tmp_path: Path) -> None:
    """An error other than 'no such file' (here: a file where a folder should be) counts as held:
    a flaky volume must not stop a healthy attempt."""
    lease = tmp_path / "lease"
    assert not lease_held(lease)
    lease.touch()
    assert lease_held(lease)
    assert lease_held(lease / "inside-a-file")
