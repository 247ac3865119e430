"""TransPhy3D: synthetic videos of transparent and reflective objects, and a DKT trainer.

The public API, top to bottom (``examples/render_one.py`` runs it)::

    import transphy3d

    spec = transphy3d.sample_scene("tiny", seed=3)       # a shipped config name or a path; no Blender
    transphy3d.render_scene(spec, "out/scene_000003")    # physics, Cycles, the data contract on disk
    scene = transphy3d.open_scene("out/scene_000003")
    frame = scene.frame(0)                               # rgb, depth, normal, mask, K, world_to_camera

The names are imported on first use, so ``import transphy3d`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from transphy3d._version import __version__

if TYPE_CHECKING:
    from transphy3d.output.reader import Scene, iter_scenes, open_scene
    from transphy3d.pipeline import render_scene, sample_scene
    from transphy3d.scene.config_loader import load_config
    from transphy3d.scene.recorded import load_spec
    from transphy3d.scene.spec import SceneSpec

_API = {
    "load_config": "transphy3d.scene.config_loader",
    "sample_scene": "transphy3d.pipeline",
    "load_spec": "transphy3d.scene.recorded",
    "SceneSpec": "transphy3d.scene.spec",
    "render_scene": "transphy3d.pipeline",
    "open_scene": "transphy3d.output.reader",
    "iter_scenes": "transphy3d.output.reader",
    "Scene": "transphy3d.output.reader",
}
__all__ = ["Scene", "SceneSpec", "__version__", "iter_scenes", "load_config", "load_spec", "open_scene",
           "render_scene", "sample_scene"]  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'transphy3d' has no attribute {name!r}")
