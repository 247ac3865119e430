"""The material library and the one description of material parameters: every shipped material
file loads, every preset samples values inside the ranges the description allows (texture fields
included), a new shader input or texture field needs no change outside scene/material_params.py,
and scene.yaml files recorded before the surface textures existed still load."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import REPO

from transphy3d.documents import load_yaml_file, validate_document
from transphy3d.errors import UserError
from transphy3d.rng import stream
from transphy3d.scene import material_params as mp
from transphy3d.scene.materials import MaterialClassFile, TextureConfig, load_library, sample_material
from transphy3d.scene.recorded import load_spec
from transphy3d.scene.spec import MaterialSpec, PrincipledParams, TextureSpec

MATERIALS = REPO / "materials"
LIBRARY_FILES = sorted(MATERIALS.glob("*.yaml"))


def test_the_library_holds_every_material_file() -> None:
    library = load_library(MATERIALS)
    assert len(LIBRARY_FILES) >= 9 and len(library.classes) == len(LIBRARY_FILES)


@pytest.mark.parametrize("path", LIBRARY_FILES, ids=[p.stem for p in LIBRARY_FILES])
def test_every_preset_samples_inside_the_described_ranges(path) -> None:
    library = load_library(MATERIALS)
    name = validate_document(MaterialClassFile, load_yaml_file(path), str(path)).class_name
    for preset in library.classes[name].presets:
        for seed in range(3):
            material = sample_material(library, f"{name}/{preset}", stream(seed, "test", name, preset))
            params = material.params
            assert isinstance(params, PrincipledParams) and material.preset == preset
            for shader_input in mp.PRINCIPLED_INPUTS:
                assert shader_input.low <= getattr(params, shader_input.name) <= shader_input.high
            assert all(0.0 <= c <= 1.0 for c in params.base_color)
            assert material.texture.type in mp.TEXTURE_KINDS
            _check_texture(material.texture)
            # What scene.yaml and objects.json record reads back as the same material.
            assert MaterialSpec.model_validate(material.model_dump(mode="json", by_alias=True)) == material


def _check_texture(texture: TextureSpec) -> None:
    """A sampled texture: a textured kind writes out every field, inside its described range."""
    if texture.type == "none":
        assert texture.offset is None and all(getattr(texture, f.name) is None for f in mp.TEXTURE_FIELDS)
        return
    assert 0.0 < texture.scale <= mp.TEXTURE_SCALE_MAX
    assert 0.0 <= texture.contrast <= 1.0 and all(0.0 <= c <= 1.0 for c in texture.color2)
    assert all(0.0 <= v < mp.TEXTURE_OFFSET_RANGE for v in texture.offset)
    for field in mp.TEXTURE_FIELDS:
        assert field.low <= getattr(texture, field.name) <= field.high, field.name


# What each surface class must offer: real-looking kinds for every surface, so that no table or floor
# is drawn from plain procedural patterns alone.
SURFACE_KINDS_OF_CLASS = {
    "table": {"wood", "laminate", "marble", "fabric", "brushed", "plastic", "planks"},
    "floor": {"planks", "tiles", "plastic", "fabric"},
    "container": {"plastic", "laminate", "brushed", "planks"},
    "wall": {"plastic", "tiles", "planks"},
}
# Preset names users and recorded scenes refer to.
KEPT_PRESETS = {
    "table": {"wood", "laminate", "marble", "fabric"},
    "floor": {"wood_planks", "concrete", "tiles", "carpet"},
    "container": {"plastic_bin", "cardboard", "metal_tray"},
    "wall": {"painted", "plaster", "brick"},
}


@pytest.mark.parametrize("name", sorted(SURFACE_KINDS_OF_CLASS))
def test_surface_classes_use_the_surface_kinds_and_keep_their_preset_names(name: str) -> None:
    cls = load_library(MATERIALS).classes[name]
    assert KEPT_PRESETS[name] <= set(cls.presets)
    kinds = set()
    for preset in cls.presets.values():
        kinds |= set(preset.texture.type.values())
    assert SURFACE_KINDS_OF_CLASS[name] <= kinds
    # Drawn by weight, every surface class mostly looks like a real surface, not a plain pattern.
    drawn = [sample_material(load_library(MATERIALS), name, stream(seed, "kinds", name)) for seed in range(200)]
    share = np.mean([m.texture.type in mp.SURFACE_KINDS for m in drawn])
    assert share > 0.75, (name, share)


def test_same_seed_same_texture_and_placement_differs_between_seeds() -> None:
    library = load_library(MATERIALS)
    a, b = (sample_material(library, "floor/wood_planks", stream(seed, "t")) for seed in (0, 1))
    assert sample_material(library, "floor/wood_planks", stream(0, "t")) == a
    assert a.texture.offset != b.texture.offset and a.texture.scale != b.texture.scale


def test_every_texture_kind_is_described() -> None:
    assert tuple(mp.TEXTURE_KIND_INFO) == mp.TEXTURE_KINDS
    assert set(mp.SURFACE_KINDS) == {
        "wood", "planks", "marble", "laminate", "fabric", "brushed", "tiles", "plastic", "image"
    }  # fmt: skip
    fields = {f.name for f in mp.TEXTURE_FIELDS}
    assert fields <= set(TextureSpec.model_fields) and fields <= set(TextureConfig.model_fields)
    for info in mp.TEXTURE_KIND_INFO.values():
        assert 0.0 < info.scale <= mp.TEXTURE_SCALE_MAX and info.unit
        for field in mp.TEXTURE_FIELDS:
            assert field.low <= info.default(field.name) <= field.high
        assert set(dict(info.defaults)) <= fields
    # The plain patterns change nothing by default (no relief, no roughness variation, no turn), so
    # recorded scenes that use them render unchanged.
    for kind in ("noise", "checker", "wave", "voronoi", "brick", "musgrave"):
        for field in mp.TEXTURE_FIELDS:
            assert mp.TEXTURE_KIND_INFO[kind].default(field.name) == field.default


def test_scenes_recorded_before_the_surface_textures_load() -> None:
    """A scene.yaml of 0.1.0 (plain pattern kinds, no texture fields) loads; absent fields read as the
    defaults under which it rendered."""
    spec = load_spec(REPO / "tests" / "scene" / "data" / "scene_before_surfaces.yaml")
    textures = [p.material.texture for p in spec.environment.parts] + [spec.environment.room.material.texture]
    assert {t.type for t in textures} >= {"checker", "noise"}
    for texture in textures:
        assert texture.offset is None and texture.image is None
        for field in mp.TEXTURE_FIELDS:
            assert getattr(texture, field.name) is None and texture.value(field.name) == field.default


def test_texture_spec_is_strict() -> None:
    with pytest.raises(ValueError, match=r"Extra inputs are not permitted"):
        TextureSpec.model_validate({"type": "wood", "unknown_key": 1})
    with pytest.raises(ValueError, match="needs the image's path"):
        TextureSpec(type="image")
    with pytest.raises(ValueError, match="only an 'image' texture has one"):
        TextureSpec(type="tiles", image="/x.png")
    with pytest.raises(ValueError, match=r"less than or equal to 0\.5"):
        TextureSpec(type="tiles", gap=0.7)
    assert TextureSpec(type="tiles").pattern_scale() == mp.TEXTURE_KIND_INFO["tiles"].scale


def test_a_preset_cannot_name_an_image_and_texture_fields_are_range_checked(tmp_path) -> None:
    (tmp_path / "odd.yaml").write_text("class: odd\npresets:\n  a: {texture: {type: image}}\n")
    with pytest.raises(UserError, match=r"presets\.a\.texture\.type: value 'image' not allowed"):
        load_library(tmp_path)
    (tmp_path / "odd.yaml").write_text("class: odd\npresets:\n  a: {texture: {type: tiles, bump: 2}}\n")
    with pytest.raises(UserError, match=r"presets\.a\.texture\.bump: value 2 out of range"):
        load_library(tmp_path)


def test_unset_texture_fields_take_the_kinds_defaults(tmp_path) -> None:
    (tmp_path / "plain.yaml").write_text("class: plain\npresets:\n  a: {texture: {type: planks, gap: 0.02}}\n")
    texture = sample_material(load_library(tmp_path), "plain", np.random.default_rng(0)).texture
    info = mp.TEXTURE_KIND_INFO["planks"]
    assert texture.gap == 0.02 and texture.scale == info.scale
    assert texture.aspect == info.default("aspect") and texture.bump == info.default("bump")


def test_the_description_drives_the_preset_schema_and_the_spec() -> None:
    names = {i.name for i in mp.PRINCIPLED_INPUTS}
    assert names <= set(MaterialClassFile.model_fields["presets"].annotation.__args__[1].model_fields)
    assert set(PrincipledParams.model_fields) == names | {"base_color"}
    assert set(mp.SOCKETS) == names | {"base_color"} and len(set(mp.SOCKETS.values())) == len(mp.SOCKETS)
    for shader_input in mp.PRINCIPLED_INPUTS:
        assert shader_input.low <= shader_input.default <= shader_input.high


def test_a_preset_value_outside_the_described_range_is_a_one_line_error(tmp_path) -> None:
    (tmp_path / "odd.yaml").write_text("class: odd\npresets:\n  a: {ior: 3.5}\n")
    with pytest.raises(
        UserError, match=r"odd\.yaml: presets\.a\.ior: value 3\.5 out of range; allowed: >= 1\.0 and <= 3\.0"
    ):
        load_library(tmp_path)


def test_unset_inputs_take_the_described_default(tmp_path) -> None:
    (tmp_path / "plain.yaml").write_text("class: plain\npresets:\n  a: {roughness: 0.25}\n")
    material = sample_material(load_library(tmp_path), "plain", np.random.default_rng(0))
    assert material.params.roughness == 0.25
    for shader_input in mp.PRINCIPLED_INPUTS:
        if shader_input.name != "roughness":
            assert getattr(material.params, shader_input.name) == shader_input.default
    assert tuple(material.params.base_color) == mp.BASE_COLOR_DEFAULT and material.texture.type == "none"
