"""Each extra declares every package its code needs at run time.

This environment has everything installed. Each check builds a virtual environment holding only
what ``pip install transphy3d[extra]`` would install: the same installed files, linked from here,
for the distributions in the extra's dependency closure (computed from pyproject.toml and the
installed packages' metadata); the package itself comes from the source tree. Real commands then
run in it, and so do the processes they start (render workers, Ray workers, Blender import
workers). A missing declaration (scipy for trimesh's convex hulls, say) fails here as it would on
a render node installed with that extra alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from environments import closure, environment_with
from helpers import REPO

pytestmark = [pytest.mark.blender, pytest.mark.slow]


def run_with_extras(
    extras: tuple[str, ...], tmp_path: Path, *commands: list[str], returncode: int = 0
) -> subprocess.CompletedProcess:
    """Run each command (``python`` first) in an environment with only ``transphy3d[extras]``;
    each must exit with ``returncode``. Returns the last one."""
    python = environment_with(extras, tmp_path / "venv")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests"), str(REPO / "tests" / "dkt")])}
    for command in commands:
        result = subprocess.run([str(python), *command[1:]], cwd=tmp_path, env=env, capture_output=True, text=True,
                                timeout=600)  # fmt: skip
        message = f"[{','.join(extras)}] {' '.join(command)}:\n{result.stdout[-2000:]}{result.stderr[-3000:]}"
        assert result.returncode == returncode, message
    return result


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "transphy3d", *args]


TINY = ["--set", "camera.frames=1", "--set", "render.width=32", "--set", "render.height=24"]


def test_the_check_can_fail(tmp_path: Path) -> None:
    """Blender is outside the trainer's closure: importing it fails in the trainer's environment."""
    assert "bpy" in closure(("render",)) and "bpy" not in closure(("train",)) and "scipy" in closure(())
    with pytest.raises(AssertionError, match="No module named 'bpy'"):
        run_with_extras(("train",), tmp_path, [sys.executable, "-c", "import bpy"])


def test_the_core_alone_samples_and_reads(tmp_path: Path) -> None:
    run_with_extras((), tmp_path, cli("sample", "default", "--seed", "1"), cli("configs"), cli("--help"))
    doctor = run_with_extras((), tmp_path, cli("doctor", "--no-render"), returncode=1)
    assert "FAIL  bpy: not installed; fix: pip install 'transphy3d[render]'" in doctor.stdout


def test_render_alone_renders_and_checks_the_ground_truth(tmp_path: Path) -> None:
    run_with_extras(
        ("render",),
        tmp_path,
        cli("render-scene", "tiny", "--out", "scene", "--quiet", "--set", "objects.static_fraction=1", *TINY),
        cli("validate", "scene"),
        cli("report", "scene", "--no-plots", "--out", "report"),
        [sys.executable, str(REPO / "examples" / "render_one.py"), "example"],
    )
    plots = run_with_extras(("render",), tmp_path, cli("report", "scene", "--out", "report"), returncode=2)
    assert "plots need matplotlib: pip install 'transphy3d[report]' (or pass --no-plots)" in plots.stderr


def test_render_and_farm_run_the_farm(tmp_path: Path) -> None:
    run_with_extras(
        ("render", "farm"),
        tmp_path,
        cli("render", "--scenes", "1", "--out", "run", "--config", "tiny", "--no-progress", *TINY),
        cli("status", "run"),
    )


def test_preview_alone_previews(tmp_path: Path) -> None:
    run_with_extras(("preview",), tmp_path, cli("preview", "tiny", "--frames", "1", "--width", "32", "--out", "p"))


TRAIN = """
import sys
from pathlib import Path
from dkt_fixtures import write_scene
from transphy3d.cli import main
from transphy3d.dkt.random_wan import build_random_wan

base = build_random_wan(Path("wan"), seed=0)
write_scene(Path("render/scene_000000"), frames=5)
common = ["--base", str(base), "--resolution", "32x32", "--seed", "0"]
args = ["train-dkt", "--out", "run", "--data", "render", "--frames", "5", "--max-steps", "1", "--batch-size", "1",
        "--num-workers", "0", "--mixed-precision", "no", "--no-gradient-checkpointing", "--lora-rank", "4"]
assert main(args + common) == 0
checkpoint = sorted(Path("run/checkpoints").glob("step_*"))[-1]
assert main(["infer-dkt", "render/scene_000000", "--lora", str(checkpoint), "--out", "pred", "--steps", "1",
             "--window", "3", "--overlap", "1", *common]) == 0
"""


def test_train_alone_trains_and_infers(tmp_path: Path) -> None:
    run_with_extras(("train",), tmp_path, [sys.executable, "-c", TRAIN])


ASSETS = """
from pathlib import Path
from transphy3d.assets.vlm.tiny import build_tiny_qwen
from transphy3d.cli import main

assert main(["assets", "starter", "--out", "starter", "--manifest", "bank.jsonl"]) == 0
assert main(["assets", "thumbnails", "--manifest", "bank.jsonl", "--views", "1", "--size", "32", "--samples", "1"]) == 0
model = build_tiny_qwen(Path("qwen"), seed=0)
before = Path("bank.jsonl").read_text()
# A tiny random model's answers are not verdicts: failed requests (exit 1), the curated verdicts kept.
assert main(["assets", "filter", "--manifest", "bank.jsonl", "--model", str(model), "--rescore", "--no-ray",
             "--max-new-tokens", "8"]) == 1
assert Path("bank.jsonl").read_text() == before
"""


def test_assets_alone_imports_renders_thumbnails_and_filters(tmp_path: Path) -> None:
    run_with_extras(("assets",), tmp_path, [sys.executable, "-c", ASSETS])


def test_export_alone_writes_every_format(tmp_path: Path) -> None:
    """`transphy3d[export]` alone exports a rendered scene to BOP, COCO and the published tars (the
    tar writer needs neither torch nor the trainer)."""
    from helpers import render

    render("tiny", tmp_path / "run" / "scene_000000", *TINY)
    run_with_extras(
        ("export",),
        tmp_path,
        cli("export", "run", "--format", "bop", "--out", "bop", "--no-progress"),
        cli("export", "run", "--format", "coco", "--out", "coco", "--no-progress"),
        cli("export", "run", "--format", "transphy3d", "--out", "tars", "--no-progress"),
    )
    assert (tmp_path / "bop" / "models" / "models_info.json").is_file()
    assert (tmp_path / "coco" / "annotations.json").is_file()
    assert [t.name for t in (tmp_path / "tars").glob("*.tar")] == ["000000_materials.000000.tar"]
