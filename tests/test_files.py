"""``transphy3d.files``: atomic writes, building and publishing directories under a partial name,
removing what dead processes left, output paths checked before work starts, and the full-disk
check, on real files (and a real small tmpfs where mounting is allowed)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest
from helpers import small_disk

from transphy3d.errors import ExitCode, OutputError
from transphy3d.files import (
    FULL_DISK_BYTES,
    WRITE_HEADROOM_BYTES,
    atomic_path,
    check_output_dir,
    check_output_file,
    is_partial,
    out_of_space,
    partial_name,
    partial_path,
    publish_directory,
    read_json,
    remove_stale_partials,
    write_json,
    write_text_atomic,
)


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_an_atomic_write_replaces_the_file_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_text("old")
    with atomic_path(target) as tmp:
        tmp.write_text("new")
        assert target.read_text() == "old" and tmp.parent == tmp_path and tmp.name != target.name
    assert target.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_a_failed_atomic_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    write_json(target, {"n": 1})
    with pytest.raises(ValueError):
        write_json(target, {"n": float("nan")})  # JSON has no NaN: refused, not written as NaN
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("stopped mid-write")
    assert read_json(target) == {"n": 1} and [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_write_json_and_text_round_trip(tmp_path: Path) -> None:
    data = {"K": [[1.5, 0.0], [0.0, 2.25]], "name": "scène", "n": 3}
    write_json(tmp_path / "d.json", data)
    text = (tmp_path / "d.json").read_text(encoding="utf-8")
    assert read_json(tmp_path / "d.json") == data and text.endswith("\n") and json.loads(text) == data
    assert text.splitlines()[1] == ' "K": ['  # one-space indent
    write_text_atomic(tmp_path / "t.txt", "é\n")
    assert (tmp_path / "t.txt").read_bytes() == "é\n".encode()


def test_partial_names_carry_pid_and_host(tmp_path: Path) -> None:
    host = socket.gethostname()
    assert partial_name("scene_000001", 42, "node-a") == "scene_000001.partial-42@node-a"
    assert partial_path(tmp_path / "scene_000001") == tmp_path / f"scene_000001.partial-{os.getpid()}@{host}"
    assert partial_path(tmp_path / "p", hidden=True).name == f".p.partial-{os.getpid()}@{host}"
    assert is_partial("scene_000001.partial-42@node-a") and is_partial("scene_000001.partial-42@node-a.log")
    assert not is_partial("scene_000001") and not is_partial("scene_000001.log")


def test_stale_partials_of_dead_processes_of_this_host_are_removed(tmp_path: Path) -> None:
    final, host, dead = tmp_path / "scene", socket.gethostname(), _dead_pid()
    stale = tmp_path / partial_name("scene", dead, host)
    (stale / "rgb").mkdir(parents=True)
    (stale / "rgb" / "000000.png").write_bytes(b"x")
    stale_log = tmp_path / (partial_name("scene", dead, host) + ".log")
    stale_log.write_text("log")
    kept = [
        tmp_path / partial_name("scene", os.getpid(), host),  # alive: this process
        tmp_path / partial_name("scene", dead, "another-node"),  # another host's: cannot tell
        tmp_path / partial_name("scene_2", dead, host),  # another scene's
        tmp_path / "scene.partial-xyz@nohost",  # not a pid
    ]
    for path in kept:
        path.mkdir()
    assert sorted(remove_stale_partials(final)) == sorted([stale, stale_log])
    assert not stale.exists() and not stale_log.exists() and all(p.is_dir() for p in kept)
    assert remove_stale_partials(final) == []


def test_publishing_moves_the_whole_directory_into_place(tmp_path: Path) -> None:
    final = tmp_path / "scene"
    first = partial_path(final)
    first.mkdir()
    (first / "a").write_text("1")
    publish_directory(first, final)
    assert (final / "a").read_text() == "1" and not first.exists()


def test_publishing_replaces_an_older_directory_and_leaves_nothing_else(tmp_path: Path) -> None:
    final = tmp_path / "scene"
    final.mkdir()
    (final / "old_only").write_text("old")
    (final / "a").write_text("old")
    new = partial_path(final)
    new.mkdir()
    (new / "a").write_text("new")
    publish_directory(new, final)
    assert sorted(p.name for p in final.iterdir()) == ["a"] and (final / "a").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["scene"]  # no partial, no renamed-away old copy


def test_output_dir_checks_create_nothing(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b" / "c"
    assert check_output_dir(deep) == deep and not (tmp_path / "a").exists()
    assert check_output_dir(tmp_path) == tmp_path
    assert check_output_file(tmp_path / "new" / "x.json") == tmp_path / "new" / "x.json"


def test_output_dir_checks_name_the_option_and_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OutputError) as error:
        check_output_dir(blocker, "--out")
    assert str(error.value) == f"{blocker}: --out: exists and is not a directory"
    assert error.value.exit_code == ExitCode.OUTPUT
    with pytest.raises(OutputError, match=f"{blocker / 'sub'}: --report: cannot be created: {blocker} is a file"):
        check_output_dir(blocker / "sub", "--report")
    with pytest.raises(OutputError, match=f"{tmp_path}: --save: is a directory; give a file name"):
        check_output_file(tmp_path, "--save")


def test_an_unwritable_output_dir_is_refused(tmp_path: Path) -> None:
    """A read-only file system (what even root cannot write)."""
    with small_disk(tmp_path / "ro", "64k", read_only=True) as disk:
        with pytest.raises(OutputError) as error:
            check_output_dir(disk / "out")
        assert str(error.value) == f"{disk / 'out'}: --out: cannot be written: {disk} is not writable"


def test_a_fresh_disk_is_not_full_until_a_write_does_not_fit(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "400k") as disk:
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        assert 300_000 < free < FULL_DISK_BYTES  # the 1 % rule applies to a disk this small
        assert not out_of_space(disk) and not out_of_space(disk / "not" / "yet" / "made")
        assert not out_of_space(disk, needed=free - WRITE_HEADROOM_BYTES - 4096)
        assert out_of_space(disk, needed=free)  # that write (plus headroom) cannot have fitted
        with open(disk / "fill", "wb") as handle, pytest.raises(OSError):
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        assert out_of_space(disk / "scene.partial-1@host")
        (disk / "fill").unlink()
        assert not out_of_space(disk)


def test_a_large_disk_with_room_is_not_full(tmp_path: Path) -> None:
    assert not out_of_space(tmp_path)
