"""``transphy3d.farm.plan`` beyond the cluster tests (tests/farm/test_cluster.py): the
``--worker-resources`` text and back, fractional GPUs per worker, a fixed worker count sharing
the threads, CPU-only nodes, and the Ray options a plan asks for."""

from __future__ import annotations

import pytest

from transphy3d.farm.plan import RESERVED, Plan, format_resources, parse_resources, plan


def test_resources_text_round_trips() -> None:
    parsed = parse_resources(" render = 1 , fast_disk=0.5")
    assert parsed == {"render": 1.0, "fast_disk": 0.5}
    assert format_resources(parsed) == "render=1,fast_disk=0.5"
    assert parse_resources(format_resources(parsed)) == parsed


@pytest.mark.parametrize("name", RESERVED)
def test_rays_own_resources_are_refused_naming_the_option(name: str) -> None:
    with pytest.raises(ValueError, match=f"{name} is set by --threads-per-worker / --gpus-per-worker"):
        parse_resources(f"{name}=1")


@pytest.mark.parametrize("text", ["render=nan", "render=-1", "render", "render=1,", ",render=1"])
def test_malformed_resources_name_the_format(text: str) -> None:
    with pytest.raises(ValueError, match=r"expected NAME=AMOUNT\[,NAME=AMOUNT\.\.\.\] with AMOUNT > 0"):
        parse_resources(text)


def test_half_a_gpu_per_worker_doubles_the_workers() -> None:
    nodes = [{"CPU": 16.0, "GPU": 2.0}, {"CPU": 8.0, "GPU": 1.0}]
    assert (plan(nodes, {}).workers, plan(nodes, {}).gpus) == (3, 1.0)
    half = plan(nodes, {}, gpus_per_worker=0.5)
    assert (half.workers, half.gpus, half.threads) == (6, 0.5, 4)  # 16 / 4 and 8 / 2 threads: the fewer


def test_a_fixed_worker_count_shares_every_thread() -> None:
    nodes = [{"CPU": 16.0, "GPU": 2.0}, {"CPU": 8.0, "GPU": 1.0}]
    fixed = plan(nodes, {}, workers=4)
    assert (fixed.workers, fixed.threads) == (4, 6)  # 24 threads over 4 workers
    assert plan(nodes, {}, workers=1).threads == 16  # never more than the largest node has
    assert plan(nodes, {}, threads_per_worker=3).threads == 3


def test_cpu_nodes_run_one_worker_each_with_all_threads() -> None:
    cpu = plan([{"CPU": 8.0}, {"CPU": 8.0}, {"CPU": 4.0}], {})
    assert cpu == Plan(workers=3, threads=4, gpus=0.0, resources={})
    assert cpu.ray_options() == {"num_cpus": 4, "num_gpus": 0.0}


def test_a_labelled_cpu_node_still_runs_one_worker() -> None:
    """Only the labelled node is eligible; without GPUs it runs one worker with all 8 threads,
    however many labels it offers."""
    labelled = plan([{"CPU": 8.0, "render": 2.0}, {"CPU": 4.0}], {"render": 1.0})
    assert (labelled.workers, labelled.threads, labelled.gpus) == (1, 8, 0.0)
    assert labelled.ray_options() == {"num_cpus": 8, "num_gpus": 0.0, "resources": {"render": 1.0}}
