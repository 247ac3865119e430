"""Per-node accounting of a run, for the summary and ``status``: scenes, frames and throughput of
each Ray node (frames per second while it was busy: over the union of its attempts' intervals), and
the attempts that failed there and were retried, or were lost with the node."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from transphy3d.farm.records import RetryRecord
from transphy3d.output.contract import IndexRecord


@dataclass
class NodeTally:
    node: str  # host name
    node_id: str = ""  # Ray node id
    scenes: int = 0
    frames: int = 0
    worker_seconds: float = 0.0
    retried: int = 0  # attempts that failed on this node and were tried again
    lost: int = 0  # of those, attempts lost with the node
    intervals: list[tuple[float, float]] = field(default_factory=list, repr=False)

    @property
    def label(self) -> str:
        return f"{self.node} ({self.node_id[:8]})" if self.node_id else self.node

    @property
    def busy_seconds(self) -> float:
        """Length of the union of the node's attempt intervals."""
        total, end = 0.0, float("-inf")
        for a, b in sorted(self.intervals):
            if b > end:
                total += b - max(a, end)
                end = b
        return total

    @property
    def frames_per_second(self) -> float | None:
        busy = self.busy_seconds
        return self.frames / busy if busy > 0 else None

    def as_dict(self) -> dict[str, Any]:
        fps = self.frames_per_second
        return {
            "node": self.node,
            "node_id": self.node_id,
            "scenes": self.scenes,
            "frames": self.frames,
            "worker_seconds": round(self.worker_seconds, 3),
            "busy_seconds": round(self.busy_seconds, 3),
            "frames_per_second": round(fps, 4) if fps is not None else None,
            "retried_attempts": self.retried,
            "lost_attempts": self.lost,
        }


def _finished(record: IndexRecord) -> float | None:
    try:
        return dt.datetime.fromisoformat(record.finished).timestamp() if record.finished else None
    except ValueError:
        return None


def tally(done: Iterable[IndexRecord], retried: Iterable[RetryRecord]) -> list[NodeTally]:
    """One tally per node (by Ray node id where known, else host), busiest first."""
    nodes: dict[str, NodeTally] = {}

    def node(name: str | None, node_id: str | None) -> NodeTally:
        key = node_id or name or "?"
        if key not in nodes:
            nodes[key] = NodeTally(node=name or "?", node_id=node_id or "")
        return nodes[key]

    for record in done:
        if record.recovered or not record.node:
            continue
        entry = node(record.node, record.node_id)
        entry.scenes += 1
        entry.frames += record.frames or 0
        entry.worker_seconds += record.seconds or 0.0
        end = _finished(record)
        if end is not None:
            entry.intervals.append((end - (record.seconds or 0.0), end))
    for attempt in retried:
        entry = node(attempt.node, attempt.node_id)
        entry.retried += 1
        entry.lost += attempt.node_lost
    return sorted(nodes.values(), key=lambda n: (-n.frames, n.label))


def describe_nodes(tallies: list[NodeTally], indent: str = "  ") -> list[str]:
    """One line per node."""
    lines = []
    for n in tallies:
        fps = n.frames_per_second
        line = f"{indent}node {n.label}: {n.scenes} scenes, {n.frames} frames"
        line += f", {fps:.3f} frames/s while busy" if fps is not None else ""
        if n.retried:
            line += f"; {n.retried} attempt(s) retried"
            line += f", {n.lost} lost with the node" if n.lost else ""
        lines.append(line)
    return lines
