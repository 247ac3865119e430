"""The two file helpers the exports added to ``transphy3d.files``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from transphy3d.files import remove_stale_temporaries, write_bytes_if_changed


def test_stale_temporaries_of_dead_processes_go_and_live_ones_stay(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".annotations.json.tmp-{int(dead.stdout)}"
    live = tmp_path / f".annotations.json.tmp-{os.getpid()}"
    other = tmp_path / "annotations.json"
    for path in (stale, live, other):
        path.write_text("x")
    assert remove_stale_temporaries(tmp_path) == [stale]
    assert not stale.exists() and live.exists() and other.exists()


def test_write_bytes_if_changed_writes_only_new_bytes(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    assert write_bytes_if_changed(path, b"{}")
    mtime = path.stat().st_mtime_ns
    assert not write_bytes_if_changed(path, b"{}") and path.stat().st_mtime_ns == mtime
    assert write_bytes_if_changed(path, b"{ }") and path.read_bytes() == b"{ }"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]
