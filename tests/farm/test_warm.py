"""Warm workers (``render --warm-workers``): one render process renders several scenes in turn,
is recycled after ``--warm-recycle-scenes``, loses only the scene in flight when it is killed,
and writes the same scenes as a process per scene."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import REPO, run_cli
from PIL import Image

from transphy3d.output.records import read_records

pytestmark = [pytest.mark.blender, pytest.mark.farm]
TINY = ["--config", "tiny", "--set", "camera.frames=1", "--no-progress", "--workers", "1"]
RUN_DEPENDENT = ("timings", "seconds_per_frame")  # meta.json keys of wall-clock seconds


def scene_files(scene: Path) -> dict[str, Path]:
    return {p.relative_to(scene).as_posix(): p for p in sorted(scene.rglob("*")) if p.is_file()}


def assert_same_scene(a: Path, b: Path) -> int:
    """Every file of the two scene directories equal: PNGs by their decoded pixels (Blender's
    PNG bytes differ between runs), meta.json without its wall-clock seconds (``timings``,
    ``seconds_per_frame``), every other file byte for byte. Returns the number of files compared."""
    files_a, files_b = scene_files(a), scene_files(b)
    assert sorted(files_a) == sorted(files_b)
    for name, path in files_a.items():
        other = files_b[name]
        if name.endswith(".png"):
            with Image.open(path) as x, Image.open(other) as y:
                assert x.mode == y.mode and np.array_equal(np.asarray(x), np.asarray(y)), name
        elif name == "meta.json":
            meta_a, meta_b = json.loads(path.read_text()), json.loads(other.read_text())
            assert set(meta_a["timings"]) == set(meta_b["timings"])
            for key in RUN_DEPENDENT:
                del meta_a[key], meta_b[key]
            assert meta_a == meta_b
        else:
            assert path.read_bytes() == other.read_bytes(), name
    return len(files_a)


def test_warm_workers_recycle_lose_only_the_scene_in_flight_and_write_the_same_scenes(tmp_path: Path) -> None:
    cold, warm = tmp_path / "cold", tmp_path / "warm"
    result = run_cli("render", "--scenes", "3", "--out", str(cold), *TINY)
    assert result.returncode == 0, result.stderr[-3000:]

    farm = subprocess.Popen(
        [sys.executable, "-m", "transphy3d", "render", "--scenes", "3", "--out", str(warm), *TINY, "--warm-workers",
         "--warm-recycle-scenes", "2", "--backoff", "0.2"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:  # kill the warm process while it renders its second scene
        deadline, killed = time.time() + 240, None
        while killed is None and time.time() < deadline:
            assert farm.poll() is None, farm.communicate()
            for partial in warm.glob("scene_000001.partial-*@*/"):
                killed = int(partial.name.split(".partial-")[1].split("@")[0])
            time.sleep(0.02)
        assert killed is not None, "scene_000001 never started"
        assert b"render-server" in Path(f"/proc/{killed}/cmdline").read_bytes()
        os.kill(killed, signal.SIGKILL)
        _, stderr = farm.communicate(timeout=300)
    finally:
        if farm.poll() is None:
            farm.kill()
    assert farm.returncode == 0, stderr[-3000:]
    assert "scene_000001: attempt 1 crashed" in stderr and "killed by signal SIGKILL" in stderr

    records = {r["scene"]: r for r in read_records(warm / "index.jsonl")}
    assert [records[f"scene_{i:06d}"]["attempts"] for i in range(3)] == [1, 2, 1]
    # scene 0 first in process A; scene 1 killed in A (its second); scene 2 first in process B,
    # scene 1 again second in B, which is then recycled.
    assert [records[f"scene_{i:06d}"]["process_scene"] for i in range(3)] == [1, 2, 1]
    assert json.loads((warm / "summary.json").read_text())["warm_workers"] is True
    assert not [p.name for p in warm.iterdir() if ".partial-" in p.name]
    assert run_cli("validate", str(warm)).returncode == 0

    compared = sum(assert_same_scene(cold / name, warm / name) for name in records)
    assert compared >= 3 * 8  # scene.yaml, camera, objects, meta, meshes and 1 frame x 4 passes each


def test_a_warm_process_past_its_memory_limit_is_recycled(tmp_path: Path) -> None:
    """A limit below any Blender process's resident memory: every scene gets a new process (the
    test above, with the default limit, shows one process rendering two scenes)."""
    out = tmp_path / "run"
    result = run_cli("render", "--scenes", "2", "--out", str(out), *TINY, "--warm-workers", "--warm-recycle-gb", "0.01")
    assert result.returncode == 0, result.stderr[-3000:]
    assert [r["process_scene"] for r in read_records(out / "index.jsonl")] == [1, 1]
