"""Append-only JSON-lines records (index.jsonl, failures.jsonl): one ``write`` per line with
O_APPEND under an exclusive lock, fsynced, so lines from concurrent writers never interleave
and a crash can at worst tear the last line, never corrupt earlier ones. A torn last line (a
killed writer, a full disk) is skipped by readers and reported by ``torn_lines``; the next record
starts on a fresh line, and ``repair_records`` drops torn lines for good."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from transphy3d.files import write_text_atomic
from transphy3d.output.contract import ContractModel, FailureRecord, IndexRecord


def append_record(path: str | Path, record: ContractModel | dict[str, Any]) -> None:
    """Append one record as a line of sorted-key JSON."""
    data = record.to_json() if isinstance(record, ContractModel) else record
    line = (json.dumps(data, sort_keys=True, allow_nan=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        end = os.lseek(fd, 0, os.SEEK_END)
        if end and os.pread(fd, 1, end - 1) != b"\n":  # a torn last line: start a fresh one
            line = b"\n" + line
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def _lines(path: str | Path) -> Iterator[tuple[int, bytes, dict[str, Any] | None]]:
    """(line number, raw line, record or None when torn) of a JSONL file; nothing if it is missing."""
    try:
        with open(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    record = json.loads(raw) if raw.endswith(b"\n") else None
                except json.JSONDecodeError:
                    record = None
                yield number, raw, record if isinstance(record, dict) else None
    except FileNotFoundError:
        return


def read_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """Records of a JSONL file; torn lines (a crash mid-write) are skipped."""
    for _number, _raw, record in _lines(path):
        if record is not None:
            yield record


def torn_lines(path: str | Path) -> list[int]:
    """Numbers of the lines that are not whole JSON records."""
    return [number for number, _raw, record in _lines(path) if record is None]


def repair_records(path: str | Path) -> list[int]:
    """Rewrite a JSONL file without its torn lines (atomically, under the writers' lock);
    returns the numbers of the lines dropped."""
    path = Path(path)
    if not path.is_file():
        return []
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        lines = list(_lines(path))
        dropped = [number for number, _raw, record in lines if record is None]
        if dropped:
            write_text_atomic(
                path, "".join(raw.decode("utf-8", "replace") for _n, raw, rec in lines if rec is not None)
            )
        return dropped
    finally:
        os.close(fd)


def read_index(path: str | Path) -> Iterator[IndexRecord]:
    """The records of an ``index.jsonl``."""
    for record in read_records(path):
        yield IndexRecord.model_validate(record)


def read_failures(path: str | Path) -> Iterator[FailureRecord]:
    """The records of a ``failures.jsonl``."""
    for record in read_records(path):
        yield FailureRecord.model_validate(record)
