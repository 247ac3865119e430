"""The material library (``materials/*.yaml``): loading, reference checks and sampling.

Each file is one class (glass, plastic, metal, ceramic, diffuse for objects; floor, table,
container, wall for surfaces) with named presets. A config refers to materials as ``class``
(a preset drawn by weight) or ``class/preset``. The bpy layer turns a sampled material into a
Cycles node tree (``transphy3d.blender.materials``).
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from transphy3d.errors import UserError
from transphy3d.scene.config import ColorDist, MaterialClassFile, MaterialPreset, SceneConfig
from transphy3d.scene.config_loader import format_validation_error, load_yaml_file
from transphy3d.scene.distributions import Distribution

OBJECT_CLASSES = ("glass", "plastic", "metal", "ceramic", "diffuse")


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
        raw = load_yaml_file(path)
        try:
            parsed = MaterialClassFile.model_validate(raw)
        except ValidationError as error:
            raise UserError(format_validation_error(error, MaterialClassFile, str(path))) from None
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


def sample_color(color: ColorDist, rng: np.random.Generator) -> list[float]:
    """Linear RGB of a colour distribution."""
    if color.rgb is not None:
        return [float(c) for c in color.rgb]
    (h0, h1), (s0, s1), (v0, v1) = color.hsv  # type: ignore[misc]
    h, s, v = rng.uniform(h0, h1), rng.uniform(s0, s1), rng.uniform(v0, v1)
    return [float(c) for c in colorsys.hsv_to_rgb(h, s, v)]


PRINCIPLED_PARAMS = (
    "metallic",
    "roughness",
    "ior",
    "transmission",
    "coat_weight",
    "coat_roughness",
    "anisotropic",
    "anisotropic_rotation",
    "specular_ior_level",
    "thin_film_thickness",
)


def _sample_preset(preset: MaterialPreset, rng: np.random.Generator) -> tuple[dict[str, Any], dict[str, Any]]:
    params: dict[str, Any] = {"base_color": sample_color(preset.base_color, rng)}
    for name in PRINCIPLED_PARAMS:
        params[name] = float(getattr(preset, name).sample(rng))
    tex = preset.texture
    texture = {
        "type": str(tex.type.sample(rng)),
        "scale": float(tex.scale.sample(rng)),
        "color2": sample_color(tex.color2, rng),
        "contrast": float(tex.contrast.sample(rng)),
    }
    return params, texture


def sample_material(library: MaterialLibrary, ref: str, rng: np.random.Generator) -> dict[str, Any]:
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
    return {
        "class": class_name,
        "preset": preset_name,
        "transparent": cls.transparent if preset.transparent is None else preset.transparent,
        "reflective": cls.reflective if preset.reflective is None else preset.reflective,
        "params": params,
        "texture": texture,
    }
