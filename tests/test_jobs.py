"""The typed render job between the farm, the warm server, ``render-scene`` and the renderer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import one_line_error, render, run_cli

from transphy3d.errors import UserError, error_line, error_message
from transphy3d.farm.warm import job_message, read_job
from transphy3d.farm.worker import SceneJob, command, render_job
from transphy3d.jobs import RenderJob
from transphy3d.output.reader import open_scene


def test_a_job_survives_its_json_line() -> None:
    job = RenderJob(scene="tiny", out="/o/scene_000001", seed=3, overrides=["camera.frames=2"], threads=2, lease="/l")
    assert RenderJob.from_line(job.to_line()) == job
    assert json.loads(job.to_line()) == {"scene": "tiny", "out": "/o/scene_000001", "seed": 3,
                                         "overrides": ["camera.frames=2"], "threads": 2, "lease": "/l"}  # fmt: skip


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ('{"scene": "tiny"}', "render job: out"),
        ('{"scene": "tiny", "out": "o", "seed": -1}', "render job: seed"),
        ('{"scene": "tiny", "out": "o", "device": "TPU"}', "render job: device"),
        ('{"scene": "tiny", "out": "o", "colour": "red"}', "render job: colour"),
        ("not json", "render job: job"),
    ],
)
def test_a_malformed_job_is_one_line_naming_the_field(line: str, field: str) -> None:
    with pytest.raises(UserError) as caught:
        RenderJob.from_line(line)
    assert str(caught.value).startswith(f"{field}: ") and "\n" not in str(caught.value)


def test_the_options_of_render_scene_are_the_jobs_fields() -> None:
    options = {"scene": "tiny", "out": "o", "seed": None, "overrides": ["a.b=1"], "quiet": True, "command": "x"}
    assert RenderJob.from_options(options) == RenderJob(scene="tiny", out="o", overrides=["a.b=1"], quiet=True)
    with pytest.raises(UserError, match=r"^--threads: "):
        RenderJob.from_options({"scene": "tiny", "out": "o", "threads": -2})


def test_the_farm_asks_for_its_attempt_as_one_job(tmp_path: Path) -> None:
    scene_job = SceneJob(index=4, seed=9, attempt=1, out=str(tmp_path), source="/c.yaml", overrides=["x.y=2"],
                         timeout=60, threads=1, prefix="nice -n 5")  # fmt: skip
    job = render_job(scene_job)
    assert (job.scene, job.out, job.seed, job.overrides) == ("/c.yaml", str(tmp_path / "scene_000004"), 9, ["x.y=2"])
    assert job.overwrite and job.quiet and job.lease.endswith("scene_000004.attempt1.lease")
    argv = command(scene_job)
    assert argv[:3] == ["nice", "-n", "5"] and argv[-3:-1] == ["render-scene", "--job"]
    assert RenderJob.from_line(argv[-1]) == job
    message, log = read_job(job_message(job, "/log"))
    assert (message, log) == (job, "/log")


def test_the_error_line_is_defined_once() -> None:
    line = error_line("render-scene", "scene.yaml: seed: bad")
    assert line == "transphy3d render-scene: error: scene.yaml: seed: bad"
    assert error_message(line, "render-scene") == "scene.yaml: seed: bad"
    assert error_message(line, "render") is None and error_message("Traceback", "render-scene") is None


@pytest.mark.blender
def test_render_scene_renders_the_same_scene_from_a_job_as_from_its_flags(tmp_path: Path) -> None:
    flags = ("--seed", "2", "--set", "camera.frames=2", "--set", "render.width=32", "--set", "render.height=24")
    render("tiny", tmp_path / "flags", *flags)
    job = RenderJob(scene="tiny", out=str(tmp_path / "job"), seed=2, quiet=True,
                    overrides=["camera.frames=2", "render.width=32", "render.height=24"])  # fmt: skip
    result = run_cli("render-scene", "--job", job.to_line())
    assert result.returncode == 0, result.stderr
    a, b = open_scene(tmp_path / "flags"), open_scene(tmp_path / "job")
    for frame in range(2):
        assert np.array_equal(a.depth(frame), b.depth(frame)) and np.array_equal(a.rgb(frame), b.rgb(frame))
    one_line_error(run_cli("render-scene", "--job", '{"scene": "tiny"}'), "render job: out")
    one_line_error(run_cli("render-scene", "tiny"), "give SCENE and --out")
