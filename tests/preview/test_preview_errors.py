"""``transphy3d preview`` on bad input: one-line errors with the promised content and exit codes,
raised before anything is rendered, and never a write into a render output. The first test runs
the command in a subprocess; the others call the same ``main`` in-process (no Blender is
involved before these errors), which saves the interpreter start-up."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers import one_line_error, run_cli, sampled_spec, save
from helpers import run_in_process as cli

from transphy3d.preview.run import open_in_viewer

TINY = Path("scene_configs/tiny.yaml").resolve()


def _tree(path: Path) -> list[Path]:
    return sorted(p.relative_to(path) for p in path.rglob("*"))


def test_preview_help() -> None:
    result = run_cli("preview", "--help")
    assert result.returncode == 0
    for option in ("--seed", "--seeds", "--samples", "--frames", "--width", "--out", "--open", "--set"):
        assert option in result.stdout
    assert "preview" in run_cli("--help").stdout


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(f"base: {TINY}\nrender:\n  width: 64\n samples: 8\n")
    one_line_error(run_cli("preview", str(config), "--out", str(tmp_path / "o")), f"{config}:4:", "YAML syntax error")
    assert not (tmp_path / "o").exists()


def test_bad_key_names_the_allowed_keys(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(f"base: {TINY}\ncamera:\n  frame: 8\n")
    one_line_error(
        cli(capsys, "preview", str(config), "--out", str(tmp_path / "o")),
        str(config),
        "camera.frame: unknown key 'frame'",
        "allowed: clip_far, clip_near, direction,",
        " frames,",
    )
    one_line_error(
        cli(capsys, "preview", str(TINY), "--out", str(tmp_path / "o"), "--set", "render.samplez=4"),
        "--set render.samplez",
        "unknown key 'samplez'",
        "samples",
    )
    assert not (tmp_path / "o").exists()


def test_bad_options(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    one_line_error(cli(capsys, "preview", str(TINY), "--frames", "0"), "--frames must be at least 1")
    one_line_error(cli(capsys, "preview", str(TINY), "--samples", "1000000000"), "--samples must be 1..100000")
    one_line_error(cli(capsys, "preview", str(TINY), "--width", "8"), "--width must be 16..16384")
    one_line_error(cli(capsys, "preview", str(TINY), "--seeds", "99"), "--seeds must be 1..16")
    spec = save(sampled_spec(4), tmp_path / "s.yaml")
    one_line_error(cli(capsys, "preview", str(spec), "--seeds", "2"), "--seeds 2 does not apply to a recorded scene")
    one_line_error(cli(capsys, "preview", str(spec), "--seed", "5"), "--seed 5", "its seed is 4")


def test_never_writes_into_a_render_output(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Every kind of render output is recognised in test_preview_unit; here the command refuses
    the run directory, a folder inside it and a folder inside one of its scenes."""
    root = tmp_path / "out"
    (root / "scene_000000").mkdir(parents=True)
    (root / "scene_000000" / "camera.json").write_text("{}")
    (root / "index.jsonl").write_text('{"scene": "scene_000000"}\n')
    before = _tree(tmp_path)
    for target, inside in (
        (root, root),
        (root / "previews", root),
        (root / "scene_000000" / "p", root / "scene_000000"),
    ):
        one_line_error(
            cli(capsys, "preview", str(TINY), "--out", str(target)),
            str(target),
            f"inside the render output {inside}",
            code=3,
        )
    assert _tree(tmp_path) == before


def test_never_replaces_a_directory_it_did_not_write(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    one_line_error(cli(capsys, "preview", str(TINY), "--out", str(mine)), "not a preview directory", code=3)
    assert _tree(mine) == [Path("notes.txt")]


def test_open_uses_the_desktop_viewer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert open_in_viewer(tmp_path / "sheet.png") == f"cannot open {tmp_path / 'sheet.png'}: xdg-open not found"
    log = tmp_path / "opened.txt"
    viewer = tmp_path / "xdg-open"
    viewer.write_text(f'#!/bin/sh\necho "$1" > {log}\n')
    viewer.chmod(0o755)
    assert open_in_viewer(tmp_path / "sheet.png") is None
    for _ in range(500):  # the viewer runs detached
        if log.exists() and log.read_text():
            break
        time.sleep(0.01)
    assert log.read_text().strip() == str(tmp_path / "sheet.png")
