"""The VLM filter's local backend on a tiny random Qwen2.5-VL built offline here (real processor,
chat template, generate, decode): both vision-input paths, batching with left padding, resuming,
selection, and the same run on Ray."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest
from helpers import REPO, run_cli
from PIL import Image

from transphy3d.assets.vlm.backends import FilterOptions
from transphy3d.assets.vlm.local import LocalBackend
from transphy3d.assets.vlm.run import run_filter
from transphy3d.assets.vlm.select import select
from transphy3d.assets.vlm.vision import VisionPath, detect_vision_path
from transphy3d.scene.asset_bank import read_manifest, write_manifest

STARTER = REPO / "assets_manifest" / "starter.jsonl"


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    from transphy3d.assets.vlm.tiny import build_tiny_qwen

    return build_tiny_qwen(tmp_path_factory.mktemp("qwen") / "tiny", seed=0)


def make_bank(folder: Path, count: int = 5, views: int = 2) -> Path:
    """A manifest of ``count`` starter records with synthetic thumbnails and no verdicts."""
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    for index, record in enumerate(read_manifest(STARTER)[:count]):
        thumbs = []
        for view in range(views):
            rng = np.random.default_rng(index * 10 + view)
            pixels = (rng.random((40 + 8 * index, 56, 3)) * 255).astype(np.uint8)
            path = folder / f"{record.asset_id}_{view}.png"
            Image.fromarray(pixels).save(path)
            thumbs.append(path.name)
        records.append(record.model_copy(update={"thumbnails": thumbs, "verdict": None, "kept": None}))
    manifest = folder / "bank.jsonl"
    write_manifest(manifest, records)
    return manifest


def test_without_torchvision_the_image_only_path_is_taken(tiny_model) -> None:
    path = detect_vision_path()
    assert path.name == "image-only" and "torchvision" in path.reason
    backend = LocalBackend(str(tiny_model), max_new_tokens=8)
    assert backend.processor_kind.startswith("image-only") and "Torchvision" in backend.processor_kind


def test_transformers_backend_filters_end_to_end_and_resumes(tiny_model, tmp_path) -> None:
    manifest = make_bank(tmp_path)
    options = FilterOptions(model=str(tiny_model), batch=2, keep_top=2, max_new_tokens=24, ray="never")
    summary = run_filter(manifest, options)
    assert (summary.asked, summary.total, summary.used_ray) == (5, 5, False)
    records = read_manifest(manifest)
    for record in records:
        v = record.verdict
        assert v is not None and v.backend == "transformers" and v.model == str(tiny_model)
        assert v.status in ("ok", "partial", "malformed")
        if v.status != "ok":
            assert v.raw is not None  # what the model said is kept, not guessed over
    assert {r.asset_id for r in records if r.kept} == select(records, keep_top=2)
    # Resume: nothing left to ask; after losing two verdicts only those two are asked again.
    assert run_filter(manifest, options).asked == 0
    write_manifest(
        manifest, [r.model_copy(update={"verdict": None}) if i in (1, 3) else r for i, r in enumerate(records)]
    )
    again = run_filter(manifest, options)
    assert again.asked == 2
    assert [r.verdict for r in read_manifest(manifest)] == [r.verdict for r in records]  # greedy: same answers


def test_batched_answers_equal_single_answers(tiny_model, tmp_path) -> None:
    """Left padding and per-sample image tokens: a batch answers like its members one by one."""
    manifest = make_bank(tmp_path, count=3)
    images = [[str(tmp_path / t) for t in r.thumbnails] for r in read_manifest(manifest)]
    backend = LocalBackend(str(tiny_model), max_new_tokens=12)
    batched = backend.ask(images)
    inputs = backend.inputs(images)
    assert (inputs["attention_mask"][:, 0] == 0).any() and (inputs["attention_mask"][:, -1] == 1).all()  # left
    assert batched == [backend.ask([one])[0] for one in images]


@pytest.fixture()
def qwen_vl_utils_importable(monkeypatch):
    """Import the real qwen_vl_utils: its image path needs only PIL, but its module imports
    torchvision (for videos), which the CPU torch build lacks. A stand-in *torchvision* module
    (third-party, unused on the image path) is present only while qwen_vl_utils imports."""
    pytest.importorskip("av")
    for name in [m for m in sys.modules if m.startswith("qwen_vl_utils")]:
        monkeypatch.delitem(sys.modules, name)
    fake = types.ModuleType("torchvision")
    fake.__version__ = "0.0"
    fake.io = types.ModuleType("torchvision.io")
    fake.transforms = types.ModuleType("torchvision.transforms")
    fake.transforms.InterpolationMode = type("InterpolationMode", (), {"BICUBIC": 3})
    stand_ins = {"torchvision": fake, "torchvision.io": fake.io, "torchvision.transforms": fake.transforms}
    with monkeypatch.context() as patch:
        for name, module in stand_ins.items():
            patch.setitem(sys.modules, name, module)
        import qwen_vl_utils

        path = detect_vision_path()
    assert "torchvision" not in sys.modules or sys.modules["torchvision"] is not fake
    return qwen_vl_utils, path


def test_qwen_vl_utils_path_gives_the_same_inputs_and_runs(qwen_vl_utils_importable, tiny_model, tmp_path) -> None:
    module, path = qwen_vl_utils_importable
    assert path == VisionPath("qwen-vl-utils", "qwen_vl_utils imports")
    assert "site-packages" in module.__file__  # the released package, not a stand-in
    manifest = make_bank(tmp_path, count=2, views=3)
    images = [[str(tmp_path / t) for t in r.thumbnails] for r in read_manifest(manifest)]
    via_utils = LocalBackend(str(tiny_model), max_new_tokens=8, vision_path=path)
    image_only = LocalBackend(str(tiny_model), max_new_tokens=8, vision_path=VisionPath("image-only", "test"))
    a, b = via_utils.inputs(images), image_only.inputs(images)
    assert set(a) == set(b)
    for key in a:
        assert np.array_equal(np.asarray(a[key]), np.asarray(b[key])), key
    assert via_utils.ask(images) == image_only.ask(images)


def test_the_filter_runs_on_ray(tiny_model, tmp_path) -> None:
    pytest.importorskip("ray")
    local = make_bank(tmp_path / "local", count=3)
    on_ray = make_bank(tmp_path / "ray", count=3)
    common = {"model": str(tiny_model), "batch": 2, "threshold": 0.5, "max_new_tokens": 12}
    run_filter(local, FilterOptions(**common, ray="never"))
    summary = run_filter(on_ray, FilterOptions(**common, ray="auto", ray_min_assets=2, ray_workers=1, ray_cpus=1))
    assert summary.used_ray and summary.asked == 3
    assert [r.verdict for r in read_manifest(on_ray)] == [r.verdict for r in read_manifest(local)]
    import ray

    ray.shutdown()


def test_filter_cli_errors_are_one_line(tmp_path) -> None:
    manifest = make_bank(tmp_path, count=1)
    result = run_cli("assets", "filter", "--manifest", str(manifest), "--backend", "openai")
    assert result.returncode == 2 and "--endpoint" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    result = run_cli("assets", "filter", "--manifest", str(tmp_path / "none.jsonl"))
    assert result.returncode == 2 and "asset manifest not found" in result.stderr
    result = run_cli("assets", "filter", "--manifest", str(manifest), "--model", str(tmp_path / "no-model"))
    assert result.returncode == 2 and "--model" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    (tmp_path / read_manifest(manifest)[0].thumbnails[0]).unlink()
    result = run_cli("assets", "filter", "--manifest", str(manifest))
    assert result.returncode == 2 and "assets thumbnails" in result.stderr
