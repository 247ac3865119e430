"""``transphy3d.interrupts``: inside ``exit_on_signal`` a SIGINT or SIGTERM runs the cleanup,
prints one line and exits 130 / 143 even while the main thread is busy; after the block the
handlers in force before it are back, and a late signal no longer runs the cleanup."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import REPO

from transphy3d.interrupts import exit_on_signal

# The work: a partial file made, removed by the cleanup on a signal; argv[2] "busy" keeps the main
# thread in a loop that never returns to wait on anything, "after" ends the block first.
WORK = """
import sys, time
from pathlib import Path
from transphy3d.interrupts import exit_on_signal
partial, mode = Path(sys.argv[1]), sys.argv[2]
partial.write_text("half")
with exit_on_signal(partial.unlink, "writing the scene"):
    print("started", flush=True)
    end = time.monotonic() + (0 if mode == "after" else 60)
    while time.monotonic() < end:
        pass
print("after the block", flush=True)
time.sleep(60)
"""


def _start(tmp_path: Path, mode: str) -> tuple[subprocess.Popen, Path]:
    partial = tmp_path / "partial"
    process = subprocess.Popen(
        [sys.executable, "-c", WORK, str(partial), mode], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert process.stdout.readline() == "started\n", process.communicate()
    return process, partial


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_in_the_block_cleans_up_and_exits(tmp_path: Path, signum: int, code: int) -> None:
    process, partial = _start(tmp_path, "busy")
    start = time.monotonic()
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=30)
    assert time.monotonic() - start < 2.0
    assert process.returncode == code and stdout == ""
    assert stderr == f"transphy3d: writing the scene stopped by {signal.Signals(signum).name}\n"
    assert not partial.exists()


def test_a_signal_after_the_block_goes_to_the_usual_handler(tmp_path: Path) -> None:
    process, partial = _start(tmp_path, "after")
    assert process.stdout.readline() == "after the block\n"
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == -signal.SIGTERM and stderr == ""  # killed as any process is
    assert partial.read_text() == "half"  # the cleanup belongs to the block only


def test_the_handlers_before_the_block_are_restored() -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    wakeup = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(wakeup)
    cleaned = []
    with exit_on_signal(lambda: cleaned.append(1), "nothing"):
        assert signal.getsignal(signal.SIGINT) is not before[signal.SIGINT]
    assert {s: signal.getsignal(s) for s in before} == before
    assert signal.set_wakeup_fd(wakeup) == wakeup and cleaned == []
