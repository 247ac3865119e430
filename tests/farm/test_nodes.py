"""The farm on a Ray cluster of two nodes on this machine (``ray start --head``, then a second
``ray start --address``, whose processes see a host name of their own, as another machine sharing
the output volume would), joined with ``--address``: workers only on the nodes that offer
``--worker-resources``, per-node throughput in ``status``, and the second node lost mid-render
(its raylet SIGKILLed): every scene completes elsewhere and validates, nothing of the lost attempt
is left, no render process survives, and the summary and ``status`` name the lost node."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import REPO, one_line_error, run_cli
from ray_nodes import LocalCluster, Node

from transphy3d.output.records import read_records

pytestmark = [pytest.mark.blender, pytest.mark.farm]
TINY = ["--config", "tiny", "--set", "camera.frames=2", "--no-progress", "--backoff", "0.2"]
SECOND_HOST = "node2"


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[LocalCluster, Node, Node]]:
    """A head offering the custom resource ``cpu_only`` and a second node, host ``node2``, offering
    ``render``."""
    nodes = LocalCluster()
    try:
        head = nodes.start_node(cpus=1, resources='{"cpu_only": 1}')
        second = nodes.start_node(cpus=1, resources='{"render": 1}', hostname=SECOND_HOST)
        yield nodes, head, second
    finally:
        nodes.stop()


def parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def render_processes(out: Path) -> list[int]:
    """pids of the render processes of the run in ``out``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"render-scene" in cmdline and str(out).encode() in cmdline and b"fault_wrapper" not in cmdline:
            found.append(int(pid))
    return found


def test_worker_resources_pick_the_nodes(cluster, tmp_path: Path) -> None:
    nodes, _head, second = cluster
    out = tmp_path / "run"
    result = run_cli(
        "render", "--scenes", "2", "--out", str(out), "--address", nodes.address, "--worker-resources", "render=1",
        *TINY, env=nodes.env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    records = list(read_records(out / "index.jsonl"))
    assert len(records) == 2 and {r["node_id"] for r in records} == {second.node_id}
    status = run_cli("status", str(out)).stdout
    assert "nodes: 1; retried attempts: 0" in status
    line = next(x for x in status.splitlines() if f"({second.node_id[:8]})" in x)
    assert "2 scenes, 4 frames" in line and "frames/s while busy" in line

    missing = run_cli(
        "render", "--scenes", "1", "--out", str(tmp_path / "none"), "--address", nodes.address,
        "--worker-resources", "gpu_box=1", *TINY, env=nodes.env,
    )  # fmt: skip
    one_line_error(missing, "--worker-resources gpu_box=1: no node of the cluster offers it",
                   "custom resources offered: cpu_only, render")  # fmt: skip


def _wait(condition, seconds: float) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_lost_node_leaves_nothing_behind(cluster, tmp_path: Path) -> None:
    nodes, head, second = cluster
    out = tmp_path / "run"
    farm = subprocess.Popen(
        [sys.executable, "-m", "transphy3d", "render", "--scenes", "4", "--out", str(out), "--address", nodes.address,
         *TINY],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=nodes.env,
    )  # fmt: skip
    victim = None
    try:
        deadline = time.time() + 240
        while victim is None and time.time() < deadline:  # the second node's render, once it writes
            assert farm.poll() is None, farm.communicate()
            for pid in render_processes(out):
                partials = list(out.glob(f"scene_*.partial-{pid}@{SECOND_HOST}/"))
                if partials:
                    victim, scene = pid, partials[0].name.split(".partial-")[0]
            time.sleep(0.05)
        assert victim is not None, "no render started on the second node"
        nodes.lose(second)
        stdout, stderr = farm.communicate(timeout=300)
    finally:
        if farm.poll() is None:
            farm.kill()
    assert farm.returncode == 0, stderr[-3000:]

    # Every scene rendered (the lost one elsewhere) and valid; nothing of the lost attempt left.
    records = {r["scene"]: r for r in read_records(out / "index.jsonl")}
    assert sorted(records) == [f"scene_{i:06d}" for i in range(4)]
    check = run_cli("validate", str(out))
    assert check.returncode == 0 and "4 ok, 0 with problems" in check.stdout
    assert not [p.name for p in out.iterdir() if ".partial-" in p.name]
    assert not (out / ".attempts").exists()
    assert not Path(f"/proc/{victim}").exists() and render_processes(out) == []
    assert (out / "logs" / f"{scene}.attempt1.blender.log").is_file()  # the lost attempt's Blender log, kept

    # The loss is accounted to the second node, in the summary and in status.
    retries = list(read_records(out / "retries.jsonl"))
    assert [(r["scene"], r["node_lost"], r["node"], r["node_id"]) for r in retries] == [
        (scene, True, SECOND_HOST, second.node_id)
    ]
    assert records[scene]["attempts"] == 2 and records[scene]["node_id"] == head.node_id
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ok"] == 4 and summary["retried_attempts"] == 1 and len(summary["nodes_lost"]) == 1
    lost_node = next(n for n in summary["nodes"] if n["node_id"] == second.node_id)
    assert lost_node["lost_attempts"] == 1 and lost_node["retried_attempts"] == 1
    label = f"{SECOND_HOST} ({second.node_id[:8]})"
    assert f"nodes lost: 1 ({label})" in stdout
    status = run_cli("status", str(out)).stdout
    assert f"nodes lost: 1 ({label})" in status
    assert "1 attempt(s) retried, 1 lost with the node" in status
