"""The three commands: help, registration, one-line errors for bad input, evaluation end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from dkt_fixtures import write_scene

from transphy3d.cli import build_parser, main
from transphy3d.output.reader import iter_scenes


@pytest.mark.parametrize("command", ["train-dkt", "infer-dkt", "eval-dkt"])
def test_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "--base" in text or "--pred" in text
    assert f"transphy3d {command}" in text


def _error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1
    return err


def test_bad_input_gives_one_line_errors(
    tmp_path: Path, render_root: Path, tiny_base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base_args = ["train-dkt", "--out", str(tmp_path / "run"), "--data", str(render_root)]
    err = _error([*base_args, "--base", str(tmp_path / "no-weights")], capsys)
    assert "no-weights" in err and "--base" in err and "huggingface-cli download" in err
    err = _error([*base_args, "--base", str(tiny_base), "--resolution", "830x480"], capsys)
    assert "--resolution" in err and "multiples of 16" in err
    err = _error([*base_args, "--base", str(tiny_base), "--frames", "6"], capsys)
    assert "--frames" in err and "4N+1" in err
    err = _error([*base_args, "--base", str(tiny_base), "--resolution", "big"], capsys)
    assert "WIDTHxHEIGHT" in err
    err = _error(
        [
            "train-dkt",
            "--out",
            str(tmp_path / "r"),
            "--base",
            str(tiny_base),
            "--data",
            str(tmp_path / "nothing"),
        ],
        capsys,
    )
    assert "nothing" in err and "--data" in err
    err = _error(
        [
            "infer-dkt",
            str(tmp_path),
            "--lora",
            str(tmp_path),
            "--base",
            str(tiny_base),
            "--out",
            str(tmp_path / "o"),
        ],
        capsys,
    )
    assert "dkt.json" in err
    err = _error(["eval-dkt", str(render_root), "--out", str(tmp_path / "e")], capsys)
    assert "--pred" in err


def test_train_cli_runs_and_resumes(
    tmp_path: Path, render_root: Path, tiny_base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "train-dkt",
        "--base",
        str(tiny_base),
        "--out",
        str(tmp_path / "run"),
        "--data",
        f"{render_root}@1",
        "--resolution",
        "32x32",
        "--frames-n",
        "0",
        "1",
        "--batch-size",
        "2",
        "--max-steps",
        "2",
        "--lr",
        "1e-3",
        "--lora-rank",
        "4",
        "--num-workers",
        "0",
        "--no-gradient-checkpointing",
        "--checkpoint-every",
        "2",
        "--log-every",
        "1",
        "--val-data",
        str(render_root),
        "--val-every",
        "2",
        "--val-clips",
        "1",
    ]
    assert main(args) == 0
    assert "trained to step 2" in capsys.readouterr().out
    args[args.index("--max-steps") + 1] = "3"
    assert main([*args, "--resume"]) == 0
    log = [json.loads(line) for line in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if "loss" in r] == [1, 2, 3]
    assert any("val_loss" in r for r in log)
    config = json.loads((tmp_path / "run" / "train_config.json").read_text())
    assert config["batch_size"] == 2 and config["clip"]["width"] == 32


def test_eval_cli_with_saved_and_live_predictions(
    tmp_path: Path, tiny_base: Path, trained_run, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "heldout"
    write_scene(root / "scene_000000", frames=6, flow=True)
    write_scene(root / "scene_000001", frames=6, seed=3, material={"class": "metal", "reflective": True})
    pred = tmp_path / "pred"
    for scene in iter_scenes(root):
        depth = np.stack([scene.depth(t) for t in range(scene.num_frames)])
        disparity = np.where(depth > 0, 3.0 / np.where(depth > 0, depth, 1) + 0.2, 0.2)  # affine of the truth
        (pred / scene.path.name).mkdir(parents=True)
        np.save(pred / scene.path.name / "disparity.npy", disparity.astype(np.float32))
    out = tmp_path / "eval"
    assert main(["eval-dkt", str(root), "--pred", str(pred), "--out", str(out)]) == 0
    table = capsys.readouterr().out
    assert "| all | 2 |" in table
    results = json.loads((out / "metrics.json").read_text())
    summary = results["summary"]
    assert summary["all"]["abs_rel"] == pytest.approx(0.0, abs=1e-6)
    assert summary["all"]["delta_1.05"] == 1.0 and summary["all"]["rmse"] == pytest.approx(0.0, abs=1e-6)
    assert summary["transparent"]["videos"] == 1 and summary["reflective"]["videos"] == 2
    assert summary["all"]["temporal_error"] < 0.05 * summary["all"]["opw_gt"]
    assert results["videos"]["scene_000000"]["fit"]["scale"] == pytest.approx(1 / 3, rel=1e-5)
    assert (out / "metrics.md").read_text().startswith("| data | region | videos | REL | RMSE | δ1.05 |")
    assert results["protocol"]["name"] == "official" and results["protocol"]["aligned_disparity_min"] == 1e-3
    legacy = tmp_path / "eval_legacy"
    argv = ["eval-dkt", str(root), "--pred", str(pred), "--out", str(legacy), "--protocol", "legacy"]
    assert main([*argv, "--depth-range", "clearpose"]) == 0
    record = json.loads((legacy / "metrics.json").read_text())["protocol"]
    assert record["name"] == "legacy" and record["depth_range_m"] == [0.3, 1.5]
    err = _error([*argv[:-2], "--depth-range", "near"], capsys)
    assert "--depth-range" in err and "clearpose" in err
    # live predictions from a checkpoint, saved for reuse
    live = tmp_path / "eval_live"
    assert (
        main(
            [
                "eval-dkt",
                str(root),
                "--lora",
                str(trained_run[0].checkpoint),
                "--base",
                str(tiny_base),
                "--out",
                str(live),
                "--resolution",
                "32x32",
                "--steps",
                "2",
                "--regions",
                "all,glass",
                "--max-frames",
                "5",
            ]
        )
        == 0
    )
    results = json.loads((live / "metrics.json").read_text())
    assert set(results["summary"]) == {"all", "glass"}
    assert 0 < results["summary"]["all"]["abs_rel"] < 10
    sampled = results["settings"]["inference"]  # how live predictions were made, for a rerun
    assert sampled["steps"] == 2 and sampled["seed"] == 1 and sampled["eight_bit"] is False
    assert np.load(live / "predictions" / "scene_000001" / "disparity.npy").shape == (5, 32, 32)


def test_eval_cli_on_published_tars_and_normals(
    tmp_path: Path, render_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from transphy3d.dkt.published import export_render_output

    export_render_output(render_root, tmp_path / "pub")
    pred = tmp_path / "pred"
    for number, scene in enumerate(iter_scenes(render_root)):
        depth = np.stack([scene.depth(t) for t in range(scene.num_frames)])
        folder = pred / f"{number:06d}"
        folder.mkdir(parents=True)
        np.save(
            folder / "disparity.npy",
            np.where(depth > 0, 1 / np.where(depth > 0, depth, 1), 0).astype(np.float32),
        )
        normal = np.stack([scene.normal(t) for t in range(scene.num_frames)])
        np.save(folder / "normal.npy", normal)
    assert (
        main(
            [
                "eval-dkt",
                str(tmp_path / "pub"),
                "--pred",
                str(pred),
                "--out",
                str(tmp_path / "e"),
                "--regions",
                "all",
            ]
        )
        == 0
    )
    summary = json.loads((tmp_path / "e" / "metrics.json").read_text())["summary"]["all"]
    # published depth is 16-bit quantised: the exact prediction is off by at most half a step
    assert summary["abs_rel"] < 1e-4 and summary["delta_1.05"] == 1.0 and summary["videos"] == 2
    assert "opw" in summary  # camera-only geometric flow
    argv = ["eval-dkt", str(tmp_path / "pub"), "--pred", str(pred), "--out", str(tmp_path / "e2")]
    err = _error([*argv, "--regions", "all,transparent"], capsys)
    assert "--regions" in err and "published data has no transparent region" in err
    assert (
        main(
            [
                "eval-dkt",
                str(render_root),
                "--pred",
                str(tmp_path / "pred_scenes"),
                "--out",
                str(tmp_path / "n"),
                "--task",
                "normal",
            ]
        )
        == 2
    )
    capsys.readouterr()
    for scene in iter_scenes(render_root):
        (tmp_path / "pred_scenes" / scene.path.name).mkdir(parents=True)
        np.save(
            tmp_path / "pred_scenes" / scene.path.name / "normal.npy",
            np.stack([scene.normal(t) for t in range(scene.num_frames)]),
        )
    assert (
        main(
            [
                "eval-dkt",
                str(render_root),
                "--pred",
                str(tmp_path / "pred_scenes"),
                "--out",
                str(tmp_path / "n"),
                "--task",
                "normal",
                "--regions",
                "all,glass",
            ]
        )
        == 0
    )
    normal_summary = json.loads((tmp_path / "n" / "metrics.json").read_text())["summary"]
    assert normal_summary["all"]["mean_angle"] == pytest.approx(0.0, abs=0.1)
    assert normal_summary["glass"]["within_11.25"] == 1.0


def test_failed_train_checks_leave_no_output_folder(
    tmp_path: Path, render_root: Path, tiny_base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "deep" / "run"
    for extra in (["--resolution", "830x480"], ["--data", str(tmp_path / "nothing")], ["--frames", "6"]):
        argv = ["train-dkt", "--out", str(out), "--base", str(tiny_base), "--data", str(render_root), *extra]
        _error(argv, capsys)
        assert not (tmp_path / "deep").exists(), extra
    (tmp_path / "file").write_text("x")
    code = main(["train-dkt", "--out", str(tmp_path / "file"), "--base", str(tiny_base), "--data", str(render_root)])
    err = capsys.readouterr().err.strip()
    assert code == 3 and len(err.splitlines()) == 1 and "file" in err and "--out" in err


def test_corrupt_checkpoint_and_predictions_are_named(
    tmp_path: Path, tiny_base: Path, trained_run, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    from transphy3d.dkt.model import DKT_CONFIG_FILE

    checkpoint = shutil.copytree(trained_run[0].checkpoint, tmp_path / "ckpt")
    frames = tmp_path / "frames"
    write_scene(tmp_path / "scene", frames=5)
    shutil.copytree(tmp_path / "scene" / "rgb", frames)
    infer = ["infer-dkt", str(frames), "--lora", str(checkpoint), "--base", str(tiny_base)]
    for damage in ("{oops", "[1, 2]", '{"rank": "many", "task": 3}'):
        (checkpoint / DKT_CONFIG_FILE).write_text(damage)
        err = _error([*infer, "--out", str(tmp_path / "o")], capsys)
        assert str(checkpoint / DKT_CONFIG_FILE) in err, err
    assert not (tmp_path / "o").exists()
    # --out is checked before the checkpoint is even read
    (tmp_path / "taken").write_text("x")
    assert main([*infer, "--out", str(tmp_path / "taken")]) == 3
    assert "exists and is not a directory" in capsys.readouterr().err

    root = tmp_path / "heldout"
    write_scene(root / "scene_000000", frames=5)
    pred = tmp_path / "pred" / "scene_000000"
    pred.mkdir(parents=True)
    (pred / "disparity.npy").write_bytes(b"\x93NUMPY not really")
    err = _error(["eval-dkt", str(root), "--pred", str(tmp_path / "pred"), "--out", str(tmp_path / "e")], capsys)
    assert str(pred / "disparity.npy") in err and "--pred" in err
    # eval --out pointing at a file fails before any inference runs
    live = ["eval-dkt", str(root), "--lora", str(trained_run[0].checkpoint), "--base", str(tiny_base)]
    assert main([*live, "--out", str(tmp_path / "taken")]) == 3
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--out" in err
