"""``transphy3d.rng``: named streams give the same numbers for the same key in every process and
on every machine (no salted hash), different numbers for different keys, and derived seeds in
Cycles' 31-bit range."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from transphy3d.rng import derive_seed, stream

# Recorded once: a change here changes every scene a seed has ever produced.
GOLDEN = "0.21103786687841097 846564557 1450510493 [670, 805, 22]"
GOLDEN_CODE = (
    "from transphy3d.rng import stream, derive_seed; "
    "print(repr(stream(0, 'camera').random()), derive_seed(0, 'cycles'), derive_seed(7, 'scene', 3), "
    "stream(5).integers(0, 1000, 3).tolist())"
)


@pytest.mark.parametrize("hash_seed", ["1", "2"])
def test_the_numbers_of_a_key_are_fixed_in_every_process(hash_seed: str) -> None:
    """Two processes with different string-hash salts print the recorded numbers."""
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    out = subprocess.run([sys.executable, "-c", GOLDEN_CODE], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == GOLDEN


def test_keys_select_independent_streams() -> None:
    draws = {key: stream(3, *key).random(4).tolist() for key in [(), ("camera",), ("objects",), ("objects", 1),
                                                                  ("objects", 2), ("3",)]}  # fmt: skip
    assert len({tuple(v) for v in draws.values()}) == len(draws)
    assert stream(3, "objects", 1).random(4).tolist() == draws[("objects", 1)]
    assert stream(4, "camera").random() != draws[("camera",)][0]


@pytest.mark.xfail(
    strict=True,
    reason="numpy's SeedSequence ignores trailing zero words of its entropy, so stream(s, 'x', 0) is "
    "stream(s, 'x') and stream(s, 0) is stream(s); no caller pairs such keys today (instance ids start "
    "at 1), and encoding the key's length would change every sampled scene",
)
def test_a_trailing_zero_key_is_a_stream_of_its_own() -> None:
    assert stream(3, "light", 0).random() != stream(3, "light").random()
    assert stream(3, 0).random() != stream(3).random()


def test_numpy_integers_are_the_same_keys_as_ints() -> None:
    assert stream(np.int64(9), np.uint8(2)).random() == stream(9, 2).random()
    assert stream(9, "2").random() != stream(9, 2).random()  # a name is not a number


def test_a_stream_does_not_touch_the_global_state() -> None:
    np.random.seed(0)
    expected = np.random.random()
    np.random.seed(0)
    stream(1, "camera").random(100)
    assert np.random.random() == expected


def test_negative_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="non-negative, got -1"):
        stream(-1)
    with pytest.raises(ValueError, match="non-negative, got -4"):
        derive_seed(0, "scene", -4)


def test_derived_seeds_fit_31_bits_and_differ_by_name() -> None:
    seeds = [derive_seed(s, "cycles") for s in range(200)]
    assert all(0 <= s < 2**31 - 1 for s in seeds) and len(set(seeds)) == 200
    assert derive_seed(0, "cycles") != derive_seed(0, "physics")
    assert max(seeds) > 2**30  # spread over the range, not small numbers
