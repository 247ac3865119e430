"""Test helpers shared by the test modules: the CLI in a subprocess and paths."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "scene_configs"


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 600, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run ``python -m transphy3d ARGS`` in a fresh process; returns the completed process."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "transphy3d", *args],
        cwd=cwd or REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )


def run_in_process(capsys: pytest.CaptureFixture, *args: str) -> SimpleNamespace:
    """``transphy3d ARGS`` through the same ``main`` in this process (no interpreter start-up):
    returncode, stdout and stderr like a finished process. An exception that ``main`` does not
    turn into an exit code (a traceback for a user) propagates and fails the test."""
    from transphy3d.cli import main

    try:
        code = main(list(args))
    except SystemExit as exit_:  # argparse's own usage errors
        code = exit_.code
    captured = capsys.readouterr()
    return SimpleNamespace(returncode=code, stdout=captured.out, stderr=captured.err)


def one_line_error(result, *needles: str, code: int = 2) -> str:
    """Assert ``result`` failed with ``code`` and one line of stderr holding every needle."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def sampled_spec(seed: int = 0, *overrides: str, config: str = "tiny"):
    """The SceneSpec of a shipped config with ``--set``-style overrides."""
    from transphy3d.scene.config_loader import load_config, parse_overrides
    from transphy3d.scene.sampling import sample_spec

    path = CONFIGS / f"{config}.yaml"
    return sample_spec(load_config(path, parse_overrides(list(overrides))), seed)


def save(spec, path: Path) -> Path:
    from transphy3d.scene.spec import save_spec

    save_spec(spec, path)
    return path


# What the session's ``tiny_scene`` fixture renders (tests/conftest.py): seed 1 of the tiny config,
# three frames (a first, a middle and a last one).
TINY_SCENE_ARGS = ("--seed", "1", "--set", "camera.frames=3")


def render(spec_or_config: str | Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    """``transphy3d render-scene`` in a subprocess; fails the test with its stderr on error."""
    result = run_cli("render-scene", str(spec_or_config), "--out", str(out), "--quiet", *args)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def digest(directory: Path) -> str:
    """A hash of every file's relative path and bytes under ``directory``: equal before and after
    means nothing in it changed."""
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    return hashlib.sha256(
        b"".join(p.relative_to(directory).as_posix().encode() + p.read_bytes() for p in files)
    ).hexdigest()


def copy_scene(scene: Path, parent: Path) -> Path:
    """A copy of the scene directory ``scene`` under ``parent`` (same name), to damage or change."""
    return Path(shutil.copytree(scene, parent / scene.name))


@contextlib.contextmanager
def small_disk(path: Path, size: str, read_only: bool = False) -> Iterator[Path]:
    """A tmpfs of ``size`` (e.g. ``400k``), read-only if asked, mounted at ``path`` for the block;
    skips the test where mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + ",ro" * read_only
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=False)


# Scenes at rest without physics, for the visibility check's tests.
STILL = {
    "objects.count": 1,
    "objects.static_fraction": 0.0,
    "objects.families": "cup",
    "objects.rest_pose": "upright",
    "objects.drop_height": 0.0,
    "camera.frames": 12,
    "camera.radius_wave.amplitude": 0.0,
    "camera.height_wave.amplitude": 0.0,
    "camera.look_wave.amplitude": 0.0,
    "render.width": 104,
    "render.height": 60,
}


def at_rest(overrides: dict, seed: int = 3):
    """A default-config spec (one still cup unless overridden) whose objects are set down at rest:
    their start poses are their settled poses, so no physics is needed."""
    from transphy3d.resources import CONFIG_DIR
    from transphy3d.scene.config_loader import load_config
    from transphy3d.scene.sampling import sample_spec

    spec = sample_spec(load_config(CONFIG_DIR / "default.yaml", {**STILL, **overrides}), seed)
    objects = [o.model_copy(update={"settled_pose": o.initial_pose}) for o in spec.objects]
    return spec.model_copy(update={"objects": objects})


def deep_bin(elevation_deg: float):
    """A cup at the bottom of a bin whose 50 cm walls rise far above it, seen from outside the bin."""
    return at_rest(
        {
            "environment.type": "container",
            "environment.container.height": 0.5,
            "environment.container.size_x": 0.4,
            "environment.container.size_y": 0.4,
            "environment.room.probability": 0.0,
            "camera.elevation_deg": elevation_deg,
            "camera.framing": 3.0,
        }
    )
