"""Load scene configs: a shipped name or a path, ``base:`` inheritance, ``--set`` overrides, the
material references checked against the library, and the config digest a run records."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from transphy3d.documents import load_yaml_file, validate_document
from transphy3d.errors import UserError
from transphy3d.resources import MATERIALS_DIR, shipped_config
from transphy3d.scene.config import SceneConfig
from transphy3d.scene.distributions import KINDS
from transphy3d.scene.materials import check_config_materials, load_library


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


def config_path(name_or_path: str | Path) -> Path:
    """The file of a config given by path, or by the name of a shipped config (``tiny``)."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    candidate = shipped_config(str(name_or_path))
    return candidate if candidate.is_file() else path


def load_config_raw(name_or_path: str | Path, overrides: dict[str, Any] | None = None) -> tuple[Path, dict]:
    """The merged raw YAML data of a config (bases resolved, overrides applied)."""
    path = config_path(name_or_path)
    raw = _read_with_bases(path)
    if overrides:
        raw = apply_overrides(raw, overrides)
    return path, raw


def validate_config(raw: dict, source: str, overrides: dict[str, Any] | None = None) -> SceneConfig:
    return validate_document(SceneConfig, raw, source, overrides)


def load_config(name_or_path: str | Path, overrides: dict[str, Any] | None = None) -> SceneConfig:
    """Load and validate a scene config (a path, or a name under ``scene_configs/``)."""
    path, raw = load_config_raw(name_or_path, overrides)
    config = validate_config(raw, str(path), overrides)
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
