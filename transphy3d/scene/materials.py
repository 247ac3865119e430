"""The material library (``materials/*.yaml``): its schema, loading, reference checks and sampling.

Each file is one class (glass, plastic, metal, ceramic, diffuse for objects; floor, table,
container, wall for surfaces) with named presets. A config refers to materials as ``class``
(a preset drawn by weight) or ``class/preset``. The parameters a preset may set are described
once in ``transphy3d.scene.material_params``; the Blender layer turns a sampled ``MaterialSpec``
into a Cycles node tree (``transphy3d.blender.materials``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, create_model, field_validator

from transphy3d.documents import FrozenModel, load_yaml_file, validate_document
from transphy3d.errors import UserError
from transphy3d.scene import material_params as mp
from transphy3d.scene.config import SceneConfig
from transphy3d.scene.distributions import ColorDist, Distribution, dist, parse_distribution
from transphy3d.scene.spec import MaterialSpec, PrincipledParams, TextureSpec


class _TextureConfigBase(FrozenModel):
    type: dist(allowed=[k for k in mp.TEXTURE_KINDS if k != "image"]) = parse_distribution("none")
    scale: dist(gt=0.0, le=mp.TEXTURE_SCALE_MAX) | None = None  # None: the kind's (TextureKindInfo)
    color2: ColorDist = ColorDist(rgb=mp.TEXTURE_COLOR2_DEFAULT)
    contrast: dist(ge=0.0, le=1.0) = parse_distribution(mp.TEXTURE_CONTRAST_DEFAULT)


# A preset's texture (``material_params``): the kind, its scale, the second colour, and a
# distribution for any of the texture fields (unset: the kind's default). The ``image`` kind is
# not a preset's: it comes from the config's ``environment.textures``.
TextureConfig = create_model(
    "TextureConfig",
    __base__=_TextureConfigBase,
    __doc__="A preset's surface texture: a kind of ``material_params.TEXTURE_KINDS`` and its fields.",
    **{f.name: (dist(ge=f.low, le=f.high) | None, None) for f in mp.TEXTURE_FIELDS},  # type: ignore[misc]
)


class _PresetBase(FrozenModel):
    weight: float = Field(1.0, ge=0.0)
    transparent: bool | None = None  # overrides the class's flag
    reflective: bool | None = None
    base_color: ColorDist = ColorDist(rgb=mp.BASE_COLOR_DEFAULT)
    texture: TextureConfig = TextureConfig()  # type: ignore[valid-type]


# One named preset of a class: a distribution (within the input's range) for every shader input.
MaterialPreset = create_model(
    "MaterialPreset",
    __base__=_PresetBase,
    __doc__="One named material preset of a class (``materials/*.yaml``): Principled BSDF parameters.",
    **{
        i.name: (dist(ge=i.low, le=i.high), parse_distribution(i.default))  # type: ignore[misc]
        for i in mp.PRINCIPLED_INPUTS
    },
)


class MaterialClassFile(FrozenModel):
    """A material library file: one class and its presets."""

    class_name: str = Field(alias="class")
    description: str = ""
    transparent: bool = False
    reflective: bool = False
    presets: dict[str, MaterialPreset]  # type: ignore[valid-type]

    @field_validator("presets")
    @classmethod
    def _non_empty(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            raise ValueError("a material class needs at least one preset")
        return value


@dataclass(frozen=True)
class MaterialLibrary:
    directory: Path
    classes: dict[str, MaterialClassFile]

    def names(self) -> list[str]:
        """Every valid reference: classes and class/preset pairs."""
        out = []
        for name, cls in sorted(self.classes.items()):
            out.append(name)
            out += [f"{name}/{preset}" for preset in sorted(cls.presets)]
        return out

    def resolve(self, ref: str) -> tuple[str, str | None]:
        cls, _, preset = ref.partition("/")
        if cls not in self.classes or (preset and preset not in self.classes[cls].presets):
            raise KeyError(ref)
        return cls, preset or None


_CACHE: dict[Path, MaterialLibrary] = {}


def load_library(directory: str | Path) -> MaterialLibrary:
    """Load and validate every ``*.yaml`` of a material library directory (cached)."""
    directory = Path(directory).resolve()
    if directory in _CACHE:
        return _CACHE[directory]
    if not directory.is_dir():
        raise UserError("material library directory not found", path=str(directory))
    classes: dict[str, MaterialClassFile] = {}
    for path in sorted(directory.glob("*.yaml")):
        parsed = validate_document(MaterialClassFile, load_yaml_file(path), str(path))
        if parsed.class_name in classes:
            raise UserError(f"class {parsed.class_name!r} is defined twice", path=str(path), field="class")
        classes[parsed.class_name] = parsed
    if not classes:
        raise UserError("no material files (*.yaml) in the material library", path=str(directory))
    library = MaterialLibrary(directory, classes)
    _CACHE[directory] = library
    return library


def material_refs(config: SceneConfig) -> dict[str, Distribution]:
    """Every material reference field of a config, by dotted key."""
    env = config.environment
    return {
        "environment.floor_material": env.floor_material,
        "environment.tabletop.material": env.tabletop.material,
        "environment.container.material": env.container.material,
        "environment.room.material": env.room.material,
        "objects.materials": config.objects.materials,
    }


def check_config_materials(
    config: SceneConfig, library: MaterialLibrary, source: str, overrides: dict[str, Any] | None = None
) -> None:
    """Raise a one-line UserError for the first reference the library does not define."""
    for key, distribution in material_refs(config).items():
        for ref in distribution.values():
            try:
                library.resolve(ref)
            except KeyError:
                where = (source, key) if key not in (overrides or {}) else (f"--set {key}", None)
                raise UserError(
                    f"unknown material {ref!r} (library {library.directory}); allowed: {', '.join(library.names())}",
                    path=where[0],
                    field=where[1],
                ) from None


def sample_texture(texture: Any, rng: np.random.Generator) -> TextureSpec:
    """A preset's texture resolved: every field of a textured kind written out (unset ones at the
    kind's default, drawing nothing) and a random ``offset``; a material without a texture draws
    what it drew before the texture fields existed."""
    kind = str(texture.type.sample(rng))
    info = mp.TEXTURE_KIND_INFO[kind]
    values: dict[str, Any] = {
        "type": kind,
        "scale": float(texture.scale.sample(rng)) if texture.scale is not None else info.scale,
        "color2": texture.color2.sample(rng),
        "contrast": float(texture.contrast.sample(rng)),
    }
    if kind != "none":
        for field in mp.TEXTURE_FIELDS:
            distribution = getattr(texture, field.name)
            values[field.name] = (
                float(distribution.sample(rng)) if distribution is not None else info.default(field.name)
            )
        values["offset"] = tuple(float(v) for v in rng.uniform(0.0, mp.TEXTURE_OFFSET_RANGE, 3))
    return TextureSpec(**values)


def _sample_preset(preset: Any, rng: np.random.Generator) -> tuple[PrincipledParams, TextureSpec]:
    params = PrincipledParams(
        base_color=preset.base_color.sample(rng),
        **{i.name: float(getattr(preset, i.name).sample(rng)) for i in mp.PRINCIPLED_INPUTS},
    )
    return params, sample_texture(preset.texture, rng)


def sample_material(library: MaterialLibrary, ref: str, rng: np.random.Generator) -> MaterialSpec:
    """A resolved material (what ``scene.yaml`` and ``objects.json`` record) for a reference."""
    class_name, preset_name = library.resolve(ref)
    cls = library.classes[class_name]
    if preset_name is None:
        names = sorted(cls.presets)
        weights = np.array([cls.presets[n].weight for n in names], dtype=np.float64)
        if weights.sum() <= 0:
            weights = np.ones_like(weights)
        preset_name = names[int(rng.choice(len(names), p=weights / weights.sum()))]
    preset = cls.presets[preset_name]
    params, texture = _sample_preset(preset, rng)
    return MaterialSpec(
        class_name=class_name,
        preset=preset_name,
        transparent=cls.transparent if preset.transparent is None else preset.transparent,
        reflective=cls.reflective if preset.reflective is None else preset.reflective,
        params=params,
        texture=texture,
    )
