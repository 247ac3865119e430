"""Warm workers (``render --warm-workers``): one render process (``transphy3d render-server``)
renders scene after scene, so Python start-up, imports, the device probe and GPU kernel loads are
paid once per process instead of once per scene.

Crash isolation is kept: the process renders one scene at a time, each exactly as
``render-scene`` would (same arguments, same exit codes, same log, a fresh Blender session), so a
crash, a hang or a kill costs the scene in flight and the next scene starts a new process. The
process is recycled (a new one started) after ``recycle_scenes`` scenes or once its resident
memory passes ``recycle_bytes``: long-running Blender processes leak.

Protocol: one JSON line per job on the server's stdin, ``{"job": RenderJob, "log": PATH}``
(``transphy3d.jobs.RenderJob``; ``log``: where the job's output goes); one JSON line per job on
its result pipe,
``{"returncode": int, "rss_bytes": int, "scenes": int}``. End of stdin ends the server.
"""

from __future__ import annotations

import json
import os
import select
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from transphy3d.farm.worker import (
    SceneJob,
    child_setup,
    classify,
    kill_group,
    new_attempt,
    render_job,
    timed_out,
    write_place,
)
from transphy3d.jobs import RenderJob
from transphy3d.output.contract import SceneAttempt, SceneStatus

STOP_SECONDS = 10.0  # a recycled process gets this long to exit after its stdin is closed


def job_message(job: RenderJob, log: str) -> str:
    """The line that asks a render server for one scene."""
    return json.dumps({"job": job.model_dump(mode="json", exclude_defaults=True), "log": log}) + "\n"


def result_message(returncode: int, rss_bytes: int, scenes: int) -> str:
    """The line a render server answers one job with."""
    return json.dumps({"returncode": returncode, "rss_bytes": rss_bytes, "scenes": scenes}) + "\n"


def read_job(line: str) -> tuple[RenderJob, str]:
    """The job and the log path of a ``job_message`` line."""
    message = json.loads(line)
    return RenderJob.model_validate(message["job"]), str(message["log"])


@dataclass
class Recycling:
    """When a warm render process is replaced by a new one."""

    scenes: int  # after this many scenes
    bytes: int  # or once its resident memory is larger


class WarmRenderer:
    """A render server process kept between scenes, started when needed."""

    def __init__(self, recycling: Recycling, prefix: str = ""):
        self.recycling = recycling
        self.prefix = prefix
        self.process: subprocess.Popen | None = None
        self.results: Any = None  # the read end of the result pipe

    def _start(self, log: Any) -> subprocess.Popen:
        read_fd, write_fd = os.pipe()
        command = [sys.executable, "-m", "transphy3d", "render-server", "--result-fd", str(write_fd)]
        if self.prefix:
            command = shlex.split(self.prefix) + command
        try:
            process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, pass_fds=(write_fd,),
                env=dict(os.environ, PYTHONUNBUFFERED="1"), preexec_fn=child_setup(os.getpid()), text=True,
            )  # fmt: skip
        finally:
            os.close(write_fd)
        self.process, self.results = process, os.fdopen(read_fd, "r")
        return process

    def _answer(self, timeout: float) -> dict[str, Any] | None:
        """The server's answer to the job in flight; None if it died first. TimeoutError after
        ``timeout`` seconds without an answer."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.results], [], [], min(left, 1.0))
            if ready:
                line = self.results.readline()
                return json.loads(line) if line else None
        raise TimeoutError

    def stop(self) -> None:
        """End the server (closing its stdin), killing it if it does not exit in time."""
        if self.process is None:
            return
        try:
            self.process.stdin.close()
            self.process.wait(timeout=STOP_SECONDS)
        except (OSError, subprocess.TimeoutExpired):
            kill_group(self.process)
        self._forget()

    def run(self, job: SceneJob) -> SceneAttempt:
        """Render ``job`` in the warm process (started if needed) and classify the outcome."""
        start = time.perf_counter()
        result = new_attempt(job)
        with open(result.log, "ab") as log:
            try:
                process = self.process or self._start(log)
            except OSError as error:
                result.error = f"could not start the render server: {error}"
                result.seconds = time.perf_counter() - start
                return result
        write_place(job, process.pid)
        answer, finished = None, False
        try:
            process.stdin.write(job_message(render_job(job), result.log))
            process.stdin.flush()
            answer = self._answer(job.timeout)
            finished = True
        except TimeoutError:
            kill_group(process)
            timed_out(result, job, process.returncode)
        except OSError:  # a broken pipe: the server died before it read the job
            finished = True
        finally:
            if not finished and result.status != SceneStatus.TIMEOUT:  # the task was cancelled
                kill_group(process)
        if answer is None:  # the process died (or was killed) with the scene in flight
            if result.status != SceneStatus.TIMEOUT:
                result.returncode = process.wait()
            self._forget()
        else:
            result.returncode = int(answer["returncode"])
            result.process_scene = int(answer["scenes"])
            worn = answer["scenes"] >= self.recycling.scenes or answer["rss_bytes"] > self.recycling.bytes
            if worn or result.returncode != 0:  # after a failed scene the session may be in any state
                self.stop()
        result.seconds = time.perf_counter() - start
        return classify(job, result)

    def _forget(self) -> None:
        self.process = None
        if self.results is not None:
            self.results.close()
            self.results = None
