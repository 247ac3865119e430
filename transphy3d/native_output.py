"""Native libraries (OpenEXR's C core) print their complaints about a damaged file straight to the
process's stdout and stderr, around the one-line error the tool reports. ``held_native_output``
holds what is written to those descriptors while any thread is inside it: passed on unchanged
when every call of that window succeeded, dropped when one failed (its error says it in one line;
output of other threads in that window, usually none, is dropped with it)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import tempfile
import threading
from collections.abc import Iterator

_LIBC = ctypes.CDLL(None)
_LOCK = threading.Lock()
_STREAMS = (1, 2)


class _Window:
    """The descriptors held while at least one call is inside."""

    def __init__(self) -> None:
        self.callers = 0
        self.failed = False
        self.saved: list[int] = []
        self.held: list = []


_WINDOW = _Window()


def _flush_all() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    _LIBC.fflush(None)


def _open_window() -> None:
    _flush_all()
    _WINDOW.saved = [os.dup(fd) for fd in _STREAMS]
    _WINDOW.held = [tempfile.TemporaryFile() for _ in _STREAMS]  # noqa: SIM115 (closed by _close_window)
    _WINDOW.failed = False
    for fd, handle in zip(_STREAMS, _WINDOW.held, strict=True):
        os.dup2(handle.fileno(), fd)


def _close_window() -> None:
    _flush_all()
    for fd, copy, handle in zip(_STREAMS, _WINDOW.saved, _WINDOW.held, strict=True):
        os.dup2(copy, fd)
        os.close(copy)
        if not _WINDOW.failed:
            handle.seek(0)
            data = handle.read()
            if data:
                os.write(fd, data)
        handle.close()
    _WINDOW.saved, _WINDOW.held = [], []


@contextlib.contextmanager
def held_native_output() -> Iterator[None]:
    """Hold descriptors 1 and 2 for the duration of the block (see the module's docstring)."""
    with _LOCK:
        if _WINDOW.callers == 0:
            _open_window()
        _WINDOW.callers += 1
    failed = True
    try:
        yield
        failed = False
    finally:
        with _LOCK:
            _WINDOW.failed = _WINDOW.failed or failed
            _WINDOW.callers -= 1
            if _WINDOW.callers == 0:
                _close_window()
