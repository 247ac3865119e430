"""A tiny rendered run shared by the export tests: two 3-frame 64x48 scenes (one with static
assets and an occluded object), rendered once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import render

FRAMES = 3
TINY = ["--set", f"camera.frames={FRAMES}", "--set", "render.samples=4", "--set", "objects.static_fraction=0.5"]


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("export_run") / "run"
    for seed in (0, 1):
        render("tiny", root / f"scene_{seed:06d}", "--seed", str(seed), *TINY)
    return root
