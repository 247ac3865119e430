"""Weight files from someone else: a trainer state that would run code is refused without running
it; truncated LoRA weights and a truncated base config are one-line errors naming the file, and
nothing is written."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from dkt_fixtures import write_scene

from transphy3d.cli import main
from transphy3d.dkt.model import LORA_WEIGHTS_FILE
from transphy3d.dkt.train import STATE_FILE


class _OpensAFile:
    """Unpickling this calls ``open(marker, "w")``: proof that loading ran code."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _one_line(argv: list[str], capsys: pytest.CaptureFixture[str], code: int = 2) -> str:
    result = main(argv)
    err = capsys.readouterr().err.strip()
    assert result == code, err
    ours = [line for line in err.splitlines() if line.startswith("transphy3d ")]  # not the libraries' progress bars
    assert len(ours) == 1 and "Traceback" not in err, err
    return ours[0]


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.fixture
def resumable(tmp_path: Path, trained_run) -> Path:
    """A copy of a trained run's checkpoint to resume from."""
    return shutil.copytree(trained_run[0].checkpoint, tmp_path / "ckpt")


def _resume(tiny_base: Path, data: Path, out: Path, checkpoint: Path) -> list[str]:
    return ["train-dkt", "--base", str(tiny_base), "--data", str(data), "--out", str(out), "--resume", str(checkpoint),
            "--resolution", "32x32", "--frames", "5", "--max-steps", "13", "--lora-rank", "8",
            "--num-workers", "0"]  # fmt: skip


def test_a_trainer_state_that_would_run_code_is_refused(
    tmp_path: Path, tiny_base: Path, shared_render_root: Path, resumable: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "ran"
    state = torch.load(resumable / STATE_FILE, weights_only=True)  # the real state loads safely
    torch.save({**state, "extra": _OpensAFile(marker)}, resumable / STATE_FILE)
    err = _one_line(_resume(tiny_base, shared_render_root, tmp_path / "run", resumable), capsys)
    assert str(resumable / STATE_FILE) in err and "refused" in err and "could run code" in err, err
    assert not marker.exists()


@pytest.mark.parametrize("damaged", [LORA_WEIGHTS_FILE, STATE_FILE])
def test_a_truncated_checkpoint_file_is_named_on_resume(
    damaged: str, tmp_path: Path, tiny_base: Path, shared_render_root: Path, resumable: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    _truncate(resumable / damaged)
    before = sorted(p.name for p in resumable.iterdir())
    err = _one_line(_resume(tiny_base, shared_render_root, tmp_path / "run", resumable), capsys)
    assert str(resumable / damaged) in err and "not a readable" in err, err
    assert sorted(p.name for p in resumable.iterdir()) == before
    assert not (tmp_path / "run" / "checkpoints").exists() or not any((tmp_path / "run" / "checkpoints").iterdir())


def test_a_truncated_lora_is_named_by_infer(
    tmp_path: Path, tiny_base: Path, resumable: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _truncate(resumable / LORA_WEIGHTS_FILE)
    write_scene(tmp_path / "scene", frames=5)
    infer = ["infer-dkt", str(tmp_path / "scene" / "rgb"), "--lora", str(resumable), "--base", str(tiny_base)]
    err = _one_line([*infer, "--out", str(tmp_path / "o")], capsys)
    assert str(resumable / LORA_WEIGHTS_FILE) in err and "not a readable safetensors file" in err, err
    assert not (tmp_path / "o").exists()


def test_a_truncated_base_config_is_named(tmp_path: Path, tiny_base: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = shutil.copytree(tiny_base, tmp_path / "base")
    _truncate(base / "transformer" / "config.json")
    write_scene(tmp_path / "render" / "scene_000000", frames=5)
    argv = ["train-dkt", "--base", str(base), "--data", str(tmp_path / "render"), "--out", str(tmp_path / "run")]
    err = _one_line(argv, capsys)
    assert str(base / "transformer" / "config.json") in err and "not JSON" in err, err
    assert not (tmp_path / "run").exists()


def test_an_undecodable_video_is_one_short_line(
    tmp_path: Path, tiny_base: Path, trained_run, capsys: pytest.CaptureFixture[str]
) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    argv = ["infer-dkt", str(video), "--lora", str(trained_run[0].checkpoint), "--base", str(tiny_base)]
    err = _one_line([*argv, "--out", str(tmp_path / "o")], capsys)
    assert str(video) in err and "cannot decode the video" in err and "Invalid data" in err, err
    assert len(err) < 400 and "ffmpeg version" not in err and "configuration:" not in err, err
    assert not (tmp_path / "o").exists()
