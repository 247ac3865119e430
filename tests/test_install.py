"""A regular install works from anywhere: the wheel built from this tree, installed (not editable)
into a fresh virtual environment holding only what ``transphy3d[render,farm]`` installs, runs from
an empty directory with the shipped configs, materials and starter bank it carries itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from environments import environment_with
from helpers import REPO

pytestmark = [pytest.mark.blender, pytest.mark.farm, pytest.mark.slow]
TINY = ["--set", "camera.frames=1", "--set", "render.width=32", "--set", "render.height=24"]


def test_the_wheel_renders_from_an_empty_directory(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(dist), str(REPO)],
        check=True, capture_output=True,
    )  # fmt: skip
    wheel = next(dist.glob("transphy3d-*.whl"))
    python = environment_with(("render", "farm"), tmp_path / "venv")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)
    work = tmp_path / "empty"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    transphy3d = str(python.parent / "transphy3d")

    def run(*args: str, returncode: int = 0) -> str:
        result = subprocess.run([transphy3d, *args], cwd=work, env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == returncode, f"{args}:\n{result.stdout[-2000:]}{result.stderr[-3000:]}"
        return result.stdout

    where = subprocess.run(
        [str(python), "-c", "import transphy3d.resources as r; print(r.CONFIG_DIR.resolve())"],
        cwd=work, env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert "site-packages" in where and not where.startswith(str(REPO))
    doctor = run("doctor", "--out", "run")
    assert "ok    test render" in doctor and "this machine can render" in doctor
    assert "tiny" in run("configs")
    assert "config: {name: default" in run("sample", "default", "--seed", "1")
    run("render", "--scenes", "1", "--out", "run", "--no-progress", *TINY)  # the default config, made tiny
    run("render-scene", "default", "--out", "one", "--quiet", "--set", "objects.static_fraction=1", *TINY)
    assert "validated 1 scene(s), 1 frames: 1 ok" in run("validate", "run")
    assert "validated 1 scene(s), 1 frames: 1 ok" in run("validate", "one")
    assert list((work / "run").glob("scene_000000/meshes/*.ply")) and list((work / "one" / "meshes").glob("*.ply"))
