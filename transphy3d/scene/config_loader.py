"""Load scene configs: YAML with line numbers, ``base:`` inheritance, ``--set`` overrides, and
validation errors on one line naming the file, the key and what is allowed."""

from __future__ import annotations

import hashlib
import json
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from transphy3d.errors import UserError
from transphy3d.resources import MATERIALS_DIR, shipped_config
from transphy3d.scene.config import SceneConfig
from transphy3d.scene.distributions import KINDS


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys instead of silently keeping the last one."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    mapping: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml_file(path: str | Path) -> Any:
    """Parse a YAML file; syntax errors become one-line UserErrors with line and column."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError("file not found", path=str(path)) from None
    except OSError as error:
        raise UserError(f"cannot read: {error.strerror}", path=str(path)) from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(error, "problem", None) or str(error)
        raise UserError(f"YAML syntax error: {problem}", path=where) from None


def _is_distribution(value: Any) -> bool:
    return isinstance(value, dict) and any(k in value for k in KINDS)


def deep_merge(base: dict, override: dict) -> dict:
    """``override`` on top of ``base``: mappings merge key by key, everything else (lists,
    scalars, distributions) is replaced whole."""
    out = dict(base)
    for key, value in override.items():
        current = out.get(key)
        if (
            isinstance(current, dict)
            and isinstance(value, dict)
            and not _is_distribution(current)
            and not _is_distribution(value)
        ):
            out[key] = deep_merge(current, value)
        else:
            out[key] = value
    return out


def parse_overrides(items: list[str] | None) -> dict[str, Any]:
    """``["camera.frames=8", "render.width=64"]`` -> {"camera.frames": 8, "render.width": 64}.
    Values are parsed as YAML (numbers, lists, ``{uniform: [1, 2]}``)."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key or any(not part for part in key.split(".")):
            raise UserError(f"--set {item!r}: expected KEY.PATH=VALUE, e.g. camera.frames=8")
        try:
            out[key] = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError as error:
            raise UserError(f"--set {item!r}: value is not valid YAML ({error})") from None
    return out


def apply_overrides(raw: dict, overrides: dict[str, Any]) -> dict:
    """Set dotted keys in a nested dict (creating mappings on the way)."""
    out = json.loads(json.dumps(raw))  # deep copy of plain YAML data
    for key, value in overrides.items():
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict) or _is_distribution(node.get(part)):
                node[part] = {}
            node = node[part]
        node[parts[-1]] = value
    return out


def _read_with_bases(path: Path, seen: tuple[Path, ...] = ()) -> dict:
    if path.resolve() in seen:
        chain = " -> ".join(str(p) for p in (*seen, path.resolve()))
        raise UserError(f"base configs form a cycle: {chain}", path=str(path))
    raw = load_yaml_file(path)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise UserError(f"a scene config is a mapping of sections, got {type(raw).__name__}", path=str(path))
    base = raw.get("base")
    if base is None:
        return raw
    if not isinstance(base, str):
        raise UserError("must be the path of another scene config", path=str(path), field="base")
    base_path = (path.parent / base).resolve()
    if not base_path.is_file():
        raise UserError(f"base config {base_path} not found", path=str(path), field="base")
    merged = deep_merge(_read_with_bases(base_path, (*seen, path.resolve())), raw)
    merged.pop("base", None)
    return merged


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


def _config_path(name_or_path: str | Path) -> Path:
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    candidate = shipped_config(str(name_or_path))
    return candidate if candidate.is_file() else path


def load_config_raw(name_or_path: str | Path, overrides: dict[str, Any] | None = None) -> tuple[Path, dict]:
    """The merged raw YAML data of a config (bases resolved, overrides applied)."""
    path = _config_path(name_or_path)
    raw = _read_with_bases(path)
    if overrides:
        raw = apply_overrides(raw, overrides)
    return path, raw


def validate_config(raw: dict, source: str, overrides: dict[str, Any] | None = None) -> SceneConfig:
    try:
        return SceneConfig.model_validate(raw)
    except ValidationError as error:
        raise UserError(format_validation_error(error, SceneConfig, source, overrides)) from None


def load_config(name_or_path: str | Path, overrides: dict[str, Any] | None = None) -> SceneConfig:
    """Load and validate a scene config (a path, or a name under ``scene_configs/``)."""
    path, raw = load_config_raw(name_or_path, overrides)
    config = validate_config(raw, str(path), overrides)
    from transphy3d.scene.materials import check_config_materials, load_library

    library = load_library(materials_dir(config, path))
    check_config_materials(config, library, str(path), overrides)
    return config


def materials_dir(config: SceneConfig, config_path: Path | None) -> Path:
    """The material library directory a config uses (``materials_dir`` is relative to the file)."""
    if config.materials_dir is None:
        return MATERIALS_DIR
    base = config_path.parent if config_path is not None else Path.cwd()
    return (base / config.materials_dir).resolve()


STATIC_KEYS = ("static_fraction", "asset_manifest", "static_size", "static_materials", "static_require_kept")


def config_digest(config: SceneConfig) -> str:
    """A short stable hash of a validated config (what a run directory records). The static-asset
    keys count only when static assets are used (``objects.static_fraction`` > 0), so configs
    without them keep the digest they had before those keys existed."""
    dumped = config.model_dump(mode="json", by_alias=True)
    if config.objects.static_fraction == 0:
        for key in STATIC_KEYS:
            dumped["objects"].pop(key, None)
    data = json.dumps(dumped, sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()[:16]
