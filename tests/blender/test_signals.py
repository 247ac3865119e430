"""Ctrl-C (SIGINT) and SIGTERM stop ``render-scene`` and ``preview`` promptly while Cycles renders:
exit 130 / 143, one line, the previous output untouched, no partial directory, the log kept; a
stale partial of a dead process is removed by the next command that writes there."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import REPO, digest, render

pytestmark = pytest.mark.blender
SLOW = ["--set", "camera.frames=4", "--set", "render.width=320", "--set", "render.height=240",
        "--set", "render.samples=256"]  # fmt: skip


def stop_while_rendering(args: list[str], partial_parent: Path, signum: int) -> subprocess.CompletedProcess:
    """Start ``transphy3d ARGS``, wait until Cycles renders the beauty pass, send ``signum``."""
    process = subprocess.Popen(
        [sys.executable, "-m", "transphy3d", *args], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.time() + 120
    while time.time() < deadline and not list(partial_parent.glob("*.partial-*/**/rgb")):
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    time.sleep(0.3)
    start = time.time()
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    assert time.time() - start < 15, "the process did not stop promptly"
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_render_scene_stops_and_keeps_the_old_scene(tmp_path: Path, signum: int, code: int) -> None:
    out = tmp_path / "scene"
    render("scene_configs/tiny.yaml", out, "--set", "camera.frames=1")
    before = digest(out)
    result = stop_while_rendering(["render-scene", "default", "--out", str(out), "--overwrite", "--quiet", *SLOW],
                                  tmp_path, signum)  # fmt: skip
    assert result.returncode == code, result.stderr[-2000:]
    assert (
        result.stderr.strip().splitlines()[-1]
        == f"transphy3d: rendering {out} stopped by {signal.Signals(signum).name}"
    )
    assert "Traceback" not in result.stderr
    assert digest(out) == before and not list(tmp_path.glob("*.partial-*"))
    assert (tmp_path / "scene.log").is_file()


def test_preview_stops_without_leftovers(tmp_path: Path) -> None:
    out = tmp_path / "preview"
    result = stop_while_rendering(["preview", "default", "--out", str(out), "--width", "320", "--samples", "256"],
                                  tmp_path, signal.SIGINT)  # fmt: skip
    assert result.returncode == 130 and "stopped by SIGINT" in result.stderr
    assert not out.exists() and not list(tmp_path.glob("*.partial-*"))


def test_stale_partials_of_dead_processes_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "scene"
    dead = subprocess.Popen(["true"])
    dead.wait()
    host = socket.gethostname()
    stale = tmp_path / f"scene.partial-{dead.pid}@{host}"
    (stale / "rgb").mkdir(parents=True)
    stale.with_name(stale.name + ".log").write_text("old log")
    other_host = tmp_path / f"scene.partial-{dead.pid}@another-node"
    live = tmp_path / f"scene.partial-{os.getpid()}@{host}"
    other_host.mkdir()
    live.mkdir()
    render("scene_configs/tiny.yaml", out, "--set", "camera.frames=1")
    assert not stale.exists() and not stale.with_name(stale.name + ".log").exists()
    assert other_host.is_dir() and live.is_dir() and (out / "camera.json").is_file()


# A farm worker in miniature: starts a render as the farm does (its own process group, the
# parent-death signal) and waits.
WORKER = (
    "import os, subprocess, sys, time\n"
    "from transphy3d.farm.worker import child_setup\n"
    "log = open(sys.argv[1], 'wb')\n"
    "subprocess.Popen(sys.argv[2:], stdout=log, stderr=subprocess.STDOUT, preexec_fn=child_setup(os.getpid()))\n"
    "time.sleep(600)\n"
)


@pytest.mark.parametrize("given_up_by", ["lease removed", "worker killed"])
def test_a_render_stops_once_its_attempt_is_given_up(tmp_path: Path, given_up_by: str) -> None:
    """A farm render (``--lease``) started through a wrapper that does not exec, so the kernel's
    parent-death signal reaches only the wrapper: when the farm removes its lease, or its worker is
    SIGKILLed, it stops within seconds, removes its partial directory and keeps its log."""
    lease, out, log = tmp_path / "lease", tmp_path / "scene", tmp_path / "attempt.log"
    lease.touch()
    render_args = ["render-scene", "tiny", "--out", str(out), "--quiet", "--lease", str(lease), *SLOW]
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(log), str(REPO / "tests" / "fault_wrapper.sh"), sys.executable, "-m",
         "transphy3d", *render_args, "--log", str(tmp_path / "blender.log")],
        cwd=REPO, env={**os.environ, "TP3D_NO_EXEC": "1"},
    )  # fmt: skip
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not list(tmp_path.glob("*.partial-*/**/rgb")):
            assert worker.poll() is None
            time.sleep(0.05)
        render = next(p for p in _pids_of(b"render-scene") if str(out).encode() in _cmdline(p))
        start = time.time()
        if given_up_by == "lease removed":
            lease.unlink()
        else:
            worker.kill()
        while Path(f"/proc/{render}").exists() and _state(render) != "Z" and time.time() - start < 30:
            time.sleep(0.05)
        assert time.time() - start < 10, "the render did not stop"
    finally:
        worker.kill()
        worker.wait()
    reason = "lease" if given_up_by == "lease removed" else "the process that started this render"
    text = log.read_text()
    assert reason in text and "; stopping" in text and f"rendering {out} stopped by SIGTERM" in text, text[-2000:]
    assert not out.exists() and not list(tmp_path.glob("*.partial-*"))
    assert (tmp_path / "blender.log").is_file()


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _pids_of(word: bytes) -> list[int]:
    return [int(p) for p in filter(str.isdigit, os.listdir("/proc")) if word in _cmdline(int(p))
            and b"fault_wrapper" not in _cmdline(int(p)) and b"-c" not in _cmdline(int(p)).split(b"\0")]  # fmt: skip


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "X"
