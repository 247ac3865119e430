"""Run records are valid JSON lines at rest: a re-rendered scene replaces its index line (atomically,
the others kept), and concurrent writers that append and replace lose nothing and never leave a
line that a plain per-line reader cannot parse."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from helpers import REPO

from transphy3d.output.records import append_record, torn_lines


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]  # fails on any bad line


def test_a_rerendered_scene_replaces_its_line(tmp_path: Path) -> None:
    path = tmp_path / "index.jsonl"
    for index in range(3):
        append_record(path, {"scene": f"scene_{index:06d}", "index": index, "attempts": 1}, replace_key="scene")
    path.chmod(0o640)
    append_record(path, {"scene": "scene_000001", "index": 1, "attempts": 2}, replace_key="scene")
    assert [(r["index"], r["attempts"]) for r in _lines(path)] == [(0, 1), (1, 2), (2, 1)]
    assert path.stat().st_mode & 0o777 == 0o640
    # A torn tail is cut before a replacement too, and a key that only looks like another is not replaced.
    with open(path, "a") as handle:
        handle.write('{"scene": "scene_000001", "ind')
    append_record(path, {"scene": "scene_0000012", "index": 12}, replace_key="scene")
    append_record(path, {"scene": "scene_000001", "index": 1, "attempts": 3}, replace_key="scene")
    assert [(r["index"], r.get("attempts")) for r in _lines(path)] == [(0, 1), (1, 3), (2, 1), (12, None)]
    assert (tmp_path / "index.jsonl.torn").read_text() == '{"scene": "scene_000001", "ind\n'
    assert not list(tmp_path.glob(".index.jsonl.tmp-*"))


def test_concurrent_appends_and_replacements_lose_nothing(tmp_path: Path) -> None:
    """Four writers: each appends 60 scenes of its own and replaces scenes 0-9 shared by all (as
    concurrent farms re-rendering the same scenes would). Replacing renames a new file into place;
    a writer waiting for the lock on the old one must notice and append to the new one."""
    path = tmp_path / "index.jsonl"
    code = (
        "import sys; from transphy3d.output.records import append_record\n"
        "w = int(sys.argv[2])\n"
        "for i in range(60):\n"
        "    append_record(sys.argv[1], {'scene': f'w{w}_{i}', 'pad': 'x' * 2000}, replace_key='scene')\n"
        "    if i % 6 == 0: append_record(sys.argv[1], {'scene': f'shared_{i // 6}', 'by': w}, replace_key='scene')\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path), str(w)], cwd=REPO) for w in range(4)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    scenes = [r["scene"] for r in _lines(path)]
    assert sorted(scenes) == sorted(
        [f"w{w}_{i}" for w in range(4) for i in range(60)] + [f"shared_{k}" for k in range(10)]
    )
    assert torn_lines(path) == [] and not (tmp_path / "index.jsonl.torn").exists()
