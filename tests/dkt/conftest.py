"""Fixtures of the DKT tests: a tiny random Wan 2.1 base and synthetic scenes in the data contract."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("diffusers")
import torch
from dkt_fixtures import tiny_train_settings, write_scene

# The tiny models gain nothing from a second thread, and on a shared 2-core machine OpenMP
# barriers between two threads can make a millisecond op take a scheduler quantum (measured:
# VAE encode 0.02 s with one thread, 0.05-1.0 s with two while another process runs).
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A whole tiny random Wan 2.1 checkpoint in the diffusers layout (11 MB, seconds)."""
    from transphy3d.dkt.random_wan import build_random_wan

    return build_random_wan(tmp_path_factory.mktemp("wan") / "tiny-wan", seed=0)


@pytest.fixture
def render_root(tmp_path: Path) -> Path:
    """A render output directory with two 9-frame 32x32 scenes."""
    root = tmp_path / "render"
    for i in range(2):
        write_scene(root / f"scene_{i:06d}", seed=i)
    return root


@pytest.fixture(scope="session")
def shared_render_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Like ``render_root``, made once per session (read-only use)."""
    root = tmp_path_factory.mktemp("render_shared")
    for i in range(2):
        write_scene(root / f"scene_{i:06d}", seed=i)
    return root


@pytest.fixture(scope="session")
def trained_run(tiny_base: Path, shared_render_root: Path, tmp_path_factory: pytest.TempPathFactory):
    """A 12-step training run (LoRA B no longer zero): (result, run directory)."""
    from transphy3d.dkt.train import train

    out = tmp_path_factory.mktemp("trained") / "run"
    result = train(
        tiny_train_settings(tiny_base, out, shared_render_root, max_steps=12, checkpoint_every=6),
        log=lambda _m: None,
    )
    return result, out


@pytest.fixture(scope="session")
def fun_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Wan2.1-Fun-Control base in its published layout (original keys, .pth files)."""
    from transphy3d.dkt.random_wan import build_random_fun_control

    return build_random_fun_control(tmp_path_factory.mktemp("fun") / "Wan2.1-Fun-Tiny-Control", seed=0)
