"""The paper's recipe through the datasets layer: a 2-step train-dkt mixing the image datasets
(DREDS, HISS, ClearGrasp, an image folder) with a render run, and eval-dkt on ClearPose subsets
(an affine prediction scores perfectly; a distorted one gives hand-computed figures)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from transphy3d.cli import main
from transphy3d.dkt.mixture import MixtureSampler, build_mixture
from transphy3d.dkt.settings import ClipSettings, FrameSettings
from transphy3d.dkt.sources import load_mixture_file
from transphy3d.resources import shipped_mixture

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "datasets"))
from layouts import (
    H,
    W,
    write_cleargrasp,
    write_clearpose,
    write_clearpose_frame,
    write_clearpose_metadata,
    write_dreds,
    write_hiss,
)


def _image_folder(root: Path) -> Path:
    (root / "rgb").mkdir(parents=True)
    (root / "depth").mkdir()
    for i in range(2):
        Image.fromarray(np.full((12, 20, 3), 60 * i, np.uint8)).save(root / "rgb" / f"im{i}.png")
        Image.fromarray(np.full((12, 20), 900 + 100 * i, np.uint16)).save(root / "depth" / f"im{i}.png")
    return root


def test_two_steps_mix_the_four_image_sources_with_a_render_run(
    tiny_base: Path, render_root: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    write_dreds(data)
    write_hiss(data)
    write_cleargrasp(data)
    _image_folder(data / "imgs")
    mixture = tmp_path / "mix.yaml"
    mixture.write_text(
        f"data_root: {data}\n"
        "sources:\n"
        "  - {kind: dreds, path: DREDS-CatKnown}\n"
        "  - {kind: hiss, path: HISS/train}\n"
        "  - {kind: cleargrasp, path: cleargrasp}\n"
        "  - {kind: images, path: imgs, depth_scale: 0.001}\n"
    )
    out = tmp_path / "run"
    argv = ["train-dkt", "--base", str(tiny_base), "--out", str(out), "--mixture", str(mixture)]
    argv += ["--data", f"render:{render_root}", "--resolution", "32x32", "--frames", "1", "--max-steps", "2"]
    argv += ["--batch-size", "16", "--micro-batch-size", "1", "--num-workers", "0", "--lora-rank", "4"]
    argv += ["--log-every", "1", "--checkpoint-every", "2", "--mixed-precision", "no", "--seed", "0"]
    argv += ["--index-cache", str(tmp_path / "cache")]
    assert main(argv) == 0
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    steps = [r for r in log if "loss" in r]
    assert [r["step"] for r in steps] == [1, 2] and all(math.isfinite(r["loss"]) for r in steps)
    assert steps[-1]["skipped"] == 0
    assert (out / "checkpoints" / "step_00000002" / "pytorch_lora_weights.safetensors").is_file()
    # the 32 micro-batches those 2 steps read drew every source (the sampler is a pure function of the seed)
    specs = [*load_mixture_file(mixture)]
    from transphy3d.dkt.sources import parse_data_arg

    specs.insert(0, parse_data_arg(f"render:{render_root}"))
    dataset, weights, _ = build_mixture(specs, ClipSettings(resolution=(32, 32)), tmp_path / "cache")
    sampler = MixtureSampler(dataset.sources, weights, FrameSettings.fixed(1), micro_batch=1, seed=0)
    drawn = {key.source for i in range(32) for key in sampler.keys(i)}
    assert drawn == {0, 1, 2, 3, 4}
    assert [s.kind for s in specs] == ["render", "dreds", "hiss", "cleargrasp", "images"]
    assert [len(s.lengths) for s in dataset.sources] == [2, 2, 2, 2, 2]  # images datasets: one item per frame


def test_the_shipped_recipe_mixture_reads() -> None:
    specs = load_mixture_file(shipped_mixture("dkt_paper"), data_root="/somewhere")
    assert [s.kind for s in specs] == ["published", "hiss", "dreds", "cleargrasp"]
    assert specs[2].path == "/somewhere/DREDS/DREDS-CatKnown/train" and all(s.weight == 1.0 for s in specs)


def _affine_predictions(root: Path, pred: Path, scale: float = 2.5, shift: float = 0.3) -> None:
    """PRED/<set>/<scene>/disparity.npy = scale / depth + shift (0 where no truth), frames in order."""
    for scene in sorted(root.glob("set*/scene*")):
        frames = sorted(p.name.split("-")[0] for p in scene.glob("*-depth_true.png"))
        depth = np.stack([np.asarray(Image.open(scene / f"{f}-depth_true.png"), np.float64) / 1000 for f in frames])
        disparity = np.where(depth > 0, scale / np.where(depth > 0, depth, 1) + shift, 0.0)
        target = pred / scene.relative_to(root)
        target.mkdir(parents=True)
        np.save(target / "disparity.npy", disparity.astype(np.float32))


def test_eval_on_clearpose_subsets_affine_and_distorted(tmp_path: Path) -> None:
    write_clearpose(tmp_path, scenes=("set2/scene1", "set3/scene4", "set1/scene5", "set1/scene1"))
    root = tmp_path / "clearpose"
    pred = tmp_path / "pred"
    _affine_predictions(root, pred)
    out = tmp_path / "eval"
    argv = ["eval-dkt", f"clearpose:{root}", "--subset", "heavy_occlusion,new_background", "--pred", str(pred)]
    assert main([*argv, "--out", str(out), "--index-cache", str(tmp_path / "cache")]) == 0
    results = json.loads((out / "metrics.json").read_text())
    assert set(results["subsets"]) == {"heavy_occlusion", "new_background"}
    assert set(results["subsets"]["heavy_occlusion"]["videos"]) == {"set2/scene1", "set3/scene4"}
    assert set(results["subsets"]["new_background"]["videos"]) == {"set1/scene5"}
    for subset in results["subsets"].values():
        assert subset["protocol"]["depth_range_m"] == [0.3, 1.5]  # ClearPose's own range, the default here
        for region in ("all", "transparent"):
            row = subset["summary"][region]
            assert row["abs_rel"] == pytest.approx(0.0, abs=1e-6) and row["delta_1.05"] == 1.0
            assert row["rmse"] == pytest.approx(0.0, abs=1e-6)
            # camera-motion flow from metadata.mat's poses: the prediction changes as the truth does
            assert row["opw_gt"] > 0.01 and row["temporal_error"] == pytest.approx(0.0, abs=1e-5)
        fit = subset["videos"][next(iter(subset["videos"]))]["fit"]
        assert fit["scale"] == pytest.approx(1 / 2.5, rel=1e-5)
    table = (out / "metrics.md").read_text()
    assert table.startswith("| data | region | videos | REL | RMSE | δ1.05 | δ1.10 | δ1.25 | TE |")
    assert "| heavy_occlusion | transparent | 2 | 0.0000 | 0.0000 | 100.00 | 100.00 | 100.00 | 0.0000 |" in table


def test_eval_hand_computed_on_a_distorted_prediction(tmp_path: Path) -> None:
    """Three groups of 42 pixels (2 more without truth): ground-truth depths 1.0, 0.5, 0.5 m,
    predicted disparities 1, 2, 3. The least-squares fit of gt disparity (1, 2, 2) is s = 1/2,
    t = 2/3: aligned disparities 7/6, 5/3, 13/6, depths 6/7, 3/5, 6/13. Per group |d - d*| / d* =
    1/7, 1/5, 1/13; max ratio 7/6, 6/5, 13/12. The third group is the transparent one."""
    scene = tmp_path / "clearpose" / "set8" / "scene1"
    flat = np.zeros(H * W, np.int64)
    flat[:2] = -1  # no ground truth
    flat[2:44], flat[44:86], flat[86:] = 0, 1, 2
    groups = flat.reshape(H, W)
    depth_mm = np.choose(groups + 1, [0, 1000, 500, 500])
    label = np.where(groups == 2, 7, 0)
    write_clearpose_frame(scene, "000000", np.zeros((H, W, 3), np.uint8), depth_mm, depth_mm, label)
    write_clearpose_metadata(scene, {"000000": np.array([[20.0, 0, 7.5], [0, 20.0, 3.5], [0, 0, 1]])})
    pred = tmp_path / "pred" / "set8" / "scene1"
    pred.mkdir(parents=True)
    np.save(pred / "disparity.npy", (groups + 1).astype(np.float32)[None])
    out = tmp_path / "eval"
    argv = ["eval-dkt", str(tmp_path / "clearpose"), "--subset", "opaque", "--pred", str(tmp_path / "pred")]
    assert main([*argv, "--out", str(out), "--index-cache", str(tmp_path / "cache")]) == 0
    summary = json.loads((out / "metrics.json").read_text())["summary"]
    every, transparent = summary["all"], summary["transparent"]
    assert every["abs_rel"] == pytest.approx((1 / 7 + 1 / 5 + 1 / 13) / 3, rel=1e-6)
    assert every["rmse"] == pytest.approx(math.sqrt(((1 / 7) ** 2 + 0.1**2 + (1 / 26) ** 2) / 3), rel=1e-6)
    assert every["delta_1.05"] == 0.0 and every["delta_1.10"] == pytest.approx(1 / 3) and every["delta_1.25"] == 1.0
    assert transparent["abs_rel"] == pytest.approx(1 / 13, rel=1e-6) and transparent["delta_1.10"] == 1.0
    assert "| opaque | all | 1 | 0.1399 | 0.1031 | 0.00 | 33.33 | 100.00 | - |" in (out / "metrics.md").read_text()


def test_infer_a_dataset_into_the_layout_eval_reads(tiny_base: Path, trained_run, tmp_path: Path) -> None:
    write_clearpose(tmp_path, scenes=("set2/scene1",))
    write_dreds(tmp_path)
    checkpoint = str(trained_run[0].checkpoint)
    common = ["--lora", checkpoint, "--base", str(tiny_base), "--resolution", "32x32", "--steps", "2"]
    pred = tmp_path / "pred"
    argv = ["infer-dkt", f"clearpose:{tmp_path / 'clearpose'}", *common, "--out", str(pred), "--formats", "npy"]
    assert main(argv) == 0
    video = np.load(pred / "set2" / "scene1" / "disparity.npy")
    assert video.shape == (3, H, W) and video.min() >= 0 and video.max() <= 1
    dreds_pred = tmp_path / "dreds-pred"
    argv = ["infer-dkt", f"dreds:{tmp_path / 'DREDS-CatKnown'}", *common, "--out", str(dreds_pred), "--formats", "npy"]
    assert main([*argv, "--numerics", "official"]) == 0
    frames = np.load(dreds_pred / "test" / "00001" / "disparity.npy")
    assert frames.shape == (2, H, W)  # two independent frames, each predicted on its own
    out = tmp_path / "eval"
    argv = ["eval-dkt", f"clearpose:{tmp_path / 'clearpose'}", "--pred", str(pred), "--out", str(out)]
    assert main([*argv, "--index-cache", str(tmp_path / "cache")]) == 0
    summary = json.loads((out / "metrics.json").read_text())["summary"]
    assert set(summary) == {"all", "transparent"} and 0 < summary["all"]["abs_rel"] < 10
    out = tmp_path / "eval-dreds"
    argv = ["eval-dkt", f"dreds:{tmp_path / 'DREDS-CatKnown'}", "--pred", str(dreds_pred), "--out", str(out)]
    assert main([*argv, "--index-cache", str(tmp_path / "cache")]) == 0
    videos = json.loads((out / "metrics.json").read_text())["videos"]
    assert set(videos) == {"test/00001/0000", "test/00001/0002"}  # one alignment per frame


def test_the_papers_table_in_one_command(tmp_path: Path) -> None:
    """Several benchmarks in one eval-dkt: ClearPose once per subset, DREDS whole, one metrics.md
    with a row per benchmark, subset and region; predictions affine in disparity score perfectly."""
    from transphy3d.datasets import open_dataset

    write_clearpose(tmp_path, scenes=("set2/scene1", "set1/scene5"))
    write_dreds(tmp_path)
    specs = [f"clearpose:{tmp_path / 'clearpose'}", f"dreds:{tmp_path / 'DREDS-CatKnown' / 'test'}"]
    pred = tmp_path / "pred"
    for spec in specs:
        for sequence in open_dataset(spec).sequences():
            depth = np.stack([frame.depth for frame in sequence.frames()]).astype(np.float64)
            disparity = np.where(depth > 0, 0.4 / np.where(depth > 0, depth, 1) + 0.1, 0.0)
            (pred / sequence.name).mkdir(parents=True)
            np.save(pred / sequence.name / "disparity.npy", disparity.astype(np.float32))
    out = tmp_path / "eval"
    argv = ["eval-dkt", *specs, "--subset", "heavy_occlusion,new_background", "--pred", str(pred), "--out", str(out)]
    assert main([*argv, "--index-cache", str(tmp_path / "cache")]) == 0
    results = json.loads((out / "metrics.json").read_text())
    assert list(results["subsets"]) == [
        "clearpose heavy_occlusion", "clearpose new_background", "DREDS-CatKnown/test"
    ]  # fmt: skip
    for benchmark in results["subsets"].values():
        assert benchmark["summary"]["all"]["abs_rel"] == pytest.approx(0.0, abs=1e-5)
        assert benchmark["summary"]["all"]["delta_1.05"] == 1.0
    table = (out / "metrics.md").read_text()
    assert "| DREDS-CatKnown/test | all |" in table and "| clearpose new_background | transparent |" in table
    dreds_only = ["eval-dkt", specs[1], "--subset", "opaque", "--pred", str(pred), "--out", str(tmp_path / "e2")]
    assert main([*dreds_only, "--index-cache", str(tmp_path / "cache")]) == 2  # --subset names ClearPose subsets
