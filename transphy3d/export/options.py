"""The choices of ``transphy3d export`` (no heavy imports: the command line reads them for its help)."""

from __future__ import annotations

FORMATS = ("bop", "coco", "transphy3d")
DEFAULT_SPLIT = "train_pbr"  # bop: BOP's split for physically based training renders
CATEGORY_KINDS = ("family", "material", "transparency")  # coco: what a category is
IMAGE_MODES = ("link", "copy")  # coco: how the frames get into the export
DEFAULT_SCENE_TYPE = "materials"  # transphy3d: the release's scene type in tar names
