"""The farm's driver: plan the missing scenes, schedule one Ray task per scene with the
resources it needs, retry crashes and timeouts with backoff, record results, report progress,
stop cleanly on Ctrl-C and resume on the next run."""

from __future__ import annotations

import datetime as dt
import heapq
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from transphy3d.errors import OutputError, UserError
from transphy3d.farm import cluster as ray_cluster
from transphy3d.farm.options import FarmOptions
from transphy3d.farm.rundir import (
    RunLock,
    check_or_write_run,
    invalid_scenes,
    prepare_output,
    remove_partials,
    run_record,
    scan,
    scene_seed,
)
from transphy3d.farm.worker import SceneJob, run_scene
from transphy3d.files import write_json
from transphy3d.output.contract import (
    FAILURES_FILE,
    INDEX_FILE,
    SUMMARY_FILE,
    FailureRecord,
    IndexRecord,
    SceneAttempt,
    SceneStatus,
    scene_name,
)
from transphy3d.output.records import append_record
from transphy3d.output.validate import validate_scene
from transphy3d.scene.config_loader import config_digest, load_config
from transphy3d.scene.config_loader import config_path as resolve_config_path

GUARD_SECONDS = 120.0  # a task still running this long after its scene timeout is cancelled


@dataclass
class Summary:
    requested: int
    skipped: int = 0
    ok: int = 0
    failed: int = 0
    retried: int = 0
    frames: int = 0
    render_seconds: float = 0.0
    worker_seconds: float = 0.0
    wall_seconds: float = 0.0
    interrupted: bool = False
    stop_signal: str | None = None  # SIGINT or SIGTERM when interrupted
    workers: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requested": self.requested,
            "skipped": self.skipped,
            "ok": self.ok,
            "failed": self.failed,
            "retried_attempts": self.retried,
            "frames": self.frames,
            "wall_seconds": round(self.wall_seconds, 3),
            "worker_seconds": round(self.worker_seconds, 3),
            "render_seconds": round(self.render_seconds, 3),
            "mean_seconds_per_frame": round(self.render_seconds / self.frames, 4) if self.frames else None,
            "interrupted": self.interrupted,
            "workers": self.workers,
            "failures": self.failures,
            "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }


def render_on_ray(job: SceneJob) -> SceneAttempt:
    """The Ray task: the scene's worker process sees exactly the GPUs Ray assigned to the task."""
    import os

    import ray

    gpus = ray.get_gpu_ids()
    if gpus:
        os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(str(g) for g in gpus)
    return run_scene(job)


def _remote_render():
    import ray

    return ray.remote(max_retries=0)(render_on_ray)


def _plan_resources(options: FarmOptions, info: ray_cluster.Cluster) -> tuple[int, int, float]:
    """(workers, threads per worker, GPUs per worker)."""
    gpus_per_worker = options.gpus_per_worker if options.gpus_per_worker is not None else (1.0 if info.gpus else 0.0)
    if gpus_per_worker > info.gpus:
        raise UserError(f"--gpus-per-worker {gpus_per_worker:g}: the cluster has only {info.gpus:g} GPUs")
    if options.workers:
        workers = options.workers
    elif gpus_per_worker > 0:
        workers = max(1, int(info.gpus // gpus_per_worker))
    else:
        workers = max(1, info.nodes)  # one worker per CPU node, using all its threads
    threads = options.threads_per_worker or max(1, int(info.cpus // workers))
    if threads > info.cpus:
        raise UserError(f"--threads-per-worker {threads}: the cluster has only {info.cpus:g} CPUs")
    return workers, threads, gpus_per_worker


def _recover_unindexed(out: Path, indices: list[int], run_seed: int, state_done: dict) -> None:
    """Scene directories renamed into place whose index line was lost (the driver died between
    the two): keep them if they validate, otherwise remove them so they are rendered again."""
    import shutil

    for index in indices:
        path = out / scene_name(index)
        report = validate_scene(path, frames="ends")
        if report.ok:
            record = IndexRecord(scene=scene_name(index), index=index, seed=scene_seed(run_seed, index), recovered=True)
            append_record(out / INDEX_FILE, record)
            state_done[index] = record
        else:
            shutil.rmtree(path, ignore_errors=True)


_TERMINATED: list[bool] = []  # set by the SIGTERM handler (Ray turns what it raises into KeyboardInterrupt)


def _stop_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM, handled like Ctrl-C: running scenes are cancelled, what finished is kept."""
    _TERMINATED.append(True)
    raise KeyboardInterrupt


def _say(bar: tqdm | None, text: str) -> None:
    if bar is not None:
        bar.write(text, file=sys.stderr)
    else:
        print(text, file=sys.stderr, flush=True)


def run_farm(options: FarmOptions) -> Summary:
    """Render scenes 0..N-1 that ``options.out`` does not hold yet. Raises UserError/OutputError
    for bad input; returns the summary (also written to summary.json)."""
    start = time.perf_counter()
    config_path = resolve_config_path(options.config).resolve()
    from transphy3d.scene.config_loader import parse_overrides

    overrides = parse_overrides(options.overrides)
    config = load_config(config_path, overrides)  # fails fast on a bad config
    out = options.out.absolute()
    prepare_output(out)
    summary = Summary(requested=options.scenes)
    with RunLock(out):
        record = run_record(
            str(config_path), config.name, config_digest(config), config.model_dump(mode="json", by_alias=True),
            overrides, options.seed,
        )  # fmt: skip
        check_or_write_run(out, record, options.allow_changed_config)
        state = scan(out)
        remove_partials(out, state.partial)
        _recover_unindexed(out, [i for i in state.unindexed if i < options.scenes], options.seed, state.done)
        if options.verify:
            for index, problem in invalid_scenes(out, sorted(i for i in state.done if i < options.scenes)).items():
                _say(None, f"{scene_name(index)}: fails validation ({problem}); rendering it again")
                del state.done[index]
        todo = [i for i in range(options.scenes) if i not in state.done]
        summary.skipped = options.scenes - len(todo)
        if todo:
            _render(options, out, config_path, todo, summary)
    summary.wall_seconds = time.perf_counter() - start
    write_json(out / SUMMARY_FILE, summary.as_dict())
    return summary


def _render(options: FarmOptions, out: Path, config_path: Path, todo: list[int], summary: Summary) -> None:
    import ray

    info = ray_cluster.connect(options.address)
    try:
        workers, threads, gpus = _plan_resources(options, info)
        summary.workers = workers
        remote = _remote_render().options(num_cpus=threads, num_gpus=gpus)
        pending: list[tuple[float, int, int]] = [(0.0, i, 1) for i in todo]  # (ready time, index, attempt)
        heapq.heapify(pending)
        running: dict[Any, tuple[SceneJob, float]] = {}
        bar = tqdm(total=len(todo), unit="scene", desc="render", disable=not (options.progress and sys.stderr.isatty()))
        bar_or_none = bar if not bar.disable else None
        previous_term = signal.signal(signal.SIGTERM, _stop_on_sigterm)
        try:
            while pending or running:
                now = time.monotonic()
                while pending and len(running) < workers and pending[0][0] <= now:
                    _, index, attempt = heapq.heappop(pending)
                    job = SceneJob(
                        index=index, seed=scene_seed(options.seed, index), attempt=attempt, out=str(out),
                        source=str(config_path), overrides=list(options.overrides), timeout=options.timeout,
                        threads=threads, prefix=options.worker_prefix,
                    )  # fmt: skip
                    running[remote.remote(job)] = (job, now)
                if not running:
                    time.sleep(max(0.0, min(pending[0][0] - time.monotonic(), 1.0)))
                    continue
                done, _ = ray.wait(list(running), num_returns=1, timeout=1.0)
                for ref in done:
                    job, _started = running.pop(ref)
                    result = _collect(ref, job)
                    _record(result, job, options, out, pending, summary, bar_or_none)
                    if result.status == SceneStatus.OK or not (result.retryable and job.attempt <= options.retries):
                        bar.update(1)
                        _show_rate(bar, summary)
                for ref, (_job, started) in list(running.items()):
                    if time.monotonic() - started > options.timeout + GUARD_SECONDS:
                        ray.cancel(ref, force=True)  # the worker itself hangs: take it down
        except KeyboardInterrupt:
            summary.interrupted = True
            summary.stop_signal = "SIGTERM" if _TERMINATED else "SIGINT"
            for ref in running:
                ray.cancel(ref, force=True)
            _say(bar_or_none, f"interrupted: cancelled {len(running)} running scene(s); run the same command to resume")
        except OutputError:
            for ref in running:
                ray.cancel(ref, force=True)
            raise
        finally:
            signal.signal(signal.SIGTERM, previous_term)
            bar.close()
    finally:
        ray_cluster.shutdown()


def _collect(ref, job: SceneJob) -> SceneAttempt:
    import ray
    from ray.exceptions import RayError, TaskCancelledError

    try:
        return ray.get(ref)
    except TaskCancelledError:
        return SceneAttempt(
            index=job.index, seed=job.seed, attempt=job.attempt, status=SceneStatus.TIMEOUT, seconds=0.0,
            error="worker hung; cancelled",
        )  # fmt: skip
    except RayError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return SceneAttempt(
            index=job.index, seed=job.seed, attempt=job.attempt, status=SceneStatus.CRASHED, seconds=0.0,
            error=f"{type(error).__name__}: {first}"[:500],
        )  # fmt: skip


def _record(
    result: SceneAttempt, job: SceneJob, options: FarmOptions, out: Path, pending: list, summary: Summary, bar
) -> None:
    name = scene_name(job.index)
    summary.worker_seconds += result.seconds
    if result.status == SceneStatus.OK:
        append_record(
            out / INDEX_FILE,
            IndexRecord(
                scene=name, index=job.index, seed=job.seed, attempts=job.attempt, frames=result.frames,
                seconds=round(result.seconds, 3), render_seconds=round(result.render_seconds, 3),
                device=result.device, node=result.node,
                finished=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            ),
        )  # fmt: skip
        summary.ok += 1
        summary.frames += result.frames
        summary.render_seconds += result.render_seconds
        if bar is None:
            _say(None, f"{name}: ok, {result.frames} frames in {result.seconds:.1f} s (attempt {job.attempt})")
        return
    if result.status == SceneStatus.OUTPUT_ERROR:
        raise OutputError(f"{name}: {result.error}" + ("" if "log:" in result.error else f" (log: {result.log})"))
    if result.retryable and job.attempt <= options.retries:
        summary.retried += 1
        delay = min(options.backoff * 2 ** (job.attempt - 1), 300.0)
        heapq.heappush(pending, (time.monotonic() + delay, job.index, job.attempt + 1))
        _say(bar, f"{name}: attempt {job.attempt} {result.status}: {result.error}; retrying in {delay:.0f} s")
        return
    append_record(out / FAILURES_FILE, FailureRecord(**result.model_dump(), scene=name, attempts=job.attempt))
    summary.failed += 1
    summary.failures.append({"scene": name, "status": result.status, "error": result.error, "log": result.log})
    _say(bar, f"{name}: failed after {job.attempt} attempt(s) ({result.status}): {result.error}")


def _show_rate(bar: tqdm, summary: Summary) -> None:
    elapsed = max(bar.format_dict.get("elapsed", 0.0), 1e-6)
    bar.set_postfix(ok=summary.ok, failed=summary.failed, fps=f"{summary.frames / elapsed:.2f}")


def format_summary(summary: Summary, out: Path) -> str:
    s = summary
    lines = [
        f"render summary for {out}:",
        f"  scenes: {s.ok} rendered, {s.skipped} already done, {s.failed} failed (of {s.requested} requested)"
        + (" - interrupted" if s.interrupted else ""),
        f"  frames: {s.frames} in {s.wall_seconds:.1f} s wall on {s.workers} worker(s)"
        + (f"; {s.render_seconds / s.frames:.3f} s of Cycles per frame" if s.frames else ""),
    ]
    if s.retried:
        lines.append(f"  retried attempts: {s.retried}")
    for failure in s.failures:
        lines.append(f"  FAILED {failure['scene']} ({failure['status']}): {failure['error']}  log: {failure['log']}")
    lines.append(f"  index: {out / INDEX_FILE}; summary: {out / SUMMARY_FILE}")
    return "\n".join(lines)
