"""A compact index of published TransPhy3D tars: where every member of every frame lies.

The release has 1.32M frames of 5 members each. Python objects per member (a path, an offset and a
size in dicts of dicts) cost about 1.9 KB per frame, 2.6 GB in all, on every rank and again in
every DataLoader worker. Here the index is a few numpy arrays, 84 bytes per frame (about 111 MB
for the release):

- ``starts`` (sequences + 1,) int64: the frame rows of sequence i are ``starts[i]:starts[i + 1]``;
- ``frame_ids`` (frames,) int32, sorted within a sequence;
- ``member_tar`` (frames, 5) int32 (-1 = missing), ``member_offset`` (frames, 5) int64,
  ``member_size`` (frames, 5) uint32, one column per ``SAMPLE_FILES`` entry;
- the tar paths and sequence ids as two lists of strings.

``cached_index`` builds it once per set of tars (keyed by their paths, sizes and modification
times), writes it under a cache directory, and maps the arrays read-only (``np.load(mmap_mode="r")``):
every rank and every DataLoader worker on a machine shares the same pages, and a pickled index
(spawned workers) carries only its cache path.
"""

from __future__ import annotations

import array
import hashlib
import json
import shutil
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SAMPLE_FILES = ("image.png", "depth.png", "depth.json", "normal.png", "metadata.json")
COLUMN = {name: i for i, name in enumerate(SAMPLE_FILES)}
ARRAYS = ("starts", "frame_ids", "member_tar", "member_offset", "member_size")
NAMES_FILE = "names.json"


def split_key(key: str) -> tuple[str, int]:
    """('000000', 12) of the sample key '000000_00000012'."""
    sequence, _, frame = key.rpartition("_")
    if not sequence or not frame.isdigit():
        raise ValueError(f"sample key {key!r} is not <sequence>_<frame>")
    return sequence, int(frame)


class Records:
    """Member records collected in typed arrays (8 bytes or less per number, no Python objects)."""

    def __init__(self) -> None:
        self.sequences: dict[str, int] = {}
        self.sequence = array.array("i")
        self.frame = array.array("i")
        self.column = array.array("b")
        self.tar = array.array("i")
        self.offset = array.array("q")
        self.size = array.array("q")

    def add(self, sequence: str, frame: int, column: int, tar: int, offset: int, size: int) -> None:
        self.sequence.append(self.sequences.setdefault(sequence, len(self.sequences)))
        self.frame.append(frame)
        self.column.append(column)
        self.tar.append(tar)
        self.offset.append(offset)
        self.size.append(size)


@dataclass
class PublishedIndex:
    """Frames and member locations of a set of tars (module docstring)."""

    tars: list[str]
    sequence_ids: list[str]
    starts: np.ndarray
    frame_ids: np.ndarray
    member_tar: np.ndarray
    member_offset: np.ndarray
    member_size: np.ndarray
    cache: Path | None = field(default=None, repr=False)

    @classmethod
    def from_arrays(
        cls,
        tars: Sequence[str],
        names: Sequence[str],
        sequence: np.ndarray,
        frame: np.ndarray,
        column: np.ndarray,
        tar: np.ndarray,
        offset: np.ndarray,
        size: np.ndarray,
    ) -> PublishedIndex:
        """The index of member records: ``sequence`` indexes ``names``, ``column`` ``SAMPLE_FILES``,
        ``tar`` ``tars``. Sequences are sorted by id, frames by number; a repeated member keeps its
        last record."""
        rank = np.empty(len(names), dtype=np.int64)
        order_names = sorted(range(len(names)), key=lambda i: names[i])
        rank[order_names] = np.arange(len(names))
        seq = rank[np.asarray(sequence, dtype=np.int64)]
        frame = np.asarray(frame, dtype=np.int64)
        order = np.lexsort((np.arange(len(seq)), frame, seq))  # stable: the last duplicate wins below
        seq, frame = seq[order], frame[order]
        first = np.ones(len(seq), dtype=bool)
        first[1:] = (seq[1:] != seq[:-1]) | (frame[1:] != frame[:-1])
        row = np.cumsum(first) - 1
        count = int(first.sum())
        member_tar = np.full((count, len(SAMPLE_FILES)), -1, dtype=np.int32)
        member_offset = np.zeros((count, len(SAMPLE_FILES)), dtype=np.int64)
        member_size = np.zeros((count, len(SAMPLE_FILES)), dtype=np.uint32)  # a member is far below 4 GB
        col = np.asarray(column, dtype=np.int64)[order]
        member_tar[row, col] = np.asarray(tar)[order]
        member_offset[row, col] = np.asarray(offset)[order]
        member_size[row, col] = np.asarray(size)[order]
        frame_seq = seq[first]
        starts = np.searchsorted(frame_seq, np.arange(len(names) + 1)).astype(np.int64)
        return cls(
            list(tars),
            [names[i] for i in order_names],
            starts,
            frame[first].astype(np.int32),
            member_tar,
            member_offset,
            member_size,
        )

    @classmethod
    def from_records(cls, tars: Sequence[str], records: Records) -> PublishedIndex:
        names = sorted(records.sequences, key=records.sequences.__getitem__)
        arrays = (records.sequence, records.frame, records.column, records.tar, records.offset, records.size)
        return cls.from_arrays(tars, names, *(np.frombuffer(a, dtype=a.typecode) for a in arrays))

    def __len__(self) -> int:
        return len(self.sequence_ids)

    @property
    def num_frames(self) -> int:
        return len(self.frame_ids)

    @property
    def nbytes(self) -> int:
        return sum(getattr(self, name).nbytes for name in ARRAYS)

    def lengths(self) -> list[int]:
        return np.diff(self.starts).tolist()

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for name in ARRAYS:
            np.save(directory / f"{name}.npy", np.ascontiguousarray(getattr(self, name)))
        (directory / NAMES_FILE).write_text(json.dumps({"tars": self.tars, "sequences": self.sequence_ids}))

    @classmethod
    def load(cls, directory: Path) -> PublishedIndex:
        """The index saved in ``directory``, its arrays memory-mapped read-only."""
        names = json.loads((directory / NAMES_FILE).read_text())
        arrays = {name: np.load(directory / f"{name}.npy", mmap_mode="r") for name in ARRAYS}
        return cls(names["tars"], names["sequences"], **arrays, cache=directory)

    def __getstate__(self) -> dict:
        if self.cache is not None:  # spawned workers map the same files instead of receiving copies
            return {"cache": self.cache}
        return dict(self.__dict__)

    def __setstate__(self, state: dict) -> None:
        if set(state) == {"cache"}:
            state = dict(PublishedIndex.load(state["cache"]).__dict__)
        self.__dict__.update(state)


def scan_tars(paths: Iterable[Path]) -> tuple[PublishedIndex, list[str]]:
    """The index of ``paths`` and messages for what does not fit the format."""
    tars: list[str] = []
    records = Records()
    skipped: list[str] = []
    for path in paths:
        number = len(tars)
        tars.append(str(path))
        try:
            with tarfile.open(path, mode="r:") as archive:
                for info in archive:
                    if not info.isfile():
                        continue
                    key, dot, ext = Path(info.name).name.partition(".")
                    if not dot or ext not in COLUMN:
                        continue
                    try:
                        sequence, frame = split_key(key)
                    except ValueError as error:
                        skipped.append(f"{path}: {error}")
                        continue
                    records.add(sequence, frame, COLUMN[ext], number, info.offset_data, info.size)
        except (tarfile.TarError, OSError) as error:
            skipped.append(f"{path}: unreadable tar ({error})")
    return PublishedIndex.from_records(tars, records), skipped


def fingerprint(paths: Sequence[Path]) -> str:
    """A key of a set of tars: their resolved paths, sizes and modification times."""
    digest = hashlib.sha256()
    for path in paths:
        stat = path.stat()
        digest.update(f"{path.resolve()}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:24]


def cached_index(paths: Sequence[Path], cache_dir: Path | None) -> tuple[PublishedIndex, list[str]]:
    """The index of ``paths``: read from ``cache_dir`` when built before, else built (and saved
    there with the skip messages, published atomically)."""
    from transphy3d.files import partial_path, publish_directory

    if cache_dir is None:
        return scan_tars(paths)
    final = Path(cache_dir) / f"published_{fingerprint(paths)}"
    if not (final / NAMES_FILE).is_file():
        index, skipped = scan_tars(paths)
        tmp = partial_path(final, hidden=True)
        index.save(tmp)
        (tmp / "skipped.json").write_text(json.dumps(skipped))
        if (final / NAMES_FILE).is_file():  # another process published it meanwhile: keep theirs
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            publish_directory(tmp, final)
    skipped = json.loads((final / "skipped.json").read_text())
    return PublishedIndex.load(final), skipped
