"""The commands of ``transphy3d``: the function that adds each command's options and its
one-line help. A command's module is imported only when that command runs (or its help is
asked for), so start-up stays fast; heavy imports (bpy, torch, ray) happen inside the handlers."""

from __future__ import annotations

# command: ("module:function adding its options", one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "assets": (
        "transphy3d.cli.assets:configure",
        "static asset bank: import, fetch (BlenderKit), thumbnails, VLM filter",
    ),
    "preview": (
        "transphy3d.cli.preview:configure",
        "fast preview of a scene config or a recorded scene.yaml: contact sheet, animation, .blend",
    ),
    "render": ("transphy3d.cli.render:configure", "render N scenes on a Ray cluster (local by default), resumable"),
    "render-scene": (
        "transphy3d.cli.render_scene:configure",
        "render one scene from a scene config or a recorded scene.yaml",
    ),
    "render-server": (
        "transphy3d.cli.render_server:configure",
        "(used by render --warm-workers) render scene after scene in one process, jobs on stdin",
    ),
    "status": ("transphy3d.cli.status:configure", "what a render output directory holds, what failed and why"),
    "validate": (
        "transphy3d.cli.validate:configure",
        "check every scene of an output directory against the data contract",
    ),
    "report": (
        "transphy3d.cli.report:configure",
        "data-quality report of a render run: object share, visibility, materials, timing (HTML + JSON)",
    ),
    "export": (
        "transphy3d.cli.export:configure",
        "a render run as a BOP, COCO or published TransPhy3D (WebDataset) dataset, resumable",
    ),
    "doctor": ("transphy3d.cli.doctor:configure", "check what rendering needs on this machine, one line each"),
    "configs": ("transphy3d.cli.configs:configure", "list the scene configs shipped with the package"),
    "sample": (
        "transphy3d.cli.sample:configure",
        "print or save the resolved scene spec of a config and seed (no rendering)",
    ),
    "datasets": (
        "transphy3d.cli.datasets:configure",
        "datasets as published (DREDS, HISS, ClearGrasp, ClearPose, ...): inspect what they decode to",
    ),
    "train-dkt": ("transphy3d.cli.dkt:configure_train", "LoRA fine-tuning of Wan 2.1 for video depth/normals (DKT)"),
    "infer-dkt": (
        "transphy3d.cli.dkt:configure_infer",
        "depth (or normals) of a video of any length with a DKT checkpoint",
    ),
    "eval-dkt": (
        "transphy3d.cli.dkt:configure_eval",
        "AbsRel, RMSE, delta and temporal metrics of DKT predictions on held-out videos",
    ),
}
