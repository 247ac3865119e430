"""Fencing a farm attempt: a render process started by the farm stops as soon as its attempt is
given up (the farm removed the attempt's lease file) or the farm worker that started it is gone,
so an attempt lost with its node never writes after the farm has cleaned up after it.

The lease is a file on the shared output volume. Its holder opens it every ``POLL_SECONDS`` (an
open revalidates it on NFS, where a cached lookup could hide the removal); the farm waits
``GRACE_SECONDS`` after removing a lease before it removes the attempt's files.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from transphy3d.errors import ExitCode, UserError

POLL_SECONDS = 0.5  # how often a fenced render process looks at its lease and its parent
HARD_EXIT_SECONDS = 5.0  # a fenced process still running this long after its SIGTERM exits at once
GRACE_SECONDS = 2 * POLL_SECONDS + HARD_EXIT_SECONDS + 1.0  # the farm's wait before removing a given-up attempt's files


class AttemptGivenUp(UserError):
    """The farm gave this attempt up (its lease is gone): the scene must not be published."""

    exit_code = ExitCode.FAILED


def lease_held(lease: str | Path) -> bool:
    """True while the lease file exists (errors other than a missing or stale file count as held:
    a flaky volume must not stop a healthy attempt)."""
    try:
        with open(lease, "rb"):
            return True
    except OSError as error:
        return error.errno not in (errno.ENOENT, errno.ESTALE)


def check_lease(lease: str | Path | None) -> None:
    """Raise AttemptGivenUp when ``lease`` (if any) is gone."""
    if lease is not None and not lease_held(lease):
        raise AttemptGivenUp(f"the farm gave this attempt up (lease {lease} removed); not publishing")


def _lost(lease: Path, parent: int) -> str | None:
    if os.getppid() != parent:
        return f"the process that started this render (pid {parent}) is gone"
    if not lease_held(lease):
        return f"the farm gave this attempt up (lease {lease} removed)"
    return None


@contextlib.contextmanager
def fenced(lease: str | Path | None) -> Iterator[None]:
    """While the block runs, a watcher thread stops this process once ``lease`` is gone or its
    parent process has changed: one line on stderr, SIGTERM to itself (``interrupts.exit_on_signal``
    removes the partial output and exits 143), and a hard exit if that has not happened within
    ``HARD_EXIT_SECONDS``. Without a lease the block runs unwatched."""
    if lease is None:
        yield
        return
    lease, parent, done = Path(lease), os.getppid(), threading.Event()

    def watch() -> None:
        while not done.wait(POLL_SECONDS):
            reason = _lost(lease, parent)
            if reason is None:
                continue
            print(f"transphy3d: {reason}; stopping", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGTERM)
            if not done.wait(HARD_EXIT_SECONDS):
                os._exit(ExitCode.TERMINATED)
            return

    watcher = threading.Thread(target=watch, name="transphy3d-lease-watcher", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join(timeout=1)
