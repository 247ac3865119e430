"""Starting Ray: a local start that fails transiently is tried again, then ends in one line."""

from __future__ import annotations

import pytest

from transphy3d.errors import UserError
from transphy3d.farm.cluster import with_retries


def test_a_transient_failure_is_tried_again() -> None:
    calls, cleanups = [], []

    def start() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("The current node timed out during startup.\nmore detail")
        return "started"

    assert with_retries(start, "start a local Ray cluster", delay=0.0, cleanup=lambda: cleanups.append(1)) == "started"
    assert len(calls) == 3 and len(cleanups) == 2


def test_a_lasting_failure_is_one_line_after_the_last_try() -> None:
    def start() -> None:
        raise TimeoutError("The current node timed out during startup.\nTraceback ...")

    with pytest.raises(UserError) as error:
        with_retries(start, "start a local Ray cluster", tries=2, delay=0.0)
    assert (
        str(error.value) == "could not start a local Ray cluster (2 tries): The current node timed out during startup."
    )


def test_other_errors_are_not_retried() -> None:
    calls = []

    def start() -> None:
        calls.append(1)
        raise ValueError("a bug, not a flaky start")

    with pytest.raises(ValueError):
        with_retries(start, "start", delay=0.0)
    assert len(calls) == 1
