"""``transphy3d status``: torn records are reported and repaired, a corrupt run.yaml is one line,
and ``--verify`` finds a finished scene whose files were damaged and says how to render it again
(``render --verify`` does it for every such scene)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from helpers import run_cli

from transphy3d.output.records import append_record, read_records, repair_records, torn_lines

TINY = ["--config", "tiny", "--set", "camera.frames=1", "--set", "render.width=32", "--set", "render.height=24"]


def test_a_torn_last_line_is_skipped_then_cut_off_by_the_next_append(tmp_path: Path) -> None:
    path = tmp_path / "index.jsonl"
    append_record(path, {"scene": "scene_000000", "index": 0})
    with open(path, "a") as handle:
        handle.write('{"scene": "scene_0000')  # a writer killed mid-line
    assert [r["index"] for r in read_records(path)] == [0] and torn_lines(path) == [2]
    append_record(path, {"scene": "scene_000002", "index": 2})
    assert [r["index"] for r in read_records(path)] == [0, 2] and torn_lines(path) == []
    assert [json.loads(line)["index"] for line in path.read_text().splitlines()] == [0, 2]  # valid JSONL at rest
    assert (tmp_path / "index.jsonl.torn").read_text() == '{"scene": "scene_0000\n'  # kept for the post-mortem
    with open(path, "a") as handle:
        handle.write("not a record\n[1, 2]\n")  # damage the farm cannot see: status --repair drops it
    assert repair_records(path) == [3, 4] and torn_lines(path) == [] and len(path.read_text().splitlines()) == 2


@pytest.mark.blender
@pytest.mark.farm
def test_status_reports_repairs_and_verifies(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert run_cli("render", "--scenes", "2", "--out", str(out), "--no-progress", *TINY).returncode == 0
    with open(out / "index.jsonl", "a") as handle:
        handle.write('{"scene": "scene_0000')
    status = run_cli("status", str(out))
    assert status.returncode == 0 and "finished: 2 scenes, 2 frames" in status.stdout
    assert "index.jsonl: 1 torn line(s) (3): skipped; `transphy3d status --repair` drops them" in status.stdout
    (out / "scene_000001" / "depth" / "000000.exr").unlink()
    verify = run_cli("status", str(out), "--verify", "--repair")
    assert verify.returncode == 1, verify.stderr  # a check that found a problem
    assert "index.jsonl: 1 torn line(s) (3): dropped" in verify.stdout
    assert "verified: 1 of 2 finished scenes pass validation" in verify.stdout
    assert "INVALID scene_000001: depth/: 1 of 1 frames missing" in verify.stdout
    command = next(line for line in verify.stdout.splitlines() if "render it again:" in line).split(": ", 1)[1]
    args = shlex.split(command)
    assert args[:2] == ["transphy3d", "render-scene"] and "--overwrite" in args
    assert run_cli(*args[1:]).returncode == 0
    verified = run_cli("status", str(out), "--verify")
    assert verified.returncode == 0 and "verified: 2 of 2" in verified.stdout
    # The farm does it for every invalid scene with --verify; the index keeps each scene once for readers.
    (out / "scene_000000" / "mask" / "000000.png").write_bytes(b"garbage")
    rerun = run_cli("render", "--scenes", "2", "--out", str(out), "--no-progress", "--verify", *TINY)
    assert rerun.returncode == 0 and "scene_000000: fails validation" in rerun.stderr
    assert "verified: 2 of 2" in run_cli("status", str(out), "--verify").stdout
    lines = (out / "index.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["scene"] for line in lines) == ["scene_000000", "scene_000001"]  # one line each
    import transphy3d

    assert [s.path.name for s in transphy3d.iter_scenes(out)] == ["scene_000000", "scene_000001"]


def test_a_corrupt_run_record_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "run.yaml").write_text("run_seed: [unclosed\n")
    result = run_cli("status", str(tmp_path))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "run.yaml:2:1: YAML syntax error" in result.stderr
    (tmp_path / "run.yaml").write_text("- just a list\n")
    result = run_cli("status", str(tmp_path))
    assert result.returncode == 2 and "not a run record" in result.stderr


def test_rerender_command_quotes_overrides(tmp_path: Path) -> None:
    from transphy3d.farm.status import rerender_command

    run = {"config_path": "/c/my config.yaml", "overrides": {"objects.count": {"randint": [2, 3]}}}
    args = shlex.split(rerender_command(run, tmp_path, 4, 99))
    assert args[2] == "/c/my config.yaml" and args[args.index("--seed") + 1] == "99"
    assert json.loads(args[args.index("--set") + 1].split("=", 1)[1]) == {"randint": [2, 3]}
