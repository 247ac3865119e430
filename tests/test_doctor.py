"""``transphy3d doctor``: one line per check, and a non-zero exit when rendering cannot work."""

from __future__ import annotations

import pytest
from helpers import run_cli

pytestmark = pytest.mark.blender


def test_a_healthy_machine_passes_every_rendering_check(tmp_path) -> None:
    result = run_cli("doctor", "--out", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    names = ("python", "shipped data", "bpy", "Cycles CPU", "denoiser OpenImageDenoise", "test render")
    for name in (*names, "depth camera (OpenCV)", "ray casting"):
        assert any(line.startswith("ok") and f"  {name}:" in line for line in lines), (name, result.stdout)
    assert any("Cycles OPTIX:" in line for line in lines) and lines[-1] == "this machine can render"


def test_an_unwritable_output_fails_with_its_fix(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_cli("doctor", "--no-render", "--out", str(blocker / "out"), cwd=tmp_path)
    assert result.returncode == 1
    line = next(line for line in result.stdout.splitlines() if "disk at" in line)
    assert line.startswith("FAIL") and "is not a writable directory" in line and "fix: choose another --out" in line
    assert result.stdout.splitlines()[-1] == "1 problem(s) stop rendering"
