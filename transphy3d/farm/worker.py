"""One scene on one worker: ``python -m transphy3d render-scene`` as its own process (so a
crash, a leak or a hang costs one scene), killed with its whole process group on timeout, killed
by the kernel when the worker itself dies (parent-death signal) and stopped by its lease
(``transphy3d.fence``) when the farm gives the attempt up; the finished directory is validated
before it counts. The worker says where the attempt runs (``AttemptPlace``) so that the farm can
account for and clean up after an attempt lost with its node."""

from __future__ import annotations

import contextlib
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

from transphy3d.errors import ExitCode, error_message
from transphy3d.farm.records import ATTEMPT_DIR, LOG_DIR, AttemptPlace, attempt_lease, attempt_log, attempt_place
from transphy3d.files import PARTIAL_MARK, out_of_space, read_json, write_json
from transphy3d.jobs import RenderJob
from transphy3d.output.contract import META_FILE, MetaFile, SceneAttempt, SceneStatus, scene_name
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
    node_id: str = ""  # the Ray node the attempt runs on (set by the Ray task)


def lease_path(out: str | Path, index: int, attempt: int) -> Path:
    """The lease of an attempt: the farm creates it before the attempt starts and removes it when
    the attempt is over or given up."""
    return Path(out) / ATTEMPT_DIR / attempt_lease(index, attempt)


def place_path(out: str | Path, index: int, attempt: int) -> Path:
    return Path(out) / ATTEMPT_DIR / attempt_place(index, attempt)


def child_setup(parent: int):
    """What a render process runs between fork and exec: its own process group (a timeout kills
    Blender and everything it started) and death with the worker that started it; a worker that
    died before the parent-death signal was armed is noticed too."""

    def setup() -> None:
        os.setsid()
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(1)

    return setup


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the process group of ``process`` (its own, see ``child_setup``) and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def render_job(job: SceneJob) -> RenderJob:
    """What the attempt asks the renderer for."""
    return RenderJob(
        scene=job.source,
        out=str(Path(job.out) / scene_name(job.index)),
        seed=job.seed,
        overrides=list(job.overrides),
        overwrite=True,
        quiet=True,
        log=str(Path(job.out) / LOG_DIR / attempt_log(job.index, job.attempt, blender=True)),
        threads=job.threads,
        lease=str(lease_path(job.out, job.index, job.attempt)),
    )


def command(job: SceneJob) -> list[str]:
    args = [sys.executable, "-m", "transphy3d", "render-scene", "--job", render_job(job).to_line()]
    return shlex.split(job.prefix) + args if job.prefix else args


def write_place(job: SceneJob, render_pid: int) -> None:
    """Say where the attempt runs (see ``AttemptPlace``)."""
    place = AttemptPlace(node=socket.gethostname(), node_id=job.node_id, worker_pid=os.getpid(), render_pid=render_pid)
    with contextlib.suppress(OSError):  # only accounting: a failed write must not fail the scene
        write_json(place_path(job.out, job.index, job.attempt), place.to_json())


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


def _last_error_line(text: str) -> str:
    """The renderer's one-line error in its log (its message alone), else the last line that
    looks like an error, else the last line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        if "error" in line.lower() or "Traceback" in line:
            message = error_message(line, "render-scene")
            return (line if message is None else message)[:500]
    return lines[-1][:500] if lines else ""


def new_attempt(job: SceneJob) -> SceneAttempt:
    """The record of an attempt that has not ended yet (a crash unless told otherwise)."""
    return SceneAttempt(
        index=job.index, seed=job.seed, attempt=job.attempt, status=SceneStatus.CRASHED, seconds=0.0,
        log=str(Path(job.out) / LOG_DIR / attempt_log(job.index, job.attempt)), node=socket.gethostname(),
        node_id=job.node_id,
    )  # fmt: skip


def timed_out(result: SceneAttempt, job: SceneJob, returncode: int | None) -> None:
    result.status, result.returncode = SceneStatus.TIMEOUT, returncode
    result.error = f"timed out after {job.timeout:g} s; killed"


def run_scene(job: SceneJob) -> SceneAttempt:
    """Render one scene in a child process and classify the outcome."""
    start = time.perf_counter()
    result = new_attempt(job)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with open(result.log, "wb") as log:
        try:
            process = subprocess.Popen(
                command(job), stdout=log, stderr=subprocess.STDOUT, env=env, preexec_fn=child_setup(os.getpid())
            )
        except OSError as error:
            result.error = f"could not start the worker process: {error}"
            result.seconds = time.perf_counter() - start
            return result
        write_place(job, process.pid)
        try:
            result.returncode = process.wait(timeout=job.timeout)
        except subprocess.TimeoutExpired:
            kill_group(process)
            timed_out(result, job, process.returncode)
        finally:
            if process.poll() is None:  # the task was cancelled: take the renderer down with it
                kill_group(process)
    result.seconds = time.perf_counter() - start
    return classify(job, result)


def classify(job: SceneJob, result: SceneAttempt) -> SceneAttempt:
    """The outcome of an attempt whose render has ended (``result.returncode`` set, or a timeout):
    leftovers of a failed one removed, a finished scene validated, an error named."""
    out_dir = Path(job.out) / scene_name(job.index)
    log_path = Path(result.log)
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
        result.physics_seconds = float(meta.timings.get("physics", 0.0))
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
