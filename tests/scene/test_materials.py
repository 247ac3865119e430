"""The material library and the one description of material parameters: every shipped material
file loads, every preset samples values inside the ranges the description allows, and a new
shader input needs no change outside scene/material_params.py."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import REPO

from transphy3d.documents import load_yaml_file, validate_document
from transphy3d.errors import UserError
from transphy3d.rng import stream
from transphy3d.scene import material_params as mp
from transphy3d.scene.materials import MaterialClassFile, load_library, sample_material
from transphy3d.scene.spec import MaterialSpec, PrincipledParams

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
            # What scene.yaml and objects.json record reads back as the same material.
            assert MaterialSpec.model_validate(material.model_dump(mode="json", by_alias=True)) == material


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
