"""Starting Ray (a local start that fails transiently is tried again, then ends in one line) and
planning workers on a heterogeneous cluster (`--worker-resources`, GPUs, threads)."""

from __future__ import annotations

import pytest

from transphy3d.errors import UserError
from transphy3d.farm.cluster import with_retries


def test_a_transient_failure_is_tried_again() -> None:
    calls, cleanups = [], []

    def start() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("The current node timed out during startup.\nmore detail")
        return "started"

    assert with_retries(start, "start a local Ray cluster", delay=0.0, cleanup=lambda: cleanups.append(1)) == "started"
    assert len(calls) == 3 and len(cleanups) == 2


def test_a_lasting_failure_is_one_line_after_the_last_try() -> None:
    def start() -> None:
        raise TimeoutError("The current node timed out during startup.\nTraceback ...")

    with pytest.raises(UserError) as error:
        with_retries(start, "start a local Ray cluster", tries=2, delay=0.0)
    assert (
        str(error.value) == "could not start a local Ray cluster (2 tries): The current node timed out during startup."
    )


def test_other_errors_are_not_retried() -> None:
    calls = []

    def start() -> None:
        calls.append(1)
        raise ValueError("a bug, not a flaky start")

    with pytest.raises(ValueError):
        with_retries(start, "start", delay=0.0)
    assert len(calls) == 1


# Planning a heterogeneous cluster (--worker-resources): the nodes' resources as Ray reports them.
HEAD = {"CPU": 4.0, "cpu_only": 1.0, "node:10.0.0.1": 1.0}
GPU_A = {"CPU": 32.0, "GPU": 4.0, "render": 4.0}
GPU_B = {"CPU": 16.0, "GPU": 2.0, "render": 2.0}


def test_only_nodes_offering_the_worker_resources_count() -> None:
    from transphy3d.farm.plan import plan

    gpu = plan([HEAD, GPU_A, GPU_B], {"render": 1.0})
    assert (gpu.workers, gpu.gpus, gpu.threads) == (6, 1.0, 8)
    assert gpu.ray_options() == {"num_cpus": 8, "num_gpus": 1.0, "resources": {"render": 1.0}}
    # Two labels' worth per worker: half as many workers, twice the threads each.
    assert plan([HEAD, GPU_A, GPU_B], {"render": 2.0}).workers == 3
    # A CPU cluster: one worker per node, with the threads the smallest node has.
    cpu = plan([{"CPU": 2.0}, {"CPU": 1.0}], {})
    assert (cpu.workers, cpu.gpus, cpu.threads) == (2, 0.0, 1)
    assert plan([HEAD, {"CPU": 2.0}], {"cpu_only": 1.0}).threads == 4


@pytest.mark.parametrize(
    ("resources", "kwargs", "message"),
    [
        ({"gpu_box": 1.0}, {}, "--worker-resources gpu_box=1: no node of the cluster offers it (custom resources "
         "offered: cpu_only, render)"),
        ({"render": 1.0}, {"gpus_per_worker": 8.0}, "--gpus-per-worker 8: the largest eligible node has only 4 GPUs"),
        ({}, {"threads_per_worker": 64}, "--threads-per-worker 64: the largest eligible node has only 32 CPUs"),
    ],
)  # fmt: skip
def test_a_plan_the_cluster_cannot_run_is_one_line(resources: dict, kwargs: dict, message: str) -> None:
    from transphy3d.farm.plan import plan

    with pytest.raises(UserError) as error:
        plan([HEAD, GPU_A, GPU_B], resources, **kwargs)
    assert str(error.value) == message


@pytest.mark.parametrize("value", ["render", "render=0", "=1", "render=1,render=2", "render=x", "GPU=1", "render=inf"])
def test_a_malformed_worker_resources_option_is_one_line(value: str, tmp_path, capsys: pytest.CaptureFixture) -> None:
    from helpers import one_line_error, run_in_process

    result = run_in_process(capsys, "render", "--scenes", "1", "--out", str(tmp_path), "--worker-resources", value)
    line = one_line_error(result, "--worker-resources", f"{value!r}", "NAME=AMOUNT[,NAME=AMOUNT...] with AMOUNT > 0")
    assert not (tmp_path / "run.yaml").exists(), line
