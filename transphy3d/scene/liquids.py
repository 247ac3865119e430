"""Liquids in containers: drawn when a scene is sampled, poured after physics.

Sampling draws, from each container's own stream (``liquid``, instance id), whether it holds a
liquid, the type, the preset's values and the fill level; nothing else in the scene moves. After
physics, ``pour`` decides from the settled pose whether the container stands upright enough to
hold it and where the level free surface lies; both are recorded in scene.yaml, so a replay is
exact. Only procedural families with a parametric cavity hold liquid: a static asset's inside is
not known.
"""

from __future__ import annotations

import math

import numpy as np
import trimesh

from transphy3d.rng import stream
from transphy3d.scene.config import LiquidConfig
from transphy3d.scene.liquid_mesh import Cavity, Interfaces, cavity, has_cavity, interfaces
from transphy3d.scene.liquid_presets import LIQUID_PRESETS
from transphy3d.scene.meshes import object_mesh
from transphy3d.scene.spec import LiquidSpec, ObjectSpec, SceneSpec

MAX_TILT_DEG = 30.0  # a container leaning further holds no liquid
RIM_MARGIN = 0.002  # metres the level stays below the lowest point of the opening


def can_hold_liquid(obj: ObjectSpec) -> bool:
    """True for procedural containers whose cavity is known."""
    return obj.source.kind == "procedural" and has_cavity(obj.source.family)


def sample_liquid(config: LiquidConfig, obj: ObjectSpec, seed: int) -> LiquidSpec | None:
    """The liquid of ``obj`` (None: it holds none), from its own stream."""
    if not can_hold_liquid(obj):
        return None
    rng = stream(seed, "liquid", obj.instance_id)
    if not rng.random() < config.probability:
        return None
    kind = str(config.types.sample(rng))
    preset = LIQUID_PRESETS[kind]
    return LiquidSpec(
        type=kind,
        fill=float(config.fill.sample(rng)),
        ior=float(preset.ior.sample(rng)),
        color=tuple(preset.color.sample(rng)),
        density=float(preset.density.sample(rng)),
        scatter=float(preset.scatter.sample(rng)),
    )


def object_cavity(obj: ObjectSpec) -> Cavity:
    source = obj.source
    return cavity(source.family, source.params, source.segments, obj.scale)


def world_up_in(pose: np.ndarray) -> np.ndarray:
    """World up (+z) in the frame of an object at ``pose`` (object_to_world)."""
    return np.asarray(pose, dtype=float)[:3, :3].T @ np.array([0.0, 0.0, 1.0])


def liquid_mesh(obj: ObjectSpec) -> trimesh.Trimesh:
    """The poured liquid of ``obj`` in the object's own frame (its object_to_world applies)."""
    if not obj.filled:
        raise ValueError(f"{obj.name} holds no liquid")
    up = world_up_in(obj.settled_pose.matrix())
    return object_cavity(obj).liquid(up, obj.liquid.level)


def liquid_interfaces(obj: ObjectSpec) -> Interfaces:
    """The filled container ``obj`` as the surfaces between container, liquid and air (its frame)."""
    if not obj.filled:
        raise ValueError(f"{obj.name} holds no liquid")
    up = world_up_in(obj.settled_pose.matrix())
    return interfaces(object_mesh(obj), object_cavity(obj), up, obj.liquid.level)


def _blocked(mesh: trimesh.Trimesh, others: list[trimesh.Trimesh]) -> bool:
    """True if another object (posed, world frame) reaches into the liquid (posed)."""
    lo, hi = mesh.bounds
    for other in others:
        olo, ohi = other.bounds
        if np.any(ohi < lo) or np.any(olo > hi):
            continue
        if mesh.contains(other.vertices).any() or other.contains(mesh.vertices).any():
            return True
    return False


def _pour_one(spec: SceneSpec, obj: ObjectSpec, posed: dict[int, trimesh.Trimesh]) -> LiquidSpec:
    liquid = obj.liquid
    if spec.physics.mode == "fall":
        return liquid.model_copy(update={"outcome": "fall"})
    pose = obj.settled_pose.matrix()
    up = world_up_in(pose)
    if math.degrees(math.acos(float(np.clip(up[2], -1.0, 1.0)))) > MAX_TILT_DEG:
        return liquid.model_copy(update={"outcome": "not_upright"})
    inner = object_cavity(obj)
    volume = inner.fill_volume(liquid.fill)
    level = inner.level_for(up, volume)
    if level > inner.lowest_rim(up) - RIM_MARGIN:
        return liquid.model_copy(update={"outcome": "spills"})
    mesh = inner.liquid(up, level).apply_transform(pose)
    if _blocked(mesh, [m for i, m in posed.items() if i != obj.instance_id]):
        return liquid.model_copy(update={"outcome": "blocked"})
    return liquid.model_copy(update={"outcome": "filled", "level": level, "volume_ml": volume * 1e6})


def pour(spec: SceneSpec) -> SceneSpec:
    """``spec`` (settled) with every undecided liquid poured or not (``LiquidSpec.outcome``)."""
    pending = {o.instance_id for o in spec.objects if o.liquid is not None and o.liquid.outcome is None}
    if not pending:
        return spec
    posed = {
        o.instance_id: object_mesh(o).apply_transform(o.settled_pose.matrix()) for o in spec.objects if o.settled_pose
    }
    objects = [
        o.model_copy(update={"liquid": _pour_one(spec, o, posed)}) if o.instance_id in pending else o
        for o in spec.objects
    ]
    return spec.model_copy(update={"objects": objects})
