"""JSON-lines record files kept valid at rest, for any reader (``pandas.read_json(lines=True)``, a
plain per-line loop): every writer holds an exclusive lock on the file; before it appends, a torn
tail (a writer killed mid-line, a full disk) is cut off and kept in ``<file>.torn`` for the
post-mortem; a record that replaces an earlier one with the same key is written by rewriting the
file under a temporary name and renaming it into place, so the file is at every moment either the
old or the new whole. A writer that waited for the lock re-opens the file when it was replaced."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TORN_SUFFIX = ".torn"  # <file>.torn: the torn tails cut off <file>, one per line, oldest first
_CHUNK = 1 << 16


@contextlib.contextmanager
def locked(path: str | Path) -> Iterator[int]:
    """A descriptor of ``path`` (created if missing) under the writers' exclusive lock; the lock is
    taken again when another writer replaced the file while this one waited."""
    path = Path(path)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                current = os.stat(path).st_ino
            except FileNotFoundError:
                current = None
            if current == os.fstat(fd).st_ino:
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        yield fd
    finally:
        os.close(fd)


def cut_torn_tail(fd: int, path: str | Path) -> bytes:
    """With the lock held: move what follows the last newline of the file (a torn line) to
    ``<path>.torn`` and cut the file there. Returns the bytes moved (empty when none)."""
    end = os.lseek(fd, 0, os.SEEK_END)
    if end == 0 or os.pread(fd, 1, end - 1) == b"\n":
        return b""
    start = end
    while start > 0:
        begin = max(0, start - _CHUNK)
        newline = os.pread(fd, start - begin, begin).rfind(b"\n")
        if newline != -1:
            start = begin + newline + 1
            break
        start = begin
    torn = os.pread(fd, end - start, start)
    side = Path(str(path) + TORN_SUFFIX)
    with open(side, "ab") as handle:  # kept before the file is cut, so nothing is lost in between
        handle.write(torn.replace(b"\n", b" ") + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.ftruncate(fd, start)
    os.fsync(fd)
    return torn


def encode(record: dict[str, Any]) -> bytes:
    """One line of sorted-key JSON (no NaN)."""
    return (json.dumps(record, sort_keys=True, allow_nan=False) + "\n").encode("utf-8")


def _same_key(raw: bytes, key: str, value: Any) -> bool:
    try:
        record = json.loads(raw)
    except ValueError:
        return False
    return isinstance(record, dict) and record.get(key) == value


def append(path: str | Path, record: dict[str, Any], replace_key: str | None = None) -> None:
    """Append ``record`` to the JSONL file ``path`` (a torn tail cut off first). With
    ``replace_key``, earlier records with the same value of that key are replaced: the file is
    rewritten atomically with the new record in the place of the first of them."""
    path = Path(path)
    line = encode(record)
    with locked(path) as fd:
        cut_torn_tail(fd, path)
        if replace_key is not None:
            needle = json.dumps({replace_key: record[replace_key]}, sort_keys=True)[1:-1].encode("utf-8")
            size = os.lseek(fd, 0, os.SEEK_END)
            data = os.pread(fd, size, 0) if size else b""
            if needle in data:  # cheap test first: a full parse only when the key may be there
                rewritten = _replaced(data, line, replace_key, record[replace_key])
                if rewritten is not None:
                    _replace(path, rewritten, os.fstat(fd).st_mode & 0o7777)
                    return
        os.write(fd, line)
        os.fsync(fd)


def _replaced(data: bytes, line: bytes, key: str, value: Any) -> bytes | None:
    """``data`` with ``line`` in place of the first record whose ``key`` is ``value`` (later ones
    dropped), or None when no record has it."""
    out: list[bytes] = []
    found = False
    for raw in data.split(b"\n"):
        if not raw:
            continue
        if _same_key(raw, key, value):
            if not found:
                out.append(line)
            found = True
        else:
            out.append(raw + b"\n")
    return b"".join(out) if found else None


def _replace(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)  # the file keeps the permissions it was given
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
