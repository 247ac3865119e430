"""The one description of a material's parameters.

A material is a Principled BSDF: a base colour plus the scalar inputs below, optionally mixed
with a second colour by a procedural texture. The material library schema (``materials/*.yaml``),
the sampler, the resolved ``SceneSpec`` and the Blender builder all read this module, so a new
shader input is one line in ``PRINCIPLED_INPUTS``.
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

# Procedural textures mixing the base colour with ``color2`` (object coordinates x ``scale``).
TextureKind = Literal["none", "noise", "checker", "wave", "voronoi", "brick", "musgrave"]
TEXTURE_KINDS: tuple[str, ...] = get_args(TextureKind)
TEXTURE_SCALE_DEFAULT = 10.0
TEXTURE_SCALE_MAX = 1000.0
TEXTURE_COLOR2_DEFAULT: RGB = (0.2, 0.2, 0.2)
TEXTURE_CONTRAST_DEFAULT = 1.0
