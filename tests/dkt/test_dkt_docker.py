"""The trainer image installs what training needs (tests/test_docker.py lints every Dockerfile)."""

from __future__ import annotations

from pathlib import Path

DOCKERFILE = Path(__file__).resolve().parents[2] / "docker" / "trainer.Dockerfile"


def test_trainer_dockerfile_installs_the_train_extra() -> None:
    text = DOCKERFILE.read_text()
    assert "nvidia/cuda" in text and "python3.11" in text and ".[train]" in text
    assert "download.pytorch.org/whl/cu" in text
