"""Writing files and directories so that a reader never sees them half-written.

- ``atomic_path``: write a file under a temporary sibling name, renamed over the target when done.
- ``partial_path`` / ``publish_directory``: build a directory under a temporary sibling name
  (``<name>.partial-<pid>``) and move it into place, replacing an older one, when complete.
- ``out_of_space``: whether a failed write was a full disk (checked on the file system, not by
  reading error messages).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from transphy3d import reading
from transphy3d.errors import OutputError

PARTIAL_MARK = ".partial-"  # <name>.partial-<pid>: a directory still being written (or left by a crash)
FULL_DISK_BYTES = 1 << 20  # free space below this (or 1 % of a small disk) counts as a full disk
WRITE_HEADROOM_BYTES = 1 << 16  # file headers and compression overhead of a failed write


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path next to ``path`` to write to; renamed to ``path`` when the block ends
    without an error, removed when it raises."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Remove the temporary files ``atomic_path`` left in ``folder`` when its process was killed
    (``.<name>.tmp-<pid>`` of a dead pid); a live process's are left alone."""
    removed = []
    for path in Path(folder).glob(".*.tmp-*"):
        pid = path.name.rpartition(".tmp-")[2]
        if pid.isdigit() and not _alive(int(pid)) and path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def write_bytes_if_changed(path: str | Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically unless the file already holds exactly these bytes;
    True when it wrote."""
    path = Path(path)
    if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return False
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return True


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | Path, data: Any) -> None:
    """Write JSON (one-space indent, no NaN) atomically."""
    write_text_atomic(path, json.dumps(data, indent=1, allow_nan=False) + "\n")


def read_json(path: str | Path) -> Any:
    """The JSON file ``path``, read as untrusted input (``transphy3d.reading``)."""
    return reading.read_json(path)


def partial_name(name: str, pid: int, host: str) -> str:
    """The name under which process ``pid`` of ``host`` builds the directory ``name``."""
    return f"{name}{PARTIAL_MARK}{pid}@{host}"


def partial_path(final: str | Path, hidden: bool = False) -> Path:
    """Where this process builds the directory ``final``: ``<final>.partial-<pid>@<host>`` next to
    it (``.<final>...`` when ``hidden``, for folders listed by a ``<prefix>*`` glob)."""
    final = Path(final)
    return final.with_name("." * hidden + partial_name(final.name, os.getpid(), socket.gethostname()))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_partials(final: str | Path) -> list[Path]:
    """Remove what dead processes of this host left while building ``final`` (their partial
    directory and its log); a partial of another host, or of a live process, is left alone."""
    final = Path(final)
    removed = []
    for path in final.parent.glob(f"{final.name}{PARTIAL_MARK}*"):
        owner = path.name[len(final.name) + len(PARTIAL_MARK) :].removesuffix(".log")
        pid, _, host = owner.partition("@")
        if host == socket.gethostname() and pid.isdigit() and not _alive(int(pid)):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def is_partial(name: str) -> bool:
    """True for the name of a directory (or its log) that was never published."""
    return PARTIAL_MARK in name


def publish_directory(partial: str | Path, final: str | Path) -> None:
    """Move the finished directory ``partial`` to ``final``, replacing an older ``final``: the old
    one is renamed away first, so ``final`` is at every moment either the old or the new whole."""
    partial, final = Path(partial), Path(final)
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})  # no stop between renames
    try:
        if final.exists():
            old = final.with_name(f"{final.name}.old-{os.getpid()}")
            os.rename(final, old)
            os.rename(partial, final)
        else:
            old = None
            os.rename(partial, final)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_output_dir(path: str | Path, what: str = "--out") -> Path:
    """Check, before any work, that ``path`` can be (or is) an output directory, creating nothing:
    a one-line OutputError naming ``what`` when a file is in the way or nothing can be written."""
    path = Path(path).absolute()
    if path.exists() and not path.is_dir():
        raise OutputError("exists and is not a directory", path=str(path), field=what)
    existing = _nearest_existing(path)
    if not existing.is_dir():
        raise OutputError(f"cannot be created: {existing} is a file", path=str(path), field=what)
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"cannot be written: {existing} is not writable", path=str(path), field=what)
    return path


def check_output_file(path: str | Path, what: str = "--out") -> Path:
    """Check, before any work, that ``path`` can be written as a file (its folder may be missing)."""
    path = Path(path).absolute()
    if path.is_dir():
        raise OutputError("is a directory; give a file name", path=str(path), field=what)
    check_output_dir(path.parent, what)
    return path


def out_of_space(path: str | Path, needed: int = 0) -> bool:
    """True if the file system holding ``path`` (or its nearest existing parent) is full: less
    free space than a write of ``needed`` bytes (plus headroom) that just failed, or than the
    smaller of 1 MiB and 1 % of the disk."""
    path = _nearest_existing(Path(path).absolute())
    try:
        usage = shutil.disk_usage(path)
    except OSError:
        return False
    return usage.free < max(min(FULL_DISK_BYTES, usage.total // 100), needed + WRITE_HEADROOM_BYTES if needed else 0)


def keep_log(log: str | Path, kept: str | Path) -> Path | None:
    """Move a scratch log to where a user will look for it (``kept``, on any file system), best
    effort: a log is no reason to fail. Returns where it went, or None."""
    if not Path(log).exists():
        return None
    with contextlib.suppress(OSError):
        shutil.move(log, kept)
        return Path(kept)
    return None
