"""The render farm on a local Ray cluster: complete and valid scenes, seeds that depend only on
(run seed, index), retries after SIGKILL, failures after R retries, timeouts, interrupt and
resume, and fast clear errors for bad arguments."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import REPO, run_cli, small_disk

from transphy3d.farm.rundir import scan, scene_seed
from transphy3d.output import contract
from transphy3d.output.records import append_record, read_records

pytestmark = [pytest.mark.blender, pytest.mark.farm]
TINY = ["--config", "scene_configs/tiny.yaml", "--set", "camera.frames=2", "--no-progress"]
WRAPPER = str(REPO / "tests" / "fault_wrapper.sh")


def index_of(out: Path) -> list[dict]:
    return list(read_records(out / "index.jsonl"))


def _default_sigint() -> None:
    """A suite started in the background of a non-interactive shell runs with SIGINT ignored,
    and an ignored signal stays ignored across exec: give the farm the Ctrl-C a terminal gives."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_render(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "transphy3d", "render", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        preexec_fn=_default_sigint,
    )


def find_worker(scene: str, out: Path, timeout: float = 120) -> int:
    """pid of the render-scene process of ``scene`` of the run in ``out`` once it is running
    (other runs may render a scene of that name on this machine at the same time)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            # the farm passes the job as one JSON argument: {"scene": ..., "out": "<out>/<scene>", ...}
            job = f'"out":"{out / scene}"'.encode()
            if b"render-scene" in cmdline and any(job in arg for arg in cmdline):
                return int(pid)
        time.sleep(0.05)
    raise AssertionError(f"no worker for {scene} appeared")


def test_two_workers_render_complete_valid_scenes(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = run_cli("render", "--scenes", "3", "--out", str(out), "--workers", "2", *TINY)
    assert result.returncode == 0, result.stderr[-2000:]
    records = index_of(out)
    assert sorted(r["scene"] for r in records) == ["scene_000000", "scene_000001", "scene_000002"]
    assert all(r["seed"] == scene_seed(0, r["index"]) and r["attempts"] == 1 for r in records)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ok"] == 3 and summary["failed"] == 0 and summary["frames"] == 6 and summary["workers"] == 2
    assert "3 rendered" in result.stdout
    check = run_cli("validate", str(out))
    assert check.returncode == 0 and "3 ok, 0 with problems" in check.stdout
    assert not list(out.glob("*.partial-*")) and not list((out / "logs").iterdir())

    # Scene content depends only on (run seed, index): another run, one worker, other order.
    other = tmp_path / "other"
    result = run_cli("render", "--scenes", "2", "--out", str(other), "--workers", "1", *TINY)
    assert result.returncode == 0, result.stderr[-2000:]
    for name in ("scene_000000", "scene_000001"):
        assert (out / name / contract.SCENE_SPEC_FILE).read_text() == (
            other / name / contract.SCENE_SPEC_FILE
        ).read_text()

    # Resume: nothing left to do, nothing rendered twice.
    again = run_cli("render", "--scenes", "3", "--out", str(out), *TINY)
    assert again.returncode == 0 and "0 rendered, 3 already done" in again.stdout
    assert len(index_of(out)) == 3

    status = run_cli("status", str(out))
    assert status.returncode == 0 and "finished: 3 scenes, 6 frames" in status.stdout


def test_sigkilled_worker_is_retried(tmp_path: Path) -> None:
    out = tmp_path / "run"
    farm = start_render("--scenes", "2", "--out", str(out), "--workers", "1", "--backoff", "0.2", *TINY)
    pid = find_worker("scene_000000", out)
    deadline = time.time() + 60
    while not list(out.glob("scene_000000.partial-*")) and time.time() < deadline:
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)  # mid-scene: its partial directory exists
    _, stderr = farm.communicate(timeout=300)
    assert farm.returncode == 0, stderr[-2000:]
    assert "attempt 1 crashed: worker process killed by signal SIGKILL" in stderr
    records = {r["scene"]: r for r in index_of(out)}
    assert len(index_of(out)) == 2 and records["scene_000000"]["attempts"] == 2
    assert run_cli("validate", str(out)).returncode == 0
    assert not list(out.glob("*.partial-*"))


def test_failures_after_retries_and_timeouts_while_others_finish(tmp_path: Path) -> None:
    out = tmp_path / "run"
    env = {"TP3D_CRASH": "scene_000001", "TP3D_HANG": "scene_000002"}
    farm = start_render(
        "--scenes", "3", "--out", str(out), "--workers", "2", "--retries", "2", "--timeout", "6",
        "--backoff", "0.2", "--worker-prefix", WRAPPER, *TINY, env=env,
    )  # fmt: skip
    stdout, stderr = farm.communicate(timeout=400)
    assert farm.returncode == 1, stderr[-2000:]
    assert [r["scene"] for r in index_of(out)] == ["scene_000000"]
    failures = {f["scene"]: f for f in read_records(out / "failures.jsonl")}
    assert set(failures) == {"scene_000001", "scene_000002"}
    crash, hang = failures["scene_000001"], failures["scene_000002"]
    assert crash["attempts"] == 3 and crash["status"] == "crashed" and crash["returncode"] == 7
    assert "injected crash" in crash["error"] and Path(crash["log"]).is_file()
    assert hang["attempts"] == 3 and hang["status"] == "timeout" and "timed out after 6 s" in hang["error"]
    assert "FAILED scene_000001" in stdout and "FAILED scene_000002" in stdout
    # The hung processes were killed, not left behind.
    leftovers = [p for p in filter(str.isdigit, os.listdir("/proc")) if _cmdline(p).startswith("sleep 600")]
    assert leftovers == []
    status = run_cli("status", str(out))
    assert "failed:   2 scenes" in status.stdout and "injected crash" in status.stdout


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupted_run_resumes_only_missing_scenes(tmp_path: Path, signum: int, code: int) -> None:
    out = tmp_path / "run"
    farm = start_render("--scenes", "4", "--out", str(out), "--workers", "1", *TINY)
    deadline = time.time() + 200
    while len(index_of(out)) < 1 and time.time() < deadline:
        time.sleep(0.1)
    farm.send_signal(signum)
    _, stderr = farm.communicate(timeout=120)
    assert farm.returncode == code, stderr[-2000:]
    done_before = {r["scene"] for r in index_of(out)}
    assert 1 <= len(done_before) < 4
    assert json.loads((out / "summary.json").read_text())["interrupted"] is True
    result = run_cli("render", "--scenes", "4", "--out", str(out), "--workers", "1", *TINY)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"{4 - len(done_before)} rendered, {len(done_before)} already done" in result.stdout
    scenes = [r["scene"] for r in index_of(out)]
    assert sorted(scenes) == [f"scene_{i:06d}" for i in range(4)] and len(scenes) == 4
    assert not list(out.glob("*.partial-*"))


def test_bad_arguments_fail_fast(tmp_path: Path) -> None:
    result = run_cli("render", "--scenes", "-3", "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and "--scenes: must be >= 0, got -3" in result.stderr
    result = run_cli("render", "--scenes", "2", "--out", str(tmp_path / "o"), "--config", "missing.yaml")
    assert result.returncode == 2 and "missing.yaml: file not found" in result.stderr
    start = time.time()
    result = run_cli("render", "--scenes", "2", "--out", str(tmp_path / "o"), "--address", "127.0.0.1:1", *TINY)
    assert result.returncode == 2 and "no Ray cluster reachable" in result.stderr and "127.0.0.1:1" in result.stderr
    assert time.time() - start < 30
    result = run_cli("render", "--scenes", "2", "--out", str(tmp_path / "o"), "--address", "nonsense", *TINY)
    assert result.returncode == 2 and "expected HOST:PORT" in result.stderr
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_cli("render", "--scenes", "2", "--out", str(blocker / "o"), *TINY)
    assert result.returncode == 3 and "a file is in the way" in result.stderr


def test_changed_config_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert run_cli("render", "--scenes", "0", "--out", str(out), *TINY).returncode == 0
    result = run_cli("render", "--scenes", "1", "--out", str(out), *TINY, "--set", "render.samples=2")
    assert result.returncode == 2 and "different the config" not in result.stderr
    assert "rendered with a different config" in result.stderr and "--allow-changed-config" in result.stderr
    result = run_cli("render", "--scenes", "0", "--out", str(out), *TINY, "--seed", "9")
    assert result.returncode == 2 and "different seed" in result.stderr


def test_scan_and_records(tmp_path: Path) -> None:
    out = tmp_path
    (out / "scene_000000").mkdir()
    (out / "scene_000003").mkdir()
    (out / "scene_000001.partial-77").mkdir()
    append_record(out / "index.jsonl", {"scene": "scene_000000", "index": 0})
    append_record(out / "failures.jsonl", {"scene": "scene_000002", "index": 2, "error": "x"})
    with open(out / "index.jsonl", "a") as handle:
        handle.write('{"scene": "scene_0000')  # a torn line from a crash mid-write
    state = scan(out)
    assert list(state.done) == [0] and list(state.failed) == [2]
    assert state.partial == ["scene_000001.partial-77"] and state.unindexed == [3]


def test_concurrent_appends_never_interleave(tmp_path: Path) -> None:
    path = tmp_path / "index.jsonl"
    code = (
        "import sys; from transphy3d.output.records import append_record\n"
        "for i in range(200): append_record(sys.argv[1], {'writer': sys.argv[2], 'i': i, 'pad': 'x' * 3000})"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path), str(w)], cwd=REPO) for w in range(4)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    records = list(read_records(path))
    assert len(records) == 800
    assert {(r["writer"], r["i"]) for r in records} == {(str(w), i) for w in range(4) for i in range(200)}


def test_full_disk_stops_the_run_clearly(tmp_path: Path) -> None:
    """A 520 kB tmpfs fills up during the second scene: one clear line, exit 3, the finished
    scene and the records intact, no partial directory left."""
    with small_disk(tmp_path / "small", "520k") as disk:
        out = disk / "run"
        result = run_cli("render", "--scenes", "3", "--out", str(out), "--retries", "1", "--backoff", "0.1", *TINY)
        assert result.returncode == 3, result.stderr[-2000:]
        errors = [line for line in result.stderr.splitlines() if "error:" in line]
        assert len(errors) == 1 and "no space left on device" in errors[0].lower()
        assert [r["scene"] for r in index_of(out)] == ["scene_000000"]
        assert not list(out.glob("*.partial-*"))
