"""The farm's own Ray processes end with it: after ``kill -9`` of the driver, Ray's dashboard and
runtime-env agents of the local cluster it started keep running (measured: a minute later); the
next ``transphy3d status`` (or run) of the directory stops them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import REPO, run_cli

from transphy3d.farm.local_ray import RECORD_FILE, _start_time

TINY = ["--config", "tiny", "--set", "camera.frames=1", "--set", "render.width=32", "--set", "render.height=24"]


def _alive(processes: list[list[int]]) -> list[int]:
    return [pid for pid, start in processes if _start_time(pid) == start]


@pytest.mark.farm
def test_a_killed_drivers_local_cluster_is_stopped_by_status(tmp_path: Path) -> None:
    out = tmp_path / "run"
    driver = subprocess.Popen(
        [sys.executable, "-m", "transphy3d", "render", "--scenes", "1", "--out", str(out), "--no-progress", *TINY],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    record = out / RECORD_FILE
    processes: list[list[int]] = []
    try:
        deadline = time.monotonic() + 120
        while not record.is_file() and driver.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert record.is_file(), "the driver never recorded its local cluster"
        processes = json.loads(record.read_text())["processes"]
        assert processes
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait(timeout=30)
        time.sleep(3)  # what dies with the driver has died by now
        left = _alive(processes)
        status = run_cli("status", str(out))
        assert status.returncode == 0, status.stderr
        if left:  # Ray 2.60: the dashboard and runtime-env agents
            assert f"stopped {len(left)} Ray process(es)" in status.stdout, status.stdout
        assert _alive(processes) == [] and not record.exists()
        assert "stopped" not in run_cli("status", str(out)).stdout  # nothing twice
    finally:
        if driver.poll() is None:
            driver.kill()
        for pid in _alive(processes):  # never leave a cluster behind, whatever failed above
            os.kill(pid, signal.SIGKILL)
