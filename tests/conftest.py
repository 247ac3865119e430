"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import TINY_SCENE_ARGS, render


@pytest.fixture(scope="session")
def tiny_scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny scene (the ``tiny`` config, seed 1, 3 frames of 64x48) rendered once per test
    session by ``transphy3d render-scene``; tests that damage it work on a copy."""
    out = tmp_path_factory.mktemp("tiny_scene") / "scene_000001"
    render("tiny", out, *TINY_SCENE_ARGS)
    return out
