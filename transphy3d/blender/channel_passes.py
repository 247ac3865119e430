"""The beauty pass's extra channels: one function per channel that sets up the render pass making
it, and reads its scratch file back. Channels from the data pass need nothing here (their
arrays are computed by ``transphy3d.output.derive``); RGB is the beauty pass itself."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import bpy
import numpy as np

from transphy3d.output.channels import ALBEDO
from transphy3d.output.contract import frame_name
from transphy3d.output.exr import read_exr

ReadBack = Callable[[int], np.ndarray]  # frame -> the channel's array


def _compositor(scene: bpy.types.Scene) -> tuple[bpy.types.NodeTree, bpy.types.Node]:
    """The scene's compositor with the render layer passed through to the composite unchanged."""
    scene.use_nodes = True
    tree = scene.node_tree
    for node in list(tree.nodes):
        tree.nodes.remove(node)
    layers = tree.nodes.new("CompositorNodeRLayers")
    composite = tree.nodes.new("CompositorNodeComposite")
    tree.links.new(layers.outputs["Image"], composite.inputs["Image"])
    return tree, layers


def albedo_pass(scene: bpy.types.Scene, scratch: Path) -> ReadBack:
    """Cycles' denoising albedo of the beauty pass, saved per frame by a compositor file output as
    a half-float RGB EXR (linear: the view transform applies to the PNG only)."""
    scene.view_layers[0].cycles.denoising_store_passes = True
    tree, layers = _compositor(scene)
    output = tree.nodes.new("CompositorNodeOutputFile")
    output.base_path = str(scratch)
    output.format.file_format = "OPEN_EXR"
    output.format.color_depth = "16"
    output.format.exr_codec = "NONE"  # a scratch file: fastest to write and read
    output.format.color_mode = "RGB"
    output.file_slots[0].path = "######"
    tree.links.new(layers.outputs["Denoising Albedo"], output.inputs[0])

    def read_back(frame: int) -> np.ndarray:
        channels = read_exr(scratch / frame_name(frame, ".exr"))
        return np.stack([channels[c] for c in "RGB"], axis=-1).astype(np.float32)

    return read_back


BEAUTY_PASSES: dict[str, Callable[[bpy.types.Scene, Path], ReadBack]] = {ALBEDO: albedo_pass}


def end_beauty_passes(scene: bpy.types.Scene) -> None:
    """Leave the compositor off again (the passes after the beauty pass write nothing extra)."""
    scene.use_nodes = False
    scene.view_layers[0].cycles.denoising_store_passes = False
