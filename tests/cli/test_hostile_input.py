"""Input broken below the level of values, and hostile flag values: each case ends in one line
naming the file (or flag) and what is wrong, the documented exit code, within a time and memory
bound, and nothing written."""

from __future__ import annotations

import importlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from helpers import CONFIGS, REPO, one_line_error
from helpers import run_in_process as cli

NOT_UTF8 = b"base: tiny\nname: caf\xe9\n"  # Latin-1, as an editor on another system saves it


def bounded_cli(*args: str, seconds: float = 60, memory_bytes: int = 2 << 30) -> subprocess.CompletedProcess:
    """``transphy3d ARGS`` in a process limited to ``memory_bytes`` of address space and ``seconds``."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    return subprocess.run(
        [sys.executable, "-m", "transphy3d", *args], cwd=REPO, capture_output=True, text=True, timeout=seconds,
        preexec_fn=limit, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip


@pytest.mark.parametrize("command", ["sample", "render-scene", "preview"])
def test_a_config_that_is_not_utf8(command: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = tmp_path / "latin1.yaml"
    config.write_bytes(NOT_UTF8)
    out = tmp_path / "out"
    result = cli(capsys, command, str(config), "--out", str(out))
    one_line_error(result, str(config), "not a UTF-8 YAML file", "0xe9", "offset 20")
    assert not out.exists() and config.read_bytes() == NOT_UTF8


def test_a_binary_manifest_in_assets_filter(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    manifest = tmp_path / "bank.jsonl"
    data = bytes(range(256)) * 4
    manifest.write_bytes(data)
    one_line_error(cli(capsys, "assets", "filter", "--manifest", str(manifest)), str(manifest), "not a UTF-8")
    assert manifest.read_bytes() == data


def test_a_value_nested_50000_levels_deep(tmp_path: Path) -> None:
    config = tmp_path / "deep.yaml"
    config.write_text("base: tiny\nextra: " + "[" * 50_000 + "]" * 50_000 + "\n")
    manifest = tmp_path / "deep.jsonl"
    manifest.write_text("[" * 50_000 + "]" * 50_000 + "\n")
    for args, path in (
        (["sample", str(config)], config),
        (["assets", "filter", "--manifest", str(manifest)], manifest),
    ):
        result = bounded_cli(*args)
        one_line_error(result, str(path), "nested deeper than 64 levels")
    result = bounded_cli("sample", "tiny", "--set", "extra=" + "[" * 50_000 + "]" * 50_000)
    one_line_error(result, "--set", "nested deeper than 64 levels")


def _alias_bomb() -> list[str]:
    """Ten levels of ten aliases each: 10^10 values once expanded."""
    levels = ["l0: &l0 [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]"]
    levels += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 10)]
    return levels


def test_yaml_aliases_that_expand_exponentially(tmp_path: Path) -> None:
    """In a config file (``--set`` then copies the config) and in a ``--set`` value: refused while
    read, well within the time and memory bounds."""
    config = tmp_path / "bomb.yaml"
    config.write_text("base: tiny\nbomb:\n" + "".join(f"  {level}\n" for level in _alias_bomb()))
    result = bounded_cli("sample", str(config), "--set", "camera.frames=2", seconds=30, memory_bytes=1 << 30)
    one_line_error(result, str(config), "aliases expand to more than")
    value = "{" + ", ".join(_alias_bomb()) + "}"
    result = bounded_cli("sample", "tiny", "--set", f"extra={value}", seconds=30, memory_bytes=1 << 30)
    one_line_error(result, "--set", "aliases expand to more than")


def test_render_with_a_negative_seed_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "run"
    one_line_error(cli(capsys, "render", "--seed", "-1", "--scenes", "1", "--out", str(out)), "--seed", ">= 0", "-1")
    assert not out.exists()  # no run.yaml that would then refuse the corrected command as a changed seed


# ---------------------------------------------------------------- folders the user cannot enter
def as_unprivileged_user(argv: list[str], modules: tuple[str, ...]) -> tuple[int, str]:
    """``transphy3d ARGV`` in a forked child that runs as ``nobody`` (the tests run as root, who may
    enter any folder): (exit code, stderr). Modules are imported first, because the interpreter's
    own library is not readable by ``nobody`` here."""
    from transphy3d.cli import build_parser, main

    for name in modules:
        importlib.import_module(name)
    build_parser(argv[0])
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 99
        try:
            os.close(read)
            sys.stderr = open(write, "w", closefd=False)  # noqa: SIM115 (the child ends with os._exit)
            os.setgid(65534)
            os.setuid(65534)
            code = main(argv)
        finally:
            sys.stderr.flush()
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as stream:
        err = stream.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), err


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become another user")
@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["render-scene", "tiny", "--out", "{locked}/scene"], 3),
        (["render-scene", "tiny", "--out", "{locked}"], 3),
        (["preview", "tiny", "--out", "{locked}/preview"], 3),
        (["sample", "tiny", "--out", "{locked}/spec.yaml"], 3),
        (["sample", "{locked}/config.yaml"], 2),
    ],
)
def test_a_folder_the_user_cannot_enter(argv: list[str], code: int) -> None:
    parent = Path(tempfile.mkdtemp(prefix="tp3d-locked-"))  # not under pytest's folder, closed to other users
    locked = parent / "locked"
    locked.mkdir()
    (locked / "config.yaml").write_text((CONFIGS / "tiny.yaml").read_text())
    parent.chmod(0o755)
    locked.chmod(0o000)
    try:
        argv = [a.format(locked=locked) for a in argv]
        modules = (
            "transphy3d.cli.render_scene",
            "transphy3d.cli.preview",
            "transphy3d.cli.sample",
            "transphy3d.pipeline",
        )
        got, err = as_unprivileged_user(argv, modules)
        lines = err.strip().splitlines()
        assert got == code and len(lines) == 1 and str(locked) in lines[0], (got, err)
        assert "permission denied" in lines[0].lower(), lines[0]
        assert sorted(p.name for p in locked.iterdir()) == ["config.yaml"]
    finally:
        locked.chmod(0o755)
        shutil.rmtree(parent, ignore_errors=True)


# ----------------------------------------------------------------------------- hostile flag values
HUGE = str(10**30)


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["render", "--scenes", HUGE, "--out", "{tmp}/run"], ["--scenes", "at most 1000000"]),
        (["render", "--scenes", "2", "--out", ""], ["--out", "an empty path"]),
        (["render", "--scenes", "2", "--timeout", "nan", "--out", "{tmp}/run"], ["--timeout", "finite"]),
        (["render", "--scenes", "2", "--backoff=-inf", "--out", "{tmp}/run"], ["--backoff"]),
        (["render-scene", "tiny", "--threads", "-5", "--out", "{tmp}/scene"], ["--threads", ">= 0"]),
        (["render-scene", "tiny", "--out", "", "--overwrite"], ["--out", "an empty path"]),
        (["render-scene", "tiny", "--set", "camera.frames=1000000000", "--out", "{tmp}/scene"], ["camera.frames"]),
        (["sample", "tiny", "--set", "objects.count=" + HUGE, "--out", "{tmp}/spec.yaml"], ["objects.count"]),
        (["preview", "tiny", "--seeds", HUGE, "--out", "{tmp}/preview"], ["--seeds", "1..16"]),
        (["assets", "thumbnails", "--manifest", "{tmp}/bank.jsonl", "--views", HUGE], ["--views", "1..64"]),
        (["assets", "filter", "--manifest", "{tmp}/bank.jsonl", "--threshold", "nan"], ["--threshold", "finite"]),
    ],
)  # fmt: skip
def test_hostile_flag_values_are_refused_before_any_work(
    argv: list[str], needles: list[str], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    (tmp_path / "bank.jsonl").write_text((REPO / "assets_manifest" / "starter.jsonl").read_text())
    before = sorted(p.name for p in tmp_path.iterdir())
    start = time.perf_counter()
    one_line_error(cli(capsys, *[a.format(tmp=tmp_path) for a in argv]), *needles)
    assert time.perf_counter() - start < 30
    assert sorted(p.name for p in tmp_path.iterdir()) == before
