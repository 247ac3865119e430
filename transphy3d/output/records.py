"""Append-only JSON-lines records (index.jsonl, failures.jsonl): one ``write`` per line with
O_APPEND under an exclusive lock, fsynced, so lines from concurrent writers never interleave
and a crash can at worst tear the last line, never corrupt earlier ones. A torn last line (a
killed writer, a full disk) is skipped by readers and reported by ``torn_lines``; the next append
cuts it off (kept in ``<file>.torn``), and ``repair_records`` drops torn lines anywhere."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from transphy3d import jsonl
from transphy3d.documents import validate_file
from transphy3d.files import write_text_atomic
from transphy3d.output.contract import ContractModel, FailureRecord, IndexRecord


def append_record(path: str | Path, record: ContractModel | dict[str, Any], replace_key: str | None = None) -> None:
    """Append one record as a line of sorted-key JSON, a torn tail cut off first (``jsonl.append``);
    with ``replace_key`` (``"scene"``) it replaces the earlier record with that key's value."""
    data = record.to_json() if isinstance(record, ContractModel) else record
    jsonl.append(path, data, replace_key)


def _lines(path: str | Path) -> Iterator[tuple[int, bytes, dict[str, Any] | None]]:
    """(line number, raw line, record or None when torn) of a JSONL file; nothing if it is missing."""
    try:
        with open(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    record = json.loads(raw.decode("utf-8")) if raw.endswith(b"\n") else None
                except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested too deep
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
    with jsonl.locked(path):  # the lock of the file in place now, also when a writer replaced it
        lines = list(_lines(path))
        dropped = [number for number, _raw, record in lines if record is None]
        if dropped:
            write_text_atomic(
                path, "".join(raw.decode("utf-8", "replace") for _n, raw, rec in lines if rec is not None)
            )
        return dropped


def validated_records(path: str | Path, model: type[ContractModel]) -> Iterator[Any]:
    """Whole records of ``path`` as ``model``; one that does not fit is a one-line error naming the line."""
    for number, _raw, record in _lines(path):
        if record is not None:
            yield validate_file(model, record, f"{path}:{number}")


def read_index(path: str | Path) -> Iterator[IndexRecord]:
    """The records of an ``index.jsonl``."""
    yield from validated_records(path, IndexRecord)


def read_failures(path: str | Path) -> Iterator[FailureRecord]:
    """The records of a ``failures.jsonl``."""
    yield from validated_records(path, FailureRecord)
