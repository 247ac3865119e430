"""The farm's driver: plan the missing scenes, schedule one Ray task per scene attempt (or send it
to a warm worker) with the resources it needs, retry crashes, timeouts and attempts lost with
their node with backoff, remove what lost attempts left, record results (per node too), report
progress, stop cleanly on Ctrl-C and resume on the next run."""

from __future__ import annotations

import datetime as dt
import heapq
import re
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from transphy3d.errors import OutputError
from transphy3d.farm import cluster as ray_cluster
from transphy3d.farm.attempts import Attempts
from transphy3d.farm.launch import TaskLauncher, WarmLauncher
from transphy3d.farm.local_ray import forget_local_cluster, record_local_cluster, stop_leftover_cluster
from transphy3d.farm.nodes import describe_nodes, tally
from transphy3d.farm.options import FarmOptions
from transphy3d.farm.plan import plan
from transphy3d.farm.records import RETRIES_FILE, AttemptPlace, RetryRecord
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
from transphy3d.farm.warm import Recycling
from transphy3d.farm.worker import SceneJob
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
    warm_workers: bool = False
    failures: list[dict[str, Any]] = field(default_factory=list)
    done_records: list[IndexRecord] = field(default_factory=list)  # this run's
    retry_records: list[RetryRecord] = field(default_factory=list)  # this run's
    rendered_again: set[int] = field(default_factory=set)  # indices whose index line a new one replaces

    @property
    def nodes_lost(self) -> list[str]:
        return sorted({n.label for n in tally([], self.retry_records) if n.lost})

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
            "warm_workers": self.warm_workers,
            "nodes": [n.as_dict() for n in tally(self.done_records, self.retry_records)],
            "nodes_lost": self.nodes_lost,
            "failures": self.failures,
            "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }


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
        stop_leftover_cluster(out)  # of a killed driver of this directory
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
                summary.rendered_again.add(index)
        todo = [i for i in range(options.scenes) if i not in state.done]
        summary.skipped = options.scenes - len(todo)
        if todo:
            _render(options, out, config_path, todo, summary)
    summary.wall_seconds = time.perf_counter() - start
    write_json(out / SUMMARY_FILE, summary.as_dict())
    return summary


def _launcher(options: FarmOptions, info: ray_cluster.Cluster) -> tuple[TaskLauncher | WarmLauncher, int, int]:
    """The launcher of attempts, the number of workers and the threads per worker."""
    the_plan = plan(
        info.nodes, options.worker_resources, options.workers or None, options.gpus_per_worker,
        options.threads_per_worker or None,
    )  # fmt: skip
    if options.warm_workers:
        recycling = Recycling(scenes=options.warm_recycle_scenes, bytes=options.warm_recycle_bytes)
        launcher = WarmLauncher(the_plan.ray_options(), the_plan.workers, recycling, options.worker_prefix)
        return launcher, the_plan.workers, the_plan.threads
    return TaskLauncher(the_plan.ray_options(), the_plan.workers), the_plan.workers, the_plan.threads


def _render(options: FarmOptions, out: Path, config_path: Path, todo: list[int], summary: Summary) -> None:
    import ray

    info = ray_cluster.connect(options.address)
    try:
        if info.started_locally:
            record_local_cluster(out)
        launcher, workers, threads = _launcher(options, info)
        summary.workers, summary.warm_workers = workers, options.warm_workers
        attempts = Attempts(out)
        pending: list[tuple[float, int, int]] = [(0.0, i, 1) for i in todo]  # (ready time, index, attempt)
        heapq.heapify(pending)
        running: dict[Any, tuple[SceneJob, float]] = {}
        bar = tqdm(total=len(todo), unit="scene", desc="render", disable=not (options.progress and sys.stderr.isatty()))
        bar_or_none = bar if not bar.disable else None
        previous_term = signal.signal(signal.SIGTERM, _stop_on_sigterm)

        def take_down_running() -> None:
            for ref, (job, _started) in running.items():
                launcher.cancel(ref)
                attempts.give_up(job)

        try:
            while pending or running:
                now = time.monotonic()
                free = launcher.free(len(running))
                while pending and free > 0 and pending[0][0] <= now:
                    free -= 1
                    _, index, attempt = heapq.heappop(pending)
                    job = SceneJob(
                        index=index, seed=scene_seed(options.seed, index), attempt=attempt, out=str(out),
                        source=str(config_path), overrides=list(options.overrides), timeout=options.timeout,
                        threads=threads, prefix=options.worker_prefix,
                    )  # fmt: skip
                    attempts.grant(job)
                    running[launcher.submit(job)] = (job, now)
                attempts.sweep()
                if not running:  # waiting for a retry's backoff, or for a worker to start
                    time.sleep(max(0.05, min(pending[0][0] - time.monotonic(), 1.0)))
                    continue
                done, _ = ray.wait(list(running), num_returns=1, timeout=1.0)
                for ref in done:
                    job, _started = running.pop(ref)
                    result, worker_lost = _collect(ref, job)
                    if worker_lost:  # its render process may still run: fence it, clean up after it
                        _attribute(result, attempts.give_up(job))
                    else:
                        attempts.end(job)
                    launcher.release(ref, worker_lost)
                    _record(result, job, options, out, pending, summary, bar_or_none)
                    if result.status == SceneStatus.OK or not (result.retryable and job.attempt <= options.retries):
                        bar.update(1)
                        _show_rate(bar, summary)
                for ref, (_job, started) in list(running.items()):
                    if time.monotonic() - started > options.timeout + GUARD_SECONDS:
                        launcher.cancel(ref)  # the worker itself hangs: take it down
        except KeyboardInterrupt:
            summary.interrupted = True
            summary.stop_signal = "SIGTERM" if _TERMINATED else "SIGINT"
            take_down_running()
            _say(bar_or_none, f"interrupted: cancelled {len(running)} running scene(s); run the same command to resume")
        except OutputError:
            take_down_running()
            raise
        finally:
            attempts.finish()  # nothing of a lost attempt is left when the run ends
            signal.signal(signal.SIGTERM, previous_term)
            bar.close()
    finally:
        ray_cluster.shutdown()
        forget_local_cluster(out)


_NODE_ID = re.compile(r"node ID: ([0-9a-f]{56})", re.IGNORECASE)
_NODE_DIED = ("NodeDiedError", "node has died", "node it was running on is dead")


def _collect(ref, job: SceneJob) -> tuple[SceneAttempt, bool]:
    """The attempt's outcome, and whether its worker was lost (it did not report: the render
    process may still run, and nothing was cleaned up after it)."""
    import ray
    from ray.exceptions import RayError, TaskCancelledError

    try:
        return ray.get(ref), False
    except TaskCancelledError:
        return SceneAttempt(
            index=job.index, seed=job.seed, attempt=job.attempt, status=SceneStatus.TIMEOUT, seconds=0.0,
            error="worker hung; cancelled",
        ), True  # fmt: skip
    except RayError as error:
        text = str(error).strip()
        first = text.splitlines()[0] if text else type(error).__name__
        found = _NODE_ID.search(text)
        result = SceneAttempt(
            index=job.index, seed=job.seed, attempt=job.attempt, status=SceneStatus.CRASHED, seconds=0.0,
            error=f"{type(error).__name__}: {first}"[:500], node_id=found.group(1) if found else "",
        )  # fmt: skip
        return result, True


def _attribute(result: SceneAttempt, place: AttemptPlace | None) -> None:
    """Where a lost attempt ran (its worker's word), and whether its node is gone."""
    if place is not None:
        result.node, result.node_id = place.node, place.node_id or result.node_id


def _node_lost(result: SceneAttempt) -> bool:
    if result.status != SceneStatus.CRASHED or result.returncode is not None:
        return False
    if any(mark in result.error for mark in _NODE_DIED):
        return True
    return bool(result.node_id) and result.node_id not in ray_cluster.alive_nodes()


def _record(
    result: SceneAttempt, job: SceneJob, options: FarmOptions, out: Path, pending: list, summary: Summary, bar
) -> None:
    name = scene_name(job.index)
    summary.worker_seconds += result.seconds or 0.0
    if result.status == SceneStatus.OK:
        record = IndexRecord(
            scene=name, index=job.index, seed=job.seed, attempts=job.attempt, frames=result.frames,
            seconds=round(result.seconds, 3), render_seconds=round(result.render_seconds, 3),
            device=result.device, node=result.node, node_id=result.node_id or None,
            process_scene=result.process_scene, finished=dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
        )  # fmt: skip
        replace = "scene" if job.index in summary.rendered_again else None  # one line per scene
        append_record(out / INDEX_FILE, record, replace_key=replace)
        summary.done_records.append(record)
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
        retry = RetryRecord(**result.model_dump(), scene=name, node_lost=_node_lost(result))
        append_record(out / RETRIES_FILE, retry)
        summary.retry_records.append(retry)
        delay = min(options.backoff * 2 ** (job.attempt - 1), 300.0)
        heapq.heappush(pending, (time.monotonic() + delay, job.index, job.attempt + 1))
        where = f"node {retry.node or '?'}{', lost' if retry.node_lost else ''}"
        _say(bar, f"{name}: attempt {job.attempt} {result.status}: {result.error} ({where}); retrying in {delay:.0f} s")
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
    if s.nodes_lost:
        lines.append(f"  nodes lost: {len(s.nodes_lost)} ({', '.join(s.nodes_lost)})")
    nodes = tally(s.done_records, s.retry_records)
    if len(nodes) > 1 or s.retried:
        lines += describe_nodes(nodes, indent="  ")
    for failure in s.failures:
        lines.append(f"  FAILED {failure['scene']} ({failure['status']}): {failure['error']}  log: {failure['log']}")
    lines.append(f"  index: {out / INDEX_FILE}; summary: {out / SUMMARY_FILE}")
    return "\n".join(lines)
