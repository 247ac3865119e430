"""Value checks of the per-frame arrays, one function per channel (the channel table wires them):
each takes the array, the scene's facts and the arrays of the channels it needs (``Step.needs``)
and returns its problems, one short sentence each. Shapes are checked by the validator from the
table itself."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from transphy3d.output.contract import SensorCamera

UNIT_TOLERANCE = 5e-3  # half-float normals are unit to within this
NOCS_TOLERANCE = 2e-3  # half floats round values near 1 by up to 5e-4


@dataclass(frozen=True)
class SceneFacts:
    """What a check may compare against: the scene's instance ids and its depth camera."""

    instance_ids: frozenset[int]
    sensor: SensorCamera | None = None


def finite_non_negative(array: np.ndarray, facts: SceneFacts) -> list[str]:
    if not np.all(np.isfinite(array)) or (array.size and array.min() < 0):
        return ["must be finite and >= 0"]
    return []


def finite(array: np.ndarray, facts: SceneFacts) -> list[str]:
    return [] if np.all(np.isfinite(array)) else ["must be finite"]


def unit_where_hit(normal: np.ndarray, facts: SceneFacts, depth: np.ndarray) -> list[str]:
    """Unit length where a surface was hit (depth > 0), zero elsewhere."""
    problems = []
    hit = depth > 0
    lengths = np.linalg.norm(normal[hit], axis=-1)
    if lengths.size and np.abs(lengths - 1).max() > UNIT_TOLERANCE:
        problems.append(f"not unit length (worst {lengths.min():.3f}..{lengths.max():.3f})")
    if normal[~hit].any():
        problems.append("must be 0 where depth is 0")
    return problems


def known_instances(mask: np.ndarray, facts: SceneFacts, depth: np.ndarray) -> list[str]:
    """Ids of objects.json (or 0) only, and 0 where nothing was hit."""
    problems = []
    unknown = set(np.unique(mask).tolist()) - facts.instance_ids - {0}
    if unknown:
        problems.append(f"holds ids {sorted(unknown)} not in objects.json")
    if mask[~(depth > 0)].any():
        problems.append("must be 0 where depth is 0")
    return problems


def within_sensor_range(raw: np.ndarray, facts: SceneFacts) -> list[str]:
    """Finite, 0 (no return) or within the depth camera's range."""
    limit = facts.sensor.max_depth_m if facts.sensor is not None else np.inf
    if not np.all(np.isfinite(raw)) or (raw.size and (raw.min() < 0 or raw.max() > limit + 1e-3)):
        return [f"must be finite, 0 or within the sensor's range (<= {limit} m)"]
    return []


def unit_cube_on_objects(nocs: np.ndarray, facts: SceneFacts, mask: np.ndarray) -> list[str]:
    """Within [0, 1] on object pixels, (0, 0, 0) elsewhere."""
    problems = []
    on_object = mask > 0
    values = nocs[on_object]
    if not np.all(np.isfinite(values)) or (
        values.size and (values.min() < -NOCS_TOLERANCE or values.max() > 1 + NOCS_TOLERANCE)
    ):
        problems.append("must lie within [0, 1] on objects")
    if nocs[~on_object].any():
        problems.append("must be 0 where the mask is 0")
    return problems
