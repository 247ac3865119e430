"""Typed documents: YAML read with line numbers and without silent duplicate keys, the strict
pydantic bases every file format of the project uses, validation errors as one line naming the
file, the key and what is allowed, and settings models whose fields carry their command-line
flags (``option``, ``Settings``)."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from transphy3d.errors import UnreadableFileError, UserError
from transphy3d.reading import read_yaml


class StrictModel(BaseModel):
    """A document or record: unknown keys are errors; fields may be given by name or alias."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)


class FrozenModel(StrictModel):
    """An immutable settings model (scene configs, material presets, trainer settings)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)


def load_yaml_file(path: str | Path) -> Any:
    """Parse a YAML file as untrusted input (``transphy3d.reading``): size, encoding, depth and
    aliases checked; every problem is a one-line UserError with the line and column."""
    return read_yaml(path)


def _annotation_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            model = _annotation_model(arg)
            if model is not None:
                return model
    return None


def allowed_keys(model: type[BaseModel], loc: tuple) -> list[str] | None:
    """The keys a mapping at ``loc`` (inside ``model``) accepts, or None if not a model."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None:
            return None
        fields = {(f.alias or name): f for name, f in current.model_fields.items()}
        if part not in fields:
            return None
        current = _annotation_model(fields[part].annotation)
    if current is None:
        return None
    return sorted((f.alias or name) for name, f in current.model_fields.items())


def format_validation_error(
    error: ValidationError, model: type[BaseModel], source: str, overrides: dict[str, Any] | None = None
) -> str:
    """The first problem of a ValidationError as one line: ``source: key.path: problem``."""
    problems = error.errors(include_url=False)
    first = problems[0]
    loc = tuple(str(p) for p in first["loc"])
    # Drop pydantic's internal union-branch names from the location.
    loc = tuple(p for p in loc if not p.startswith(("function-", "tagged-union")))
    key = ".".join(loc) or "(top level)"
    for override in overrides or {}:
        if key == override or key.startswith(override + ".") or override.startswith(key + "."):
            source, key = f"--set {override}", None
            break
    if first["type"] == "extra_forbidden":
        allowed = allowed_keys(model, loc[:-1]) or []
        message = f"unknown key {loc[-1]!r}; allowed: {', '.join(allowed)}"
    elif first["type"] == "missing":
        message = "required key missing"
    else:
        message = first["msg"].removeprefix("Value error, ")
        value = first.get("input")
        if first["type"] not in ("value_error",) and not isinstance(value, dict | list):
            message += f" (got {value!r})"
    more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    return f"{source}: {key}: {message}{more}" if key else f"{source}: {message}{more}"


def validate_document(model: type[BaseModel], raw: Any, source: str, overrides: dict[str, Any] | None = None):
    """``model`` validated from ``raw`` (parsed YAML/JSON of ``source``); a one-line UserError if invalid."""
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise UserError(format_validation_error(error, model, source, overrides)) from None


def validate_file(model: type[BaseModel], raw: Any, source: str | Path):
    """``model`` validated from ``raw`` (parsed from the file ``source``); an invalid document is
    an ``UnreadableFileError`` (one line naming the file and the key; also a ValueError, for
    readers that count damaged files)."""
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise UnreadableFileError(format_validation_error(error, model, str(source))) from None


# ------------------------------------------------------------------------- settings models
def option(
    default: Any, help: str, flag: str | None = None, *, ge: float | None = None, gt: float | None = None, **cli: Any
) -> Any:
    """A field of a settings model: its default, its range, its help text and, with ``flag``, its
    command-line option (``cli``: argparse keywords such as ``metavar``, ``nargs``, ``const``;
    ``group`` for the help section; ``shown`` for the default as the help shows it; ``dest`` for
    an input the model maps onto this field and others). ``transphy3d.cli.options`` builds the
    option from it."""
    extra = {"cli": {"flag": flag, **cli}} if flag else None
    return Field(default, ge=ge, gt=gt, description=help, json_schema_extra=extra)


class Settings(FrozenModel):
    """A settings model (trainer, sampler, farm): a validation error becomes a one-line UserError
    naming the command-line flag."""

    def __init__(self, **data: Any):
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise UserError(_settings_problem(error, type(self))) from None


def flag_of(model: type[BaseModel], loc: tuple) -> str:
    """The command-line flag of the field at ``loc`` (its dotted name when it has none)."""
    current: Any = model
    for part in loc:
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            break
        extra = field.json_schema_extra
        cli = extra.get("cli") if isinstance(extra, dict) else None
        if cli and cli.get("flag"):
            return cli["flag"]
        current = field.annotation
    return ".".join(str(p) for p in loc)


_BOUNDS = {"greater_than_equal": ("ge", ">="), "greater_than": ("gt", ">")}


def _settings_problem(error: ValidationError, model: type[BaseModel]) -> str:
    first = error.errors(include_url=False)[0]
    value = first.get("input")
    where = flag_of(model, tuple(first["loc"]))
    if first["type"] in _BOUNDS:
        key, symbol = _BOUNDS[first["type"]]
        return f"{where}: must be {symbol} {first['ctx'][key]}, got {value}"
    shown = "" if isinstance(value, dict) else f"{value!r}: "
    return f"{where}: {shown}{first['msg'].removeprefix('Value error, ')}"
