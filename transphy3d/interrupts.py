"""Stopping cleanly on Ctrl-C (SIGINT) and SIGTERM while Blender renders.

Cycles swallows the KeyboardInterrupt Python raises in the main thread and renders on, so a
signal is taken by a watcher thread instead: the signal's C handler wakes it through a pipe
(``signal.set_wakeup_fd``) whatever the main thread is doing; it runs the cleanup (remove the
partial output, keep the log) and ends the process at once with 130 (SIGINT) or 143 (SIGTERM).
The previous output is never touched: it is replaced only by a rename after a complete render.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def exit_on_signal(cleanup: Callable[[], object], what: str) -> Iterator[None]:
    """While the block runs, SIGINT or SIGTERM runs ``cleanup()``, prints one line naming
    ``what`` was stopped, and exits with 128 + the signal number. Main thread only."""
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    previous_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    previous = {s: signal.signal(s, lambda *_: None) for s in STOP_SIGNALS}  # the watcher acts, not Python
    lock = threading.Lock()
    done = False

    def watch() -> None:
        while True:
            data = os.read(read_fd, 1)
            with lock:
                if done:  # the block ended: a late signal goes to the handlers in force again
                    if data and data[0] in STOP_SIGNALS:
                        signal.raise_signal(data[0])
                    return
                signum = data[0]
                if signum not in STOP_SIGNALS:
                    continue
                try:
                    cleanup()
                    print(f"transphy3d: {what} stopped by {signal.Signals(signum).name}", file=sys.stderr, flush=True)
                finally:
                    os._exit(128 + signum)

    watcher = threading.Thread(target=watch, name="transphy3d-signal-watcher", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        with lock:  # a signal being handled finishes first (and exits)
            done = True
            signal.set_wakeup_fd(previous_fd)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        os.write(write_fd, b"\0")  # let the watcher return
        watcher.join(timeout=5)
        os.close(read_fd)
        os.close(write_fd)
