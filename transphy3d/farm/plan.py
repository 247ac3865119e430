"""How many workers a run gets and what each asks Ray for. Only the nodes that offer every
``--worker-resources`` label count (a heterogeneous cluster: e.g. only nodes started with
``--resources '{"render": 1}'``); on GPU nodes one worker per GPU (or per ``--gpus-per-worker``),
on CPU nodes one worker per node with all its threads."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from transphy3d.errors import UserError

RESERVED = ("CPU", "GPU", "memory", "object_store_memory")  # Ray's own resources: set by other options
RESOURCES_FORMAT = "NAME=AMOUNT[,NAME=AMOUNT...] with AMOUNT > 0 (Ray custom resources, e.g. render=1)"


def parse_resources(text: str) -> dict[str, float]:
    """``render=1,fast_disk=0.5`` -> {"render": 1.0, "fast_disk": 0.5}; ValueError naming the format."""
    resources: dict[str, float] = {}
    for item in text.split(","):
        name, sep, amount = item.strip().partition("=")
        name = name.strip()
        try:
            value = float(amount)
        except ValueError:
            value = math.nan
        if not sep or not name or not value > 0 or math.isinf(value) or name in resources:
            raise ValueError(f"expected {RESOURCES_FORMAT}")
        if name in RESERVED:
            raise ValueError(f"{name} is set by --threads-per-worker / --gpus-per-worker; expected {RESOURCES_FORMAT}")
        resources[name] = value
    return resources


def format_resources(resources: dict[str, float]) -> str:
    return ",".join(f"{k}={v:g}" for k, v in resources.items())


@dataclass
class Plan:
    workers: int
    threads: int  # CPU threads per worker
    gpus: float  # GPUs per worker
    resources: dict[str, float]  # custom resources per worker

    def ray_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"num_cpus": self.threads, "num_gpus": self.gpus}
        if self.resources:
            options["resources"] = dict(self.resources)
        return options


def _slots(node: dict[str, float], gpus: float, resources: dict[str, float]) -> int:
    """Workers ``node`` can run at once (CPU nodes: one, with all its threads)."""
    counts = [math.floor(node.get(name, 0.0) / amount + 1e-9) for name, amount in resources.items()]
    counts.append(math.floor(node.get("GPU", 0.0) / gpus + 1e-9) if gpus > 0 else 1)
    return max(0, min(counts))


def plan(
    nodes: list[dict[str, float]],
    resources: dict[str, float],
    workers: int | None = None,
    gpus_per_worker: float | None = None,
    threads_per_worker: int | None = None,
) -> Plan:
    """The plan for ``nodes`` (each node's Ray resources); one-line UserErrors naming the option
    that asks for more than the cluster has."""
    eligible = [n for n in nodes if all(n.get(name, 0.0) >= amount for name, amount in resources.items())]
    if not eligible:
        offered = sorted({k for n in nodes for k in n if k not in RESERVED and not k.startswith("node:")})
        raise UserError(
            f"--worker-resources {format_resources(resources)}: no node of the cluster offers it "
            f"(custom resources offered: {', '.join(offered) or 'none'})"
        )
    most_gpus = max(n.get("GPU", 0.0) for n in eligible)
    gpus = gpus_per_worker if gpus_per_worker is not None else (1.0 if most_gpus else 0.0)
    if gpus > most_gpus:
        raise UserError(f"--gpus-per-worker {gpus:g}: the largest eligible node has only {most_gpus:g} GPUs")
    slots = [(n, _slots(n, gpus, resources)) for n in eligible]
    slots = [(n, k) for n, k in slots if k > 0] or [(n, 1) for n in eligible]
    most_cpus = int(max(n.get("CPU", 0.0) for n, _ in slots))
    if threads_per_worker and threads_per_worker > most_cpus:
        raise UserError(
            f"--threads-per-worker {threads_per_worker}: the largest eligible node has only {most_cpus} CPUs"
        )
    if workers:
        threads = threads_per_worker or int(sum(n.get("CPU", 0.0) for n, _ in slots) // workers)
    else:
        workers = max(1, sum(k for _, k in slots))
        threads = threads_per_worker or int(min(n.get("CPU", 0.0) / k for n, k in slots))
    threads = max(1, min(threads, most_cpus))
    return Plan(workers=workers, threads=threads, gpus=gpus, resources=dict(resources))
