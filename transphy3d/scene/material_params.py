"""The one description of a material's parameters.

A material is a Principled BSDF: a base colour plus the scalar inputs below, optionally with a
surface texture (a procedural pattern or a user's image) that colours it and may add relief and
roughness variation. The material library schema (``materials/*.yaml``), the sampler, the
resolved ``SceneSpec`` and the Blender builder all read this module, so a new shader input is one
line in ``PRINCIPLED_INPUTS``, a new texture field one line in ``TEXTURE_FIELDS``, and a new
texture kind a name in ``TextureKind``, a ``TextureKindInfo`` and a builder in
``transphy3d/blender/materials.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

RGB = tuple[float, float, float]


@dataclass(frozen=True)
class ShaderInput:
    """A scalar input of the Principled BSDF: its key in the YAML files, Blender's socket name,
    the value a preset gets when it does not set it, and the range a preset may draw from."""

    name: str
    socket: str
    default: float
    low: float
    high: float


PRINCIPLED_INPUTS: tuple[ShaderInput, ...] = (
    ShaderInput("metallic", "Metallic", 0.0, 0.0, 1.0),
    ShaderInput("roughness", "Roughness", 0.5, 0.0, 1.0),
    ShaderInput("ior", "IOR", 1.5, 1.0, 3.0),
    ShaderInput("transmission", "Transmission Weight", 0.0, 0.0, 1.0),
    ShaderInput("coat_weight", "Coat Weight", 0.0, 0.0, 1.0),
    ShaderInput("coat_roughness", "Coat Roughness", 0.03, 0.0, 1.0),
    ShaderInput("anisotropic", "Anisotropic", 0.0, 0.0, 1.0),
    ShaderInput("anisotropic_rotation", "Anisotropic Rotation", 0.0, 0.0, 1.0),
    ShaderInput("specular_ior_level", "Specular IOR Level", 0.5, 0.0, 1.0),
    ShaderInput("thin_film_thickness", "Thin Film Thickness", 0.0, 0.0, 2000.0),
)

BASE_COLOR_SOCKET = "Base Color"
BASE_COLOR_DEFAULT: RGB = (0.8, 0.8, 0.8)
# Parameter name -> Blender socket, for everything a Principled BSDF takes from a material.
SOCKETS: dict[str, str] = {"base_color": BASE_COLOR_SOCKET} | {i.name: i.socket for i in PRINCIPLED_INPUTS}

# Surface textures. The first kinds (noise ... musgrave) are one Blender pattern in object
# coordinates times ``scale`` mixing the base colour with ``color2``; the surface kinds after them
# (wood ... image) are box-projected onto the faces of the part, drawn in pattern units of
# 1/``scale`` metres (the ``unit`` below) and may add relief and roughness variation.
TextureKind = Literal[
    "none",
    "noise",
    "checker",
    "wave",
    "voronoi",
    "brick",
    "musgrave",
    "wood",
    "planks",
    "marble",
    "laminate",
    "fabric",
    "brushed",
    "tiles",
    "plastic",
    "image",
]
TEXTURE_KINDS: tuple[str, ...] = get_args(TextureKind)
TEXTURE_SCALE_DEFAULT = 10.0
TEXTURE_SCALE_MAX = 1000.0
TEXTURE_COLOR2_DEFAULT: RGB = (0.2, 0.2, 0.2)
TEXTURE_CONTRAST_DEFAULT = 1.0
# A textured surface's pattern starts at a random point: ``offset`` is drawn uniformly in
# [0, TEXTURE_OFFSET_RANGE) pattern units per axis, so two tables of one preset differ.
TEXTURE_OFFSET_RANGE = 100.0
# The image kind: users' own pictures (``environment.textures.directory``), turned by a right angle.
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".exr")
IMAGE_ROTATIONS_DEG: tuple[float, ...] = (0.0, 90.0, 180.0, 270.0)


@dataclass(frozen=True)
class TextureField:
    """A scalar field of a texture that a preset may set: its key, the range a preset may draw
    from, and the value it has when neither the preset nor the kind (``TextureKindInfo``) sets it.
    The defaults change nothing: a texture recorded before the field existed renders as it did."""

    name: str
    default: float
    low: float
    high: float
    doc: str


TEXTURE_FIELDS: tuple[TextureField, ...] = (
    TextureField("bump", 0.0, 0.0, 1.0, "strength of the relief the pattern drives (Bump node)"),
    TextureField("roughness_variation", 0.0, 0.0, 1.0, "roughness moves by up to this where the pattern says"),
    TextureField(
        "variation", 0.0, 0.0, 1.0, "shade variation between boards or tiles; in other kinds, blotches of tone"
    ),
    TextureField("aspect", 1.0, 1.0, 50.0, "board or tile length over its width (tiles above 1: running bond)"),
    TextureField("gap", 0.0, 0.0, 0.5, "joint (gap, grout, mortar) width, a fraction of a unit"),
    TextureField("rotation_deg", 0.0, -360.0, 360.0, "turn of the pattern in the face's plane"),
)


@dataclass(frozen=True)
class TextureKindInfo:
    """A texture kind: what one pattern unit (1/``scale`` metres) is, its ``scale`` when a preset
    sets none, and the ``TEXTURE_FIELDS`` values it has when a preset does not set them."""

    name: str
    unit: str
    scale: float = TEXTURE_SCALE_DEFAULT
    defaults: tuple[tuple[str, float], ...] = ()

    def default(self, field: str) -> float:
        return dict(self.defaults).get(field, TEXTURE_FIELD_DEFAULTS[field])


TEXTURE_FIELD_DEFAULTS: dict[str, float] = {f.name: f.default for f in TEXTURE_FIELDS}
_PATTERN = "Blender's pattern scale (object coordinates x scale)"
TEXTURE_KIND_INFO: dict[str, TextureKindInfo] = {
    k.name: k
    for k in (
        TextureKindInfo("none", "no texture"),
        *(TextureKindInfo(name, _PATTERN) for name in ("noise", "checker", "wave", "voronoi", "brick", "musgrave")),
        TextureKindInfo(
            "wood", "growth-ring spacing", 120.0, (("bump", 0.15), ("roughness_variation", 0.1), ("variation", 0.2))
        ),
        TextureKindInfo(
            "planks",
            "board width",
            6.5,
            (("aspect", 8.0), ("gap", 0.01), ("variation", 0.5), ("bump", 0.4), ("roughness_variation", 0.15)),
        ),
        TextureKindInfo(
            "marble", "spacing of the main veins", 4.0, (("roughness_variation", 0.05), ("variation", 0.1))
        ),
        TextureKindInfo(
            "laminate", "speckle size", 400.0, (("bump", 0.05), ("roughness_variation", 0.05), ("variation", 0.1))
        ),
        TextureKindInfo("fabric", "thread spacing", 350.0, (("bump", 0.5), ("variation", 0.15))),
        TextureKindInfo(
            "brushed",
            "width of a brushing streak",
            800.0,
            (("bump", 0.03), ("roughness_variation", 0.15), ("variation", 0.1)),
        ),
        TextureKindInfo(
            "tiles",
            "tile width (the short side)",
            3.3,
            (("gap", 0.015), ("variation", 0.2), ("bump", 0.6), ("roughness_variation", 0.5)),
        ),
        TextureKindInfo(
            "plastic", "size of the moulded orange-peel dimples", 500.0, (("bump", 0.15), ("roughness_variation", 0.15))
        ),
        TextureKindInfo("image", "one tile of the image", 1.0, (("bump", 0.1),)),
    )
}
assert tuple(TEXTURE_KIND_INFO) == TEXTURE_KINDS, "every texture kind needs a TextureKindInfo"
# The kinds drawn in pattern units on box-projected faces, with relief (the rest: plain procedural
# patterns in texture coordinates, without relief).
SURFACE_KINDS: tuple[str, ...] = TEXTURE_KINDS[TEXTURE_KINDS.index("wood") :]
