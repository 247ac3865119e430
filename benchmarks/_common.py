"""Helpers shared by the benchmark scripts: run the CLI, read a scene's meta, describe the machine."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from transphy3d.output import contract

REPO = Path(__file__).resolve().parents[1]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def run_timed(command: list[str]) -> tuple[float, str]:
    """Run ``command`` from the repository; (wall seconds, its standard output). Exits with its
    standard error when it fails."""
    start = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    return wall, result.stdout


def render_scene(out: Path, *args: str, config: str = "scene_configs/default.yaml") -> tuple[float, dict]:
    """Run ``transphy3d render-scene`` as the farm does; returns (wall seconds, meta.json)."""
    command = [sys.executable, "-m", "transphy3d", "render-scene", config, "--out", str(out), "--quiet", "--overwrite"]
    wall, _ = run_timed([*command, *args])
    return wall, json.loads((out / contract.META_FILE).read_text())
