"""``transphy3d.farm.rundir``: scene seeds that depend on (run seed, index) only, run.yaml written
once and then guarding the run's config and seed, the output checked writable before work, one
farm per directory, and finished scenes that fail validation found by index."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from helpers import copy_scene, small_disk

from transphy3d.errors import OutputError, UserError
from transphy3d.farm import records
from transphy3d.farm.rundir import (
    RunLock,
    check_or_write_run,
    invalid_scenes,
    prepare_output,
    run_record,
    scene_seed,
)
from transphy3d.output import channels, contract
from transphy3d.rng import derive_seed


def _record(digest: str = "abc", seed: int = 0) -> dict:
    return run_record("/configs/tiny.yaml", "tiny", digest, {"name": "tiny"}, {"camera.frames": 2}, seed)


def test_scene_seeds_depend_on_the_run_seed_and_index_only() -> None:
    seeds = [scene_seed(7, i) for i in range(100)]
    assert seeds == [derive_seed(7, "scene", i) for i in range(100)] and len(set(seeds)) == 100
    assert scene_seed(8, 0) != scene_seed(7, 0) and all(0 <= s < 2**31 for s in seeds)


def test_a_new_run_writes_its_record(tmp_path: Path) -> None:
    record = check_or_write_run(tmp_path, _record(), allow_changed_config=False)
    written = yaml.safe_load((tmp_path / contract.RUN_FILE).read_text())
    assert written == record and written["config_digest"] == "abc" and written["run_seed"] == 0
    assert written["overrides"] == {"camera.frames": 2} and written["versions"]["transphy3d"]
    again = check_or_write_run(tmp_path, _record(), allow_changed_config=False)
    assert again == written  # the same run resumed: its record (and its creation time) kept


@pytest.mark.parametrize(
    ("digest", "seed", "what"), [("xyz", 0, "config"), ("abc", 3, "seed"), ("xyz", 3, "config and seed")]
)
def test_a_changed_config_or_seed_is_refused(tmp_path: Path, digest: str, seed: int, what: str) -> None:
    check_or_write_run(tmp_path, _record(), allow_changed_config=False)
    before = (tmp_path / contract.RUN_FILE).read_text()
    with pytest.raises(UserError) as error:
        check_or_write_run(tmp_path, _record(digest, seed), allow_changed_config=False)
    message = str(error.value)
    assert message.startswith(f"{tmp_path}: this output directory was rendered with a different {what} ")
    assert "config 'tiny' digest abc, seed 0" in message and "--allow-changed-config" in message
    assert (tmp_path / contract.RUN_FILE).read_text() == before


def test_an_allowed_change_keeps_the_history(tmp_path: Path) -> None:
    check_or_write_run(tmp_path, _record("a"), allow_changed_config=False)
    check_or_write_run(tmp_path, _record("b"), allow_changed_config=True)
    third = check_or_write_run(tmp_path, _record("c", 5), allow_changed_config=True)
    history = [(run["config_digest"], run["run_seed"]) for run in third["previous_runs"]]
    assert history == [("a", 0), ("b", 0)] and third["config_digest"] == "c"
    assert yaml.safe_load((tmp_path / contract.RUN_FILE).read_text()) == third


def test_the_output_is_prepared_or_refused_in_one_line(tmp_path: Path) -> None:
    prepare_output(tmp_path / "run" / "deep")
    assert sorted(p.name for p in (tmp_path / "run" / "deep").iterdir()) == [records.LOG_DIR]
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="a file is in the way"):
        prepare_output(tmp_path / "file" / "run")
    with small_disk(tmp_path / "ro", "64k", read_only=True) as disk:
        with pytest.raises(OutputError) as error:
            prepare_output(disk)
        assert str(error.value) == f"{disk}: output directory is not writable: Read-only file system"


def test_one_farm_per_directory(tmp_path: Path) -> None:
    busy = pytest.raises(OutputError, match="another render is running into this directory")
    with RunLock(tmp_path), busy:
        RunLock(tmp_path).__enter__()
    with RunLock(tmp_path):  # released: the next run may start
        assert (tmp_path / records.LOCK_FILE).is_file()


@pytest.mark.blender
def test_invalid_scenes_are_found_by_index(tiny_scene: Path, tmp_path: Path) -> None:
    good = copy_scene(tiny_scene, tmp_path / "a").rename(tmp_path / contract.scene_name(0))
    bad = copy_scene(tiny_scene, tmp_path / "b").rename(tmp_path / contract.scene_name(1))
    channels.frame_path(bad, channels.DEPTH, 2).write_bytes(b"")
    problems = invalid_scenes(tmp_path, [0, 1])
    assert list(problems) == [1] and "000002" in problems[1] and good.is_dir()
