"""``transphy3d export`` as a run: idempotent, finished by running it again after a kill (the
same bytes as an export never interrupted), bad scenes skipped one line each, bad input refused."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import REPO, one_line_error, run_in_process

pytestmark = [pytest.mark.blender, pytest.mark.slow]

FORMATS = ["bop", "coco", "transphy3d"]
DONE = {
    "bop": "train_pbr/{:06d}/scene_gt_coco.json",
    "coco": ".coco_parts/scene_{:06d}.json",
    "transphy3d": "{:06d}_materials.000001.tar",
}


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by relative path, with its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def export(capsys, run: Path, out: Path, fmt: str, *args: str):
    return run_in_process(capsys, "export", str(run), "--format", fmt, "--out", str(out), "--no-progress", *args)


@pytest.fixture(scope="module")
def long_run(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rendered run with its scenes copied to scene_000000..000007 (a longer export to stop midway)."""
    run = tmp_path_factory.mktemp("long") / "run"
    for i in range(8):
        shutil.copytree(run_dir / f"scene_{i % 2:06d}", run / f"scene_{i:06d}")
    return run


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_second_export_does_nothing_and_says_so(run_dir: Path, tmp_path: Path, capsys, fmt: str) -> None:
    out = tmp_path / fmt
    first = export(capsys, run_dir, out, fmt)
    assert first.returncode == 0 and "exported 2 scene(s), 6 frames" in first.stdout, first.stdout + first.stderr
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    second = export(capsys, run_dir, out, fmt)
    assert second.returncode == 0
    assert second.stdout.strip() == f"nothing to do: all 2 scene(s) are already exported to {out} ({fmt})"
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_export_killed_midway_is_finished_by_running_it_again(
    long_run: Path, tmp_path: Path, capsys, fmt: str
) -> None:
    whole = tmp_path / "whole"
    shards = ["--shard-frames", "2"] if fmt == "transphy3d" else []  # two tars a scene: a scene can stop midway
    assert export(capsys, long_run, whole, fmt, *shards).returncode == 0
    out = tmp_path / "killed"
    args = ["export", str(long_run), "--format", fmt, "--out", str(out), "--no-progress", *shards]
    command = [sys.executable, "-m", "transphy3d", *args]
    process = subprocess.Popen(command, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    first = out / DONE[fmt].format(0)
    deadline = time.monotonic() + 120
    while not first.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL, "the export finished before it could be stopped midway"
    assert first.exists() and not (out / DONE[fmt].format(7)).exists()
    rerun = export(capsys, long_run, out, fmt, *shards)
    assert rerun.returncode == 0 and "exported" in rerun.stdout and "already there" in rerun.stdout, rerun.stdout
    assert tree(out).keys() == tree(whole).keys()
    assert tree(out) == tree(whole)


def test_bad_scenes_are_skipped_one_line_each(run_dir: Path, tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    for i in range(4):  # good, torn objects.json, a mesh outside the scene, a mask missing
        shutil.copytree(run_dir / f"scene_{i % 2:06d}", run / f"scene_{i:06d}")
    (run / "scene_000001" / "objects.json").write_text('{"format_version": 1, "obj')
    objects = (run / "scene_000002" / "objects.json").read_text()
    (run / "scene_000002" / "objects.json").write_text(
        objects.replace('"meshes/0001.ply"', '"../scene_000000/meshes/0001.ply"')
    )
    (run / "scene_000003" / "mask" / "000001.png").unlink()
    (run / "index.jsonl").write_text("".join(f'{{"scene": "scene_{i:06d}"}}\n' for i in (0, 1, 2, 3, 9)))
    for fmt in FORMATS:
        result = export(capsys, run, tmp_path / fmt, fmt)
        lines = result.stdout.splitlines()
        assert result.returncode == 1, result.stdout + result.stderr
        problems = [line for line in lines if "skipped" in line and not line.startswith("exported")]
        assert any("scene_000009" in line and "missing" in line for line in problems), problems
        assert any(line.startswith("scene_000001:") and "objects.json" in line for line in problems), problems
        if fmt == "bop":  # reads the meshes
            assert any(line.startswith("scene_000002:") and "outside the scene" in line for line in problems), problems
        assert any(line.startswith("scene_000003:") and "000001.png" in line for line in problems), problems
        assert lines[-1].endswith(f"{len(problems)} skipped"), lines


def test_bad_input_is_refused_on_one_line(run_dir: Path, tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nothing"
    one_line_error(export(capsys, missing, tmp_path / "o", "bop"), str(missing), "RUN_DIR", "not a directory")
    one_line_error(export(capsys, tmp_path, tmp_path / "o", "bop"), "RUN_DIR", "no finished scenes")
    one_line_error(export(capsys, run_dir, tmp_path / "o", "bop", "--split", "../up"), "--split")
    one_line_error(export(capsys, run_dir, tmp_path / "o", "transphy3d", "--shard-frames", "0"), "--shard-frames")
    one_line_error(export(capsys, run_dir, run_dir / "scene_000000" / "x", "coco"), "--out", "inside a scene")
    assert not (tmp_path / "o").exists() and not (run_dir / "scene_000000" / "x").exists()
