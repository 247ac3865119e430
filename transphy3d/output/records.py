"""Append-only JSON-lines records (index.jsonl, failures.jsonl): one ``write`` per line with
O_APPEND under an exclusive lock, fsynced, so lines from concurrent writers never interleave
and a crash can at worst lose the last line, never corrupt earlier ones."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from transphy3d.output.contract import ContractModel, FailureRecord, IndexRecord


def append_record(path: str | Path, record: ContractModel | dict[str, Any]) -> None:
    """Append one record as a line of sorted-key JSON."""
    data = record.to_json() if isinstance(record, ContractModel) else record
    line = (json.dumps(data, sort_keys=True, allow_nan=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """Records of a JSONL file; a torn last line (a crash mid-write) is skipped."""
    try:
        with open(path, "rb") as handle:
            for raw in handle:
                if not raw.endswith(b"\n"):
                    break
                try:
                    yield json.loads(raw)
                except json.JSONDecodeError:
                    continue
    except FileNotFoundError:
        return


def read_index(path: str | Path) -> Iterator[IndexRecord]:
    """The records of an ``index.jsonl``."""
    for record in read_records(path):
        yield IndexRecord.model_validate(record)


def read_failures(path: str | Path) -> Iterator[FailureRecord]:
    """The records of a ``failures.jsonl``."""
    for record in read_records(path):
        yield FailureRecord.model_validate(record)
