"""The filter on Ray: a pool of actors, each loading the backend once, answering batches as they
come; results are yielded in completion order so the driver checkpoints as it goes. Uses the
cluster at ``$RAY_ADDRESS`` when set, else a local Ray with ``num_cpus``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any


def run_on_ray(options: Any, batches: list[list[list[str]]]) -> Iterator[tuple[int, list[Any]]]:
    import ray

    from transphy3d.assets.vlm.backends import make_backend

    if not ray.is_initialized():
        if os.environ.get("RAY_ADDRESS"):
            ray.init(address=os.environ["RAY_ADDRESS"], log_to_driver=False)
        else:
            cpus = options.ray_cpus or options.ray_workers
            ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)

    @ray.remote(num_cpus=1)
    class Worker:
        def __init__(self, opts: Any):
            self.backend = make_backend(opts)

        def ask(self, index: int, batch: list[list[str]]) -> tuple[int, list[Any]]:
            answers = self.backend.ask(batch)
            return index, [a if isinstance(a, str) else RuntimeError(str(a)) for a in answers]

    workers = [Worker.remote(options) for _ in range(max(1, min(options.ray_workers, len(batches))))]
    queue = list(enumerate(batches))
    running: dict[Any, Any] = {}
    for worker in workers:
        if queue:
            index, batch = queue.pop(0)
            running[worker.ask.remote(index, batch)] = worker
    while running:
        done, _ = ray.wait(list(running), num_returns=1)
        worker = running.pop(done[0])
        if queue:
            index, batch = queue.pop(0)
            running[worker.ask.remote(index, batch)] = worker
        yield ray.get(done[0])
