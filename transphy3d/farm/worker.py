"""One scene on one worker: ``python -m transphy3d render-scene`` as its own process (so a
crash, a leak or a hang costs one scene), killed with its whole process group on timeout and
when the worker itself dies; the finished directory is validated before it counts."""

from __future__ import annotations

import ctypes
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from transphy3d.errors import ExitCode
from transphy3d.files import PARTIAL_MARK, out_of_space, read_json
from transphy3d.output.contract import (
    LOG_DIR,
    META_FILE,
    MetaFile,
    SceneAttempt,
    SceneStatus,
    attempt_log,
    scene_name,
)
from transphy3d.output.validate import validate_scene

PR_SET_PDEATHSIG = 1


@dataclass
class SceneJob:
    index: int
    seed: int
    attempt: int
    out: str
    source: str  # scene config path (absolute)
    overrides: list[str]  # "KEY=VALUE" passed as --set
    timeout: float
    threads: int
    prefix: str = ""  # a command prefix for the worker process (e.g. "nice -n 5")


def _child_setup() -> None:  # runs in the child between fork and exec
    os.setsid()  # its own process group: a timeout kills Blender and everything it started
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with the worker that started it


def command(job: SceneJob) -> list[str]:
    out = Path(job.out) / scene_name(job.index)
    log = Path(job.out) / LOG_DIR / attempt_log(job.index, job.attempt, blender=True)
    args = [sys.executable, "-m", "transphy3d", "render-scene", job.source, "--seed", str(job.seed), "--out", str(out)]
    args += ["--quiet", "--overwrite", "--log", str(log), "--threads", str(job.threads)]
    for item in job.overrides:
        args += ["--set", item]
    return shlex.split(job.prefix) + args if job.prefix else args


def _clean_leftovers(out: Path, job: SceneJob) -> None:
    """Remove what a killed or failed attempt left (its ``*.partial-*`` directory), keeping its
    Blender log with the attempt's logs. Only one attempt of a scene runs at a time."""
    name = scene_name(job.index)
    for path in out.glob(f"{name}{PARTIAL_MARK}*"):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            target = out / LOG_DIR / attempt_log(job.index, job.attempt, blender=True)
            if not target.exists():
                os.replace(path, target)
            else:
                path.unlink(missing_ok=True)


ERROR_PREFIX = "transphy3d render-scene: error: "


def _last_error_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        if "error" in line.lower() or "Traceback" in line:
            return line.removeprefix(ERROR_PREFIX)[:500]
    return lines[-1][:500] if lines else ""


def run_scene(job: SceneJob) -> SceneAttempt:
    """Render one scene in a child process and classify the outcome."""
    out_dir = Path(job.out) / scene_name(job.index)
    log_path = Path(job.out) / LOG_DIR / attempt_log(job.index, job.attempt)
    start = time.perf_counter()
    result = SceneAttempt(
        index=job.index, seed=job.seed, attempt=job.attempt, status=SceneStatus.CRASHED, seconds=0.0, log=str(log_path),
        node=socket.gethostname(),
    )  # fmt: skip
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with open(log_path, "wb") as log:
        try:
            process = subprocess.Popen(
                command(job), stdout=log, stderr=subprocess.STDOUT, env=env, preexec_fn=_child_setup
            )
        except OSError as error:
            result.error = f"could not start the worker process: {error}"
            result.seconds = time.perf_counter() - start
            return result
        try:
            result.returncode = process.wait(timeout=job.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            result.status, result.returncode = SceneStatus.TIMEOUT, process.returncode
            result.error = f"timed out after {job.timeout:g} s; killed"
        finally:
            if process.poll() is None:  # the task was cancelled: take the renderer down with it
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    result.seconds = time.perf_counter() - start
    failed = result.status == SceneStatus.TIMEOUT or result.returncode != 0
    disk_full = failed and out_of_space(job.out)
    if failed:
        _clean_leftovers(Path(job.out), job)
    if disk_full:
        result.status, result.error = SceneStatus.OUTPUT_ERROR, "cannot write the scene: no space left on device"
        return result
    if result.status == SceneStatus.TIMEOUT:
        return result
    text = log_path.read_text(errors="replace")
    code = result.returncode
    if code == ExitCode.OK:
        report = validate_scene(out_dir, frames="ends")
        if not report.ok:
            result.status, result.error = SceneStatus.INVALID, f"output failed validation: {report.problems[0]}"
            return result
        meta = MetaFile.model_validate(read_json(out_dir / META_FILE))
        result.status = SceneStatus.OK
        result.frames = meta.num_frames
        result.render_seconds = float(meta.timings["render_beauty"] + meta.timings["render_data"])
        result.device = meta.device.type
        log_path.unlink(missing_ok=True)
        result.log = ""
        return result
    if code == ExitCode.BAD_INPUT:
        result.status = SceneStatus.BAD_INPUT
    elif code == ExitCode.OUTPUT:
        result.status = SceneStatus.OUTPUT_ERROR
    elif code is not None and code < 0:
        result.error = f"worker process killed by signal {signal.Signals(-code).name}"
    result.error = result.error or _last_error_line(text) or f"worker process exited with code {code}"
    return result
