"""How attempts reach Ray: one task per scene attempt (a render process each), or with
``--warm-workers`` a pool of actors, each keeping a warm render process between scenes. Both
give the driver an object ref per attempt; a worker lost with its node is replaced."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from transphy3d.farm.warm import Recycling, WarmRenderer
from transphy3d.farm.worker import SceneJob, run_scene
from transphy3d.output.contract import SceneAttempt


def _on_ray(job: SceneJob) -> SceneJob:
    """The job with the Ray node it runs on; the process sees exactly the GPUs Ray assigned."""
    import ray

    gpus = ray.get_gpu_ids()
    if gpus:
        os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(str(g) for g in gpus)
    return dataclasses.replace(job, node_id=ray.get_runtime_context().get_node_id())


def render_on_ray(job: SceneJob) -> SceneAttempt:
    """The Ray task of an attempt: a render process of its own."""
    return run_scene(_on_ray(job))


class WarmActor:
    """A Ray actor holding a warm render process (``transphy3d.farm.warm``)."""

    def __init__(self, recycling: Recycling, prefix: str):
        self.renderer = WarmRenderer(recycling, prefix)

    def render(self, job: SceneJob) -> SceneAttempt:
        return self.renderer.run(_on_ray(job))

    def ready(self) -> bool:
        """Answers once the actor is placed on a node and started."""
        return True


class TaskLauncher:
    """One Ray task per attempt."""

    def __init__(self, resources: dict[str, Any], workers: int):
        import ray

        self.remote = ray.remote(max_retries=0)(render_on_ray).options(**resources)
        self.workers = workers

    def free(self, running: int) -> int:
        """How many more attempts may start now (Ray queues a task until a node has room)."""
        return self.workers - running

    def submit(self, job: SceneJob) -> Any:
        return self.remote.remote(job)

    def release(self, ref: Any, lost: bool) -> None:
        """The attempt of ``ref`` is over (``lost``: its worker died with it)."""

    def cancel(self, ref: Any) -> None:
        """Take the attempt down, its render process with it."""
        import ray

        ray.cancel(ref, force=True)


class WarmLauncher:
    """A pool of warm actors; an attempt goes to an idle one that has started. An actor lost with
    its node is replaced by one that starts wherever (and whenever) a node has room, so attempts
    never wait on an actor that cannot be placed."""

    def __init__(self, resources: dict[str, Any], workers: int, recycling: Recycling, prefix: str):
        import ray

        self.actor_class = ray.remote(max_restarts=0, max_task_retries=0)(WarmActor).options(**resources)
        self.recycling, self.prefix = recycling, prefix
        self.starting: dict[Any, Any] = {}  # ready() ref -> actor
        self.idle: list[Any] = []
        self.busy: dict[Any, Any] = {}
        for _ in range(workers):
            self._new()

    def _new(self) -> None:
        actor = self.actor_class.remote(self.recycling, self.prefix)
        self.starting[actor.ready.remote()] = actor

    def free(self, running: int) -> int:
        import ray
        from ray.exceptions import RayError

        if self.starting:
            started, _ = ray.wait(list(self.starting), num_returns=len(self.starting), timeout=0)
            for ref in started:
                actor = self.starting.pop(ref)
                try:
                    ray.get(ref)
                    self.idle.append(actor)
                except RayError:  # it died starting (its node was lost): start another
                    self._new()
        return len(self.idle)

    def submit(self, job: SceneJob) -> Any:
        actor = self.idle.pop()
        ref = actor.render.remote(job)
        self.busy[ref] = actor
        return ref

    def release(self, ref: Any, lost: bool) -> None:
        actor = self.busy.pop(ref)
        if lost:
            self.cancel_actor(actor)
            self._new()
        else:
            self.idle.append(actor)

    def cancel(self, ref: Any) -> None:
        self.cancel_actor(self.busy[ref])

    @staticmethod
    def cancel_actor(actor: Any) -> None:
        import ray

        ray.kill(actor, no_restart=True)  # its render process dies with it (parent-death signal)
