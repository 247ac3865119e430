"""Memory and time of the published-TransPhy3D index at the release's size (11,000 sequences x 120
frames = 1.32M frames, 5 members each), on synthetic member records (no tars are written).

- before: the baseline an index of Python objects gives (dicts of dicts of per-member objects
  holding a Path, an offset and a size), what the typed index must beat, measured with tracemalloc on ``--sample-sequences`` sequences and scaled to the release;
- after: ``published_index.PublishedIndex`` built from the same records at full size: the typed
  record buffers the tar scan fills, the arrays, the build time, saving and memory-mapping the
  cache, and what a spawned DataLoader worker receives when the index is pickled.

    PYTHONPATH=. python benchmarks/dkt_published_index.py [--sequences 11000] [--frames 120]
"""

from __future__ import annotations

import argparse
import pickle
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _common import machine

from transphy3d.datasets.published_index import SAMPLE_FILES, PublishedIndex, Records


@dataclass(frozen=True)
class OldMember:  # the baseline index's record of one member
    tar: Path
    offset: int
    size: int


def old_index(sequences: int, frames: int) -> dict:
    """The baseline layout: {sequence: {frame: {ext: Member(Path(tar), offset, size)}}}."""
    index: dict = {}
    for s in range(sequences):
        tar = f"/data/TransPhy3D/train/{s:06d}_materials.000000.tar"
        offset = 512
        for f in range(frames):
            for ext in SAMPLE_FILES:
                index.setdefault(f"{s:06d}", {}).setdefault(f, {})[ext] = OldMember(Path(tar), offset, 700_000)
                offset += 700_512
    return index


def synthetic_records(sequences: int, frames: int) -> tuple[list[str], list[str], tuple[np.ndarray, ...]]:
    members = len(SAMPLE_FILES)
    n = sequences * frames * members
    sequence = np.repeat(np.arange(sequences, dtype=np.int32), frames * members)
    frame = np.tile(np.repeat(np.arange(frames, dtype=np.int32), members), sequences)
    column = np.tile(np.arange(members, dtype=np.int8), sequences * frames)
    offset = 512 + np.tile(np.arange(frames * members, dtype=np.int64), sequences) * 700_512
    size = np.full(n, 700_000, dtype=np.int64)
    tars = [f"/data/TransPhy3D/train/{s:06d}_materials.000000.tar" for s in range(sequences)]
    names = [f"{s:06d}" for s in range(sequences)]
    return tars, names, (sequence, frame, column, sequence.copy(), offset, size)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=11_000)
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--sample-sequences", type=int, default=200, help="sequences of the baseline index measured")
    args = parser.parse_args(argv)
    total = args.sequences * args.frames
    print(f"machine: {machine()}")
    print(f"release size: {args.sequences} sequences x {args.frames} frames = {total:,} frames")

    tracemalloc.start()
    old = old_index(args.sample_sequences, args.frames)
    old_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    per_frame_old = old_bytes / (args.sample_sequences * args.frames)
    del old
    print(f"before: {per_frame_old:,.0f} B/frame of Python objects -> {per_frame_old * total / 1e9:.2f} GB "
          f"per copy (every rank and every DataLoader worker)")  # fmt: skip

    tars, names, arrays = synthetic_records(args.sequences, args.frames)
    records = Records()
    sample = min(len(arrays[0]), 500_000)
    start = time.perf_counter()
    for i in range(sample):  # the tar scan's per-member append, timed on a sample
        records.add(names[arrays[0][i]], int(arrays[1][i]), int(arrays[2][i]), int(arrays[3][i]), 512, 700_000)
    per_record = (time.perf_counter() - start) / sample
    buffers = sum(a.buffer_info()[1] * a.itemsize for a in vars(records).values() if hasattr(a, "buffer_info"))
    print(f"after, while scanning: {buffers / sample:.0f} B/member record -> "
          f"{buffers / sample * len(arrays[0]) / 1e6:.0f} MB transient on the indexing process; "
          f"{per_record * 1e6:.2f} us per member -> {per_record * len(arrays[0]):.1f} s of bookkeeping")  # fmt: skip
    del records

    tracemalloc.start()
    start = time.perf_counter()
    index = PublishedIndex.from_arrays(tars, names, *arrays)
    build = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    names_bytes = sum(len(t) + 49 for t in tars) + sum(len(n) + 49 for n in names)
    print(f"after: {index.nbytes / total:.0f} B/frame of arrays -> {index.nbytes / 1e6:.0f} MB "
          f"(+ {names_bytes / 1e6:.1f} MB of tar and sequence names); built in {build:.1f} s, "
          f"peak {peak / 1e6:.0f} MB while sorting")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        index.save(Path(tmp) / "index")
        saved = time.perf_counter() - start
        start = time.perf_counter()
        mapped = PublishedIndex.load(Path(tmp) / "index")
        loaded = time.perf_counter() - start
        rows = np.random.default_rng(0).integers(0, total, 10_000)
        start = time.perf_counter()
        located = sum(int(mapped.member_offset[row, 1]) + int(mapped.member_size[row, 1]) for row in rows)
        lookup = (time.perf_counter() - start) / len(rows)
        size = sum(p.stat().st_size for p in (Path(tmp) / "index").iterdir())
        pickled = len(pickle.dumps(mapped))
        print(f"cache: {size / 1e6:.0f} MB on disk, saved in {saved:.2f} s, memory-mapped in {loaded * 1e3:.1f} ms; "
              f"a random frame's member located in {lookup * 1e6:.1f} us ({located % 7}); "
              f"a spawned worker receives {pickled} bytes (the cache path)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
