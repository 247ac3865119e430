"""Connecting to Ray: a local cluster started for the run (the default) or an existing one
(``--address`` or ``RAY_ADDRESS``), checked for reachability first so a wrong address fails in
seconds instead of hanging."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from transphy3d.errors import UserError

T = TypeVar("T")


@dataclass
class Cluster:
    address: str | None  # None: a local cluster started by us
    nodes: list[dict[str, float]]  # the resources of each alive node (CPU, GPU, custom labels)
    started_locally: bool


def _check_reachable(address: str, timeout: float) -> None:
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise UserError(f"--address {address!r}: expected HOST:PORT (or ray://HOST:PORT, or 'auto')")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise UserError(
            f"--address {address}: no Ray cluster reachable there ({reason}); start one with "
            "'ray start --head' or leave out --address for a local cluster"
        ) from None


LOCAL_START_TRIES = 3
RETRY_DELAY = 2.0  # seconds before the second try, twice that before the third


def with_retries(
    start: Callable[[], T],
    what: str,
    tries: int = LOCAL_START_TRIES,
    delay: float = RETRY_DELAY,
    cleanup: Callable[[], object] | None = None,
) -> T:
    """``start()``, tried again after a failure (a local Ray start can time out under load), with
    ``cleanup()`` between tries; after ``tries`` failures a one-line UserError naming the last."""
    for attempt in range(1, tries + 1):
        try:
            return start()
        except (RuntimeError, ConnectionError, TimeoutError) as error:
            if cleanup is not None:
                cleanup()
            if attempt == tries:
                first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                raise UserError(f"could not {what} ({tries} tries): {first}") from None
            time.sleep(delay * attempt)
    raise AssertionError("unreachable")


def connect(address: str | None, local_cpus: int | None = None, timeout: float = 5.0) -> Cluster:
    """ray.init for the farm; returns what the cluster offers."""
    import ray

    address = address or os.environ.get("RAY_ADDRESS") or None
    if address and address not in ("auto", "local"):
        _check_reachable(address, timeout)
    started_locally = address in (None, "local")
    kwargs = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR, configure_logging=True)
    if started_locally:
        with_retries(
            lambda: ray.init(num_cpus=local_cpus or os.cpu_count(), **kwargs),
            "start a local Ray cluster",
            cleanup=ray.shutdown,
        )
    else:
        try:
            ray.init(address=address, **kwargs)
        except (ConnectionError, RuntimeError) as error:
            raise UserError(f"--address {address}: cannot join the Ray cluster ({error})".splitlines()[0]) from None
    nodes = [dict(node.get("Resources", {})) for node in ray.nodes() if node.get("Alive")]
    return Cluster(address, nodes, started_locally)


def alive_nodes() -> set[str]:
    """Ray node ids of the nodes alive now."""
    import ray

    return {node["NodeID"] for node in ray.nodes() if node.get("Alive")}


def shutdown() -> None:
    import ray

    if ray.is_initialized():
        ray.shutdown()
