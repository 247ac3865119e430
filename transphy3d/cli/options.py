"""Command-line options shared by the commands, and options generated from a settings model.

A settings model (``transphy3d.dkt.settings``) declares every field's default, help text and flag
once; ``add_model_options`` turns the fields that have a flag into argparse options (nested
models included, their fields addressed by dotted names) and ``model_values`` gives back the
values the user set, nested, for the model to validate. Defaults are never repeated here: an
option the user did not give is left out and the model's default applies.
"""

from __future__ import annotations

import argparse
import types
import typing
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

CONFIG_HELP = "scene config: a shipped one by name (see `transphy3d configs`) or a path"


def add_override_argument(parser: argparse.ArgumentParser) -> None:
    """``--set KEY=VALUE`` (repeatable): overrides of a scene config's values."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set camera.frames=8 --set 'objects.count={randint: [2, 4]}' "
        "(repeatable; VALUE is YAML)",
    )


def _cli(field: FieldInfo) -> dict[str, Any] | None:
    extra = field.json_schema_extra
    return extra.get("cli") if isinstance(extra, dict) else None


def _plain(annotation: Any) -> Any:
    """``X | None`` -> X; other annotations unchanged."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _model(annotation: Any) -> type[BaseModel] | None:
    annotation = _plain(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _shown(field: FieldInfo, cli: dict[str, Any]) -> str | None:
    if "shown" in cli:
        return str(cli["shown"])
    default = field.default
    if default is None or isinstance(default, bool) or field.is_required():
        return None
    if isinstance(default, tuple | list):
        return " ".join(str(v) for v in default) if default else None
    return str(default)


def _argument(field: FieldInfo, cli: dict[str, Any]) -> dict[str, Any]:
    """argparse keywords of a field: type, choices, nargs or a store action from its annotation."""
    kwargs: dict[str, Any] = {k: v for k, v in cli.items() if k not in ("flag", "group", "shown", "dest", "exclusive")}
    annotation = _plain(field.annotation)
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is bool:
        kwargs["action"] = "store_false" if field.default else "store_true"
    elif origin is Literal:
        kwargs.update(choices=list(args), type=type(args[0]))
    elif origin is tuple and len(args) == 2 and args[1] is not Ellipsis and "metavar" in kwargs:
        kwargs.update(nargs=2, type=args[0])  # e.g. --frames-n MIN MAX
    elif origin is tuple or origin is list:
        kwargs.setdefault("type", str)  # parsed by the model (WIDTHxHEIGHT, comma lists, source specs)
    elif "dest" in cli:
        kwargs["type"] = str  # an input the model maps onto several fields (--resolution WIDTHxHEIGHT)
    elif annotation in (int, float, str):
        kwargs["type"] = annotation
    if "choices" not in kwargs and "action" not in kwargs:
        kwargs.setdefault("metavar", cli["flag"].lstrip("-").upper().replace("-", "_"))
    shown = _shown(field, cli)
    help_text = field.description or ""
    kwargs["help"] = f"{help_text} (default: {shown})" if shown else help_text
    kwargs["default"] = argparse.SUPPRESS
    if field.is_required():
        kwargs["required"] = True
    return kwargs


def add_model_options(
    parser: argparse.ArgumentParser,
    model: type[BaseModel],
    groups: dict[str, Any] | None = None,
    prefix: str = "",
) -> list[str]:
    """Add an option for every field of ``model`` (and of its nested models) that declares a
    flag, in argument groups named by the fields' ``group`` (shared through ``groups``; fields with
    the same ``exclusive`` name are mutually exclusive). Returns
    the options' destinations: the fields' dotted names."""
    groups = {} if groups is None else groups
    dests: list[str] = []
    for name, field in model.model_fields.items():
        nested = _model(field.annotation)
        if nested is not None:
            dests += add_model_options(parser, nested, groups, prefix=f"{prefix}{name}.")
            continue
        cli = _cli(field)
        if cli is None:
            continue
        target = parser
        if cli.get("group"):
            if cli["group"] not in groups:
                groups[cli["group"]] = parser.add_argument_group(cli["group"])
            target = groups[cli["group"]]
        if cli.get("exclusive"):  # flags of one mutually exclusive set
            key = f"exclusive:{cli['exclusive']}"
            if key not in groups:
                groups[key] = target.add_mutually_exclusive_group()
            target = groups[key]
        dest = f"{prefix}{cli.get('dest', name)}"
        target.add_argument(cli["flag"], dest=dest, **_argument(field, cli))
        dests.append(dest)
    return dests


def model_values(args: argparse.Namespace, dests: list[str]) -> dict[str, Any]:
    """The values the user gave for ``dests`` (dotted names), as nested dicts."""
    out: dict[str, Any] = {}
    given = vars(args)
    for dotted in dests:
        if dotted not in given:
            continue
        node = out
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = given[dotted]
    return out
