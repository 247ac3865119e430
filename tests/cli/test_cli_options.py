"""Options built from settings models: every flag reaches its field (nested fields included),
defaults come from the model alone, and bad values are one-line errors naming the flag."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest
from helpers import REPO

from transphy3d.cli import build_parser
from transphy3d.cli.options import add_model_options, model_values
from transphy3d.dkt.settings import InferenceSettings, TrainSettings
from transphy3d.errors import UserError
from transphy3d.farm.options import FarmOptions


def settings_from(model, argv: list[str]):
    parser = argparse.ArgumentParser()
    dests = add_model_options(parser, model)
    return model(**model_values(parser.parse_args(argv), dests))


def test_train_flags_reach_their_fields(tmp_path) -> None:
    (tmp_path / "scene_000000").mkdir()
    (tmp_path / "scene_000000" / "camera.json").write_text("{}")
    s = settings_from(
        TrainSettings,
        ["--base", "b", "--out", "o", "--data", f"{tmp_path}@2", "--resolution", "64x32", "--task", "normal",
         "--frames-n", "1", "3", "--frames", "9", "--lora-targets", "to_q, to_k", "--lora-rank", "4", "--lr", "0.5",
         "--no-gradient-checkpointing", "--masked-loss", "--no-random-crop", "--resume",
         "--disparity-percentiles", "2", "98"],
    )  # fmt: skip
    assert (s.clip.width, s.clip.height, s.clip.task, s.clip.random_crop) == (64, 32, "normal", False)
    assert (s.frames.n_min, s.frames.n_max, s.frames.n_range) == (2, 2, (1, 3))
    assert s.lora.targets == ("to_q", "to_k") and s.lora.rank == 4 and s.lora.alpha == 32.0
    assert s.learning_rate == 0.5 and s.gradient_checkpointing is False and s.objective.masked is True
    assert s.resume == "auto" and s.clip.percentiles == (2.0, 98.0)
    assert [(d.kind, d.weight) for d in s.data] == [("render", 2.0)]


def test_defaults_come_from_the_model() -> None:
    s = settings_from(TrainSettings, ["--base", "b", "--out", "o"])
    assert s == TrainSettings(base="b", out="o")
    assert s.to_json()["clip"] == {"width": 832, "height": 480, "task": "depth", "percentiles": [0.0, 100.0],
                                   "resize": "stretch", "random_crop": True}  # fmt: skip
    assert settings_from(InferenceSettings, []).resolution == (832, 480)
    assert settings_from(InferenceSettings, ["--resolution", "16x16"]).resolution == (16, 16)


def test_help_shows_the_models_defaults() -> None:
    parser = build_parser("train-dkt")._subparsers._group_actions[0].choices["train-dkt"]
    text = " ".join(parser.format_help().split())
    assert "(default: 832x480)" in text and "(default: 70000)" in text and "(default: 1e-05)" in text
    assert "to_q,to_k,to_v,to_out.0,ffn.net.0.proj,ffn.net.2" in text


@pytest.mark.parametrize(
    ("model", "argv", "message"),
    [
        (TrainSettings, ["--base", "b", "--out", "o", "--batch-size", "0"], "--batch-size"),
        (TrainSettings, ["--base", "b", "--out", "o", "--resolution", "830x480"], "--resolution: 830x480"),
        (TrainSettings, ["--base", "b", "--out", "o", "--resolution", "big"], "WIDTHxHEIGHT"),
        (TrainSettings, ["--base", "b", "--out", "o", "--val-frames", "6"], "--val-frames"),
        (InferenceSettings, ["--window", "3", "--overlap", "2"], "--window/--overlap"),
        (FarmOptions, ["--scenes", "-1", "--out", "o"], "--scenes: must be >= 0, got -1"),
        (FarmOptions, ["--scenes", "1", "--out", "o", "--timeout", "0"], "--timeout: must be > 0"),
    ],
)
def test_bad_values_name_the_flag(model, argv: list[str], message: str) -> None:
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        settings_from(model, argv)


def test_start_up_imports_nothing_heavy() -> None:
    """``transphy3d --help`` lists every command without importing any command's module."""
    code = (
        "import sys; from transphy3d.cli import build_parser; build_parser(''); "
        "print(sorted(m for m in ('numpy', 'pydantic', 'yaml', 'torch', 'bpy', 'ray') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
