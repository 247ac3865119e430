"""``transphy3d.pipeline`` through its public entry points: a scene resolved from a config or a
recorded scene.yaml; a tiny scene rendered end to end and published whole; a render that fails,
runs out of disk or loses its lease leaves no partial directory, keeps its log and never
replaces the old scene."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from helpers import CONFIGS, copy_scene, digest, one_line_error, run_cli, small_disk

from transphy3d.errors import ExitCode, OutputError, UserError
from transphy3d.output import channels, contract
from transphy3d.pipeline import missing_files, render_scene, resolve_scene, sample_scene, summary_line
from transphy3d.scene.recorded import load_spec
from transphy3d.scene.spec import Runtime, StaticSource

ONE_FRAME = ("--set", "camera.frames=1", "--set", "render.width=16", "--set", "render.height=16")


def test_a_sampled_scene_is_a_function_of_config_and_seed() -> None:
    a, b = sample_scene("tiny", seed=5), sample_scene(CONFIGS / "tiny.yaml", seed=5)
    assert a == b and a.seed == 5 and not a.is_settled
    assert sample_scene("tiny", seed=6) != a
    longer = sample_scene("tiny", seed=5, overrides={"camera.frames": 7, "render.width": 40})
    assert (longer.render.frames, longer.render.width, longer.render.height) == (7, 40, 48)


def test_a_config_resolves_with_its_runtime(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f"base: {CONFIGS / 'tiny.yaml'}\nrender: {{device: CPU, threads: 2}}\n")
    spec, runtime = resolve_scene(config, None)
    assert runtime == Runtime(device="CPU", threads=2) and spec.seed == 0


@pytest.mark.blender
def test_a_recorded_scene_resolves_to_itself(tiny_scene: Path) -> None:
    recorded = tiny_scene / contract.SCENE_SPEC_FILE
    spec, runtime = resolve_scene(recorded, None)
    assert spec == load_spec(recorded) and spec.is_settled and runtime == Runtime()
    assert resolve_scene(recorded, 1)[0] == spec  # its own seed may be repeated
    with pytest.raises(UserError, match="--seed 2 does not apply to a recorded scene \\(its seed is 1\\)"):
        resolve_scene(recorded, 2)
    more = resolve_scene(recorded, None, {"render.samples": 3})[0]
    assert more.render.samples == 3 and more.objects == spec.objects


@pytest.mark.blender
def test_a_rendered_scene_is_published_whole(tiny_scene: Path) -> None:
    """The session's tiny scene: every file of the contract, nothing beside it (no partial
    directory, no log: a successful render deletes it)."""
    spec = load_spec(tiny_scene / contract.SCENE_SPEC_FILE)
    assert missing_files(tiny_scene, spec) == []
    assert [p.name for p in tiny_scene.parent.iterdir()] == [tiny_scene.name]
    assert len(list((tiny_scene / channels.RGB).iterdir())) == spec.render.frames == 3


@pytest.mark.blender
def test_missing_files_lists_what_a_scene_lacks(tiny_scene: Path, tmp_path: Path) -> None:
    scene = copy_scene(tiny_scene, tmp_path)
    spec = load_spec(scene / contract.SCENE_SPEC_FILE)
    channels.frame_path(scene, channels.MASK, 2).unlink()
    (scene / contract.object_mesh_file(2)).unlink()
    assert missing_files(scene, spec) == ["mask/000002.png", "meshes/0002.ply"]
    flow = spec.model_copy(update={"output": spec.output.model_copy(update={"flow": True})})
    assert missing_files(scene, flow)[1:] == ["flow/000000.exr", "flow/000001.exr", "meshes/0002.ply"]


@pytest.mark.blender
def test_an_existing_scene_is_kept_without_overwrite(tiny_scene: Path, tmp_path: Path) -> None:
    """Refused before any work: the scene is untouched and nothing is left beside it."""
    scene = copy_scene(tiny_scene, tmp_path)
    before = digest(scene)
    with pytest.raises(OutputError, match="already holds a scene; pass --overwrite") as error:
        render_scene(sample_scene("tiny"), scene)
    assert error.value.exit_code == ExitCode.OUTPUT
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OutputError, match="a file is in the way"):
        render_scene(sample_scene("tiny"), blocker / "scene")
    assert digest(scene) == before and sorted(p.name for p in tmp_path.iterdir()) == ["file", scene.name]


@pytest.mark.blender
def test_a_render_returns_its_settled_scene_and_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "scene"
    spec = sample_scene("tiny", seed=2, overrides={"camera.frames": 1, "render.width": 16, "render.height": 16})
    result = render_scene(spec, out, Runtime(device="CPU", threads=1), progress=False)
    assert result.spec.is_settled and result.spec.seed == 2 and result.meta.num_frames == 1
    assert missing_files(out, result.spec) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["scene"]
    assert load_spec(out / contract.SCENE_SPEC_FILE) == result.spec
    line = summary_line(result, out, 12.25)
    count = len(spec.objects)
    assert line.startswith(f"{out}: 1 frames 16x16, {count} objects (") and line.endswith(", total 12.2 s")
    assert f"{spec.environment.type}; physics " in line and " on CPU)" in line


@pytest.mark.blender
def test_a_failed_render_keeps_the_old_scene_and_the_log(tiny_scene: Path, tmp_path: Path) -> None:
    """A scene whose asset file is missing fails inside the render: the error propagates, the
    partial directory is gone, Blender's log is kept where asked, the old scene is untouched."""
    scene = copy_scene(tiny_scene, tmp_path)
    before = digest(scene)
    spec = sample_scene("tiny", seed=1, overrides={"camera.frames": 1})
    ghost = StaticSource(asset_id="bk-0000", file=str(tmp_path / "missing.glb"), size=0.2)
    spec = spec.model_copy(update={"objects": [spec.objects[0].model_copy(update={"source": ghost})]})
    log = tmp_path / "logs" / "attempt.log"
    log.parent.mkdir()
    with pytest.raises(UserError, match=r"missing\.glb"):
        render_scene(spec, scene, overwrite=True, progress=False, log_path=log)
    assert digest(scene) == before and log.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs", scene.name]


@pytest.fixture(scope="module")
def full_disk(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path, Path, list[str]]:
    """``render-scene`` into a 100 kB disk, its log (``--log``) outside it: the result, the scene
    path, the log path and what the disk holds afterwards (folders with a trailing slash)."""
    root = tmp_path_factory.mktemp("full")
    log = root / "attempt.log"
    with small_disk(root / "disk", "100k") as disk:
        out = disk / "scene"
        result = run_cli(
            "render-scene", "tiny", "--out", str(out), "--quiet", "--log", str(log), "--set", "camera.frames=1"
        )
        return result, out, log, sorted(p.name + "/" * p.is_dir() for p in disk.iterdir())


@pytest.mark.blender
def test_a_full_disk_is_an_output_error_leaving_no_scene(full_disk) -> None:
    result, out, log, listing = full_disk
    assert result.returncode == ExitCode.OUTPUT, result.stderr[-2000:]
    assert result.stderr.splitlines()[-1] == (
        f"transphy3d render-scene: error: {out}: cannot write the scene: no space left on device (log: {log})"
    )
    assert [name for name in listing if name.endswith("/")] == []  # no scene, no partial directory


@pytest.mark.blender
def test_a_full_disk_keeps_the_log_where_asked(full_disk) -> None:
    _, _, log, listing = full_disk
    assert "Fra:0" in log.read_text(errors="replace")  # Blender's console output
    assert listing == []


@pytest.mark.blender
@pytest.mark.xfail(
    strict=True,
    reason="OpenEXR's 'Warning: Exception raised reading pixel data for part 0 - Unable to query scanline "
    "information' reaches the terminal when the data-pass EXR was cut short by the full disk: the render's log "
    "lies on that disk, so the warning cannot be written there and surfaces once stderr is restored",
)
def test_a_full_disk_is_one_line_on_stderr(full_disk) -> None:
    result, out, _, _ = full_disk
    one_line_error(result, str(out), "no space left on device", code=ExitCode.OUTPUT)


@pytest.mark.blender
def test_a_render_whose_lease_is_gone_stops_unpublished(tmp_path: Path) -> None:
    """``--lease`` names a file the farm has already removed: the render stops within a poll of
    the fence, exit 143, and nothing is published: no scene, no partial directory; at most the
    render's log, kept beside it when Blender had written to it before the fence's poll."""
    out, lease = tmp_path / "scene", tmp_path / "gone.lease"
    result = run_cli("render-scene", "tiny", "--out", str(out), "--quiet", "--lease", str(lease), *ONE_FRAME)
    assert result.returncode == ExitCode.TERMINATED, result.stderr[-2000:]
    assert result.stderr.splitlines()[-1] == f"transphy3d: rendering {out} stopped by SIGTERM"
    assert f"lease {lease} removed" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] in ([], ["scene.log"])


def test_sample_scene_draws_no_global_randomness() -> None:
    """Sampling twice with the global numpy state changed in between gives the same spec."""
    np.random.seed(1)
    a = sample_scene("tiny", seed=9)
    np.random.seed(2)
    assert sample_scene("tiny", seed=9) == a
