"""A Ray cluster of several nodes on this machine for the farm's cluster tests: a head and extra
nodes started with ``ray start`` on free ports and their own temp dir, a node lost by SIGKILL of its
raylet, and everything stopped by pid (never ``ray stop``, which would stop every Ray on the
machine). Token authentication is off for the cluster and its drivers (``RAY_AUTH_MODE``), so a
token in ``~/.ray`` does not split the nodes."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))
IP = "127.0.0.1"
# Node loss noticed within seconds rather than the default ~30 s.
ENV = {"RAY_AUTH_MODE": "disabled", "RAY_health_check_period_ms": "500", "RAY_health_check_failure_threshold": "4"}
START_TRIES = 3  # a local Ray start can time out under load (docs: Known facts)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((IP, 0))
        return probe.getsockname()[1]


def _processes() -> dict[int, tuple[int, bytes]]:
    """pid -> (parent pid, command line)."""
    out = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        out[int(pid)] = (ppid, cmdline)
    return out


def descendants(roots: set[int], processes: dict[int, tuple[int, bytes]] | None = None) -> set[int]:
    processes = processes or _processes()
    found, grew = set(roots), True
    while grew:
        grew = False
        for pid, (ppid, _) in processes.items():
            if ppid in found and pid not in found:
                found.add(pid)
                grew = True
    return found


def _check_unshare() -> None:
    import pytest

    probe = subprocess.run(["unshare", "--uts", "hostname", "probe"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot give a Ray node a host name of its own here: {probe.stderr.strip()}")


@dataclass
class Node:
    raylet: int  # pid
    node_id: str


@dataclass
class LocalCluster:
    temp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="tp3d-ray-", dir="/tmp")))
    port: int = field(default_factory=free_port)
    nodes: list[Node] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"{IP}:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """Environment for a driver joining the cluster."""
        return {**os.environ, **ENV}

    def _raylets(self) -> dict[int, str]:
        raylets = {}
        for pid, (_, cmdline) in _processes().items():
            args = cmdline.split(b"\0")
            if args and args[0].endswith(b"/raylet") and str(self.temp).encode() in cmdline:
                node_id = next((a.split(b"=", 1)[1].decode() for a in args if a.startswith(b"--node_id=")), "")
                raylets[pid] = node_id
        return raylets

    def start_node(self, cpus: int, resources: str | None = None, hostname: str | None = None) -> Node:
        """The head (first call) or another node; the node's raylet pid and Ray node id. With
        ``hostname`` the node's processes see that host name (a UTS namespace of their own): to
        the farm, another machine sharing this one's file system. Skips the test where creating
        the namespace is not allowed."""
        before = set(self._raylets())
        args = [RAY, "start", "--num-cpus", str(cpus), "--node-ip-address", IP, "--disable-usage-stats"]
        args += ["--dashboard-agent-listen-port", str(free_port()), "--temp-dir", str(self.temp)]
        if resources:
            args += ["--resources", resources]
        if not self.nodes:
            args += ["--head", "--port", str(self.port), "--include-dashboard", "false"]
            args += ["--ray-client-server-port", str(free_port())]
        else:
            args += ["--address", self.address]
        if hostname:
            _check_unshare()
            args = ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', hostname, *args]
        for attempt in range(START_TRIES):
            result = subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=180)
            if result.returncode == 0:
                break
            if attempt == START_TRIES - 1:
                raise RuntimeError(f"ray start failed: {result.stderr[-2000:]}")
            time.sleep(2)
        deadline = time.time() + 30
        while time.time() < deadline:
            new = {pid: nid for pid, nid in self._raylets().items() if pid not in before}
            if new:
                pid, node_id = next(iter(new.items()))
                self.nodes.append(Node(pid, node_id))
                return self.nodes[-1]
            time.sleep(0.1)
        raise RuntimeError("the new node's raylet did not appear")

    def lose(self, node: Node) -> None:
        """The node is lost: its raylet is killed (SIGKILL)."""
        os.kill(node.raylet, signal.SIGKILL)

    def stop(self) -> None:
        """Kill every process of this cluster (its temp dir in the command line) and their children."""
        processes = _processes()
        roots = {pid for pid, (_, cmdline) in processes.items() if str(self.temp).encode() in cmdline}
        roots |= {n.raylet for n in self.nodes}
        for pid in descendants(roots, processes) - {os.getpid()}:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.temp, ignore_errors=True)
