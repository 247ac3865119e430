"""``transphy3d.documents``: YAML read with line numbers and no silent duplicate keys, strict and
frozen models, validation errors as one line naming the source, the key and what is allowed, and
settings models whose errors name the command-line flag."""

from __future__ import annotations

import math

import pytest
from pydantic import Field, ValidationError

from transphy3d.documents import (
    FrozenModel,
    Settings,
    StrictModel,
    allowed_keys,
    flag_of,
    load_yaml_file,
    option,
    validate_document,
)
from transphy3d.errors import ExitCode, UserError


class Lens(StrictModel):
    focal_mm: float = Field(gt=0)
    name: str = "wide"


class Camera(StrictModel):
    frames: int
    lens: Lens | None = None
    fill_ratio: float = Field(0.5, alias="fill")


class Steps(Settings):
    steps: int = option(10, "optimiser steps", "--steps", ge=1)
    rate: float = option(1e-4, "learning rate", "--lr", gt=0)
    note: str = option("", "free text")  # no flag


def _one_line(error: pytest.ExceptionInfo) -> str:
    text = str(error.value)
    assert "\n" not in text and error.value.exit_code == ExitCode.BAD_INPUT
    return text


def test_yaml_is_read(tmp_path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("frames: 4\nlens: {focal_mm: 35.5}\nlist: [1, 2.5, x]\n")
    assert load_yaml_file(path) == {"frames": 4, "lens": {"focal_mm": 35.5}, "list": [1, 2.5, "x"]}


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        ("frames: 4\nlens:\n  focal_mm: 35\n  focal_mm: 50\n", ":4:3", "duplicate key 'focal_mm'"),
        ("frames: 4\nframes: 5\n", ":2:1", "duplicate key 'frames'"),
        ("frames: [1, 2\nlens: 3\n", ":2:5", "YAML syntax error"),
    ],
    ids=["nested duplicate", "top-level duplicate", "syntax"],
)
def test_yaml_errors_name_line_and_column(tmp_path, text: str, where: str, problem: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(UserError) as error:
        load_yaml_file(path)
    line = _one_line(error)
    assert line.startswith(f"{path}{where}: YAML syntax error") and problem in line, line


def test_a_file_that_cannot_be_read_is_named(tmp_path) -> None:
    with pytest.raises(UserError) as error:
        load_yaml_file(tmp_path / "missing.yaml")
    assert _one_line(error) == f"{tmp_path / 'missing.yaml'}: file not found"
    with pytest.raises(UserError) as error:
        load_yaml_file(tmp_path)
    assert _one_line(error) == f"{tmp_path}: is a directory, not a YAML file"


def test_strict_models_refuse_unknown_keys_and_nan_and_take_aliases() -> None:
    assert Camera.model_validate({"frames": 2, "fill": 0.25}).fill_ratio == 0.25
    assert Camera.model_validate({"frames": 2, "fill_ratio": 0.75}).fill_ratio == 0.75
    with pytest.raises(ValidationError, match="extra"):
        Camera.model_validate({"frames": 2, "frmaes": 3})
    with pytest.raises(ValidationError, match="finite"):
        Camera.model_validate({"frames": 2, "fill": math.nan})


def test_frozen_models_cannot_change() -> None:
    class Preset(FrozenModel):
        roughness: float

    preset = Preset(roughness=0.25)
    with pytest.raises(ValidationError, match="frozen"):
        preset.roughness = 0.5
    assert preset.model_copy(update={"roughness": 0.5}).roughness == 0.5 and preset.roughness == 0.25


def test_allowed_keys_follow_nested_and_optional_models() -> None:
    assert allowed_keys(Camera, ()) == ["fill", "frames", "lens"]
    assert allowed_keys(Camera, ("lens",)) == ["focal_mm", "name"]
    assert allowed_keys(Camera, ("frames",)) is None and allowed_keys(Camera, ("nope",)) is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"frames": 2, "lens": {"focal_mm": 3, "zoom": 2}}, "c.yaml: lens.zoom: unknown key 'zoom'; allowed: focal_mm, name"),
        ({"lens": {"focal_mm": 3}}, "c.yaml: frames: required key missing"),
        ({"frames": "many"}, "c.yaml: frames: Input should be a valid integer, unable to parse string as an integer (got 'many')"),
        ({"frames": 2, "lens": {"focal_mm": -1}}, "c.yaml: lens.focal_mm: Input should be greater than 0 (got -1)"),
        ({"frames": "x", "fill": "y"}, "(and 1 more problems)"),
        ([1, 2], "c.yaml: (top level): Input should be a valid dictionary or instance of Camera"),
    ],
    ids=["unknown key", "missing", "wrong type", "out of range", "several", "not a mapping"],
)  # fmt: skip
def test_validation_errors_are_one_line(raw, message: str) -> None:
    with pytest.raises(UserError) as error:
        validate_document(Camera, raw, "c.yaml")
    line = _one_line(error)
    assert line == message or (message.startswith("(") and line.endswith(message)), line


def test_a_bad_override_is_named_as_the_set_option() -> None:
    with pytest.raises(UserError) as error:
        validate_document(Camera, {"frames": 2, "lens": {"focal_mm": 0}}, "c.yaml", {"lens.focal_mm": 0})
    assert _one_line(error) == "--set lens.focal_mm: Input should be greater than 0 (got 0)"
    with pytest.raises(UserError) as error:  # an override of the mapping holding the bad key
        validate_document(Camera, {"frames": 2, "lens": {"focal_mm": 0}}, "c.yaml", {"lens": {"focal_mm": 0}})
    assert _one_line(error).startswith("--set lens: ")


def test_a_valid_document_is_returned_as_its_model() -> None:
    camera = validate_document(Camera, {"frames": 3, "lens": {"focal_mm": 24}}, "c.yaml")
    assert isinstance(camera, Camera) and camera.lens == Lens(focal_mm=24.0) and camera.fill_ratio == 0.5


def test_settings_errors_name_the_flag() -> None:
    assert Steps().steps == 10 and Steps(steps=3, rate=0.5).rate == 0.5
    for kwargs, message in [
        ({"steps": 0}, "--steps: must be >= 1, got 0"),
        ({"rate": 0.0}, "--lr: must be > 0.0, got 0.0"),
        ({"steps": "a"}, "--steps: 'a': Input should be a valid integer, unable to parse string as an integer"),
        ({"note": 3}, "note: 3: Input should be a valid string"),
    ]:
        with pytest.raises(UserError) as error:
            Steps(**kwargs)
        assert _one_line(error) == message


def test_option_carries_its_flag_and_help() -> None:
    field = Steps.model_fields["steps"]
    assert field.default == 10 and field.description == "optimiser steps"
    assert field.json_schema_extra == {"cli": {"flag": "--steps"}}
    assert Steps.model_fields["note"].json_schema_extra is None
    assert flag_of(Steps, ("rate",)) == "--lr" and flag_of(Steps, ("note",)) == "note"
