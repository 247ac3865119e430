"""Named, independent random streams.

Every random draw in the project takes an explicit ``numpy.random.Generator``. Streams are keyed
by (seed, names...) so that adding a draw in one part of a scene (say, one more light) does not
shift the numbers of another part (the camera). Keys are hashed with BLAKE2, never with Python's
salted ``hash``, so the same key gives the same stream on every machine and in every process.
"""

from __future__ import annotations

import hashlib

import numpy as np


def _key_to_int(part: str | int) -> int:
    if isinstance(part, int | np.integer):
        if part < 0:
            raise ValueError(f"stream keys must be non-negative, got {part}")
        return int(part)
    digest = hashlib.blake2b(str(part).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def stream(seed: int, *names: str | int) -> np.random.Generator:
    """A generator for the stream named ``names`` under ``seed`` (same inputs, same numbers)."""
    entropy = [_key_to_int(seed), *(_key_to_int(n) for n in names)]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))


def derive_seed(seed: int, *names: str | int) -> int:
    """A 31-bit integer seed derived from ``seed`` and ``names`` (for Cycles, sub-scenes, ...)."""
    return int(stream(seed, "derive_seed", *names).integers(0, 2**31 - 1))
