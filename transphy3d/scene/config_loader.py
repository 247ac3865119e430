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
from transphy3d.reading import BoundedLoader
from transphy3d.resources import CONFIG_SUFFIXES, MATERIALS_DIR, shipped_config, shipped_configs
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
            out[key] = yaml.load(value, Loader=BoundedLoader) if value.strip() else None
        except (yaml.YAMLError, RecursionError) as error:
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


# Keys whose values are paths: a relative one is relative to the folder of the file that set it
# (a base config's paths to the base), or to the current directory when set with --set.
PATH_KEYS = ("materials_dir", "objects.asset_manifest", "lighting.hdri.directory", "environment.textures.directory")


def _lookup(raw: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(raw, dict):
            return None
        raw = raw.get(part)
    return raw


def _read_with_bases(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict, dict[str, Path]]:
    """The merged YAML of ``path`` and its bases, and for each path key the file that set it."""
    if path.resolve() in seen:
        chain = " -> ".join(str(p) for p in (*seen, path.resolve()))
        raise UserError(f"base configs form a cycle: {chain}", path=str(path))
    raw = load_yaml_file(path)
    if raw is None:
        raise UserError(
            "the config is empty; a scene config is a mapping of sections (start one with `base: <a config>` "
            "to change a few keys of it)",
            path=str(path),
        )
    if not isinstance(raw, dict):
        raise UserError(f"a scene config is a mapping of sections, got {type(raw).__name__}", path=str(path))
    origins = {key: path for key in PATH_KEYS if _lookup(raw, key) is not None}
    base = raw.get("base")
    if base is None:
        return raw, origins
    if not isinstance(base, str):
        raise UserError("must be the path or name of another scene config", path=str(path), field="base")
    base_path = _base_path(path, base)
    base_raw, base_origins = _read_with_bases(base_path, (*seen, path.resolve()))
    merged = deep_merge(base_raw, raw)
    merged.pop("base", None)
    return merged, {**base_origins, **origins}


def _base_path(config: Path, base: str) -> Path:
    """The file that ``base:`` in ``config`` names: a path relative to the config's folder, or the
    name of a shipped config (``base: tiny`` works from any directory and a regular install)."""
    candidate = (config.parent / base).resolve()
    if candidate.is_file():
        return candidate
    shipped = shipped_config(base) if Path(base).suffix not in CONFIG_SUFFIXES else None
    if shipped is not None:
        return shipped.resolve()
    raise UserError(
        f"base config {candidate} not found, nor a shipped config of that name; shipped: "
        + ", ".join(shipped_configs()),
        path=str(config),
        field="base",
    )


def config_path(name_or_path: str | Path) -> Path:
    """The file of a config given by path, or by the name of a shipped config (``tiny``)."""
    path = Path(name_or_path)
    if path.suffix in CONFIG_SUFFIXES or path.exists():
        return path
    shipped = shipped_config(str(name_or_path))
    if shipped is None:
        names = ", ".join(shipped_configs())
        raise UserError(f"not a config file, nor a shipped config; shipped: {names}", path=str(name_or_path))
    return shipped


def load_config_raw(
    name_or_path: str | Path, overrides: dict[str, Any] | None = None
) -> tuple[Path, dict, dict[str, Path | None]]:
    """The merged raw YAML data of a config (bases resolved, overrides applied), and the file that
    set each path key (None: set by an override)."""
    path = config_path(name_or_path)
    if "base" in (overrides or {}):
        raise UserError("a config's base is read from its file; write `base:` into a config file", path="--set base")
    raw, origins = _read_with_bases(path)
    if overrides:
        raw = apply_overrides(raw, overrides)
    set_here: dict[str, Path | None] = {**origins}
    for key in overrides or {}:
        for path_key in PATH_KEYS:
            if path_key == key or path_key.startswith(key + "."):
                set_here[path_key] = None
    return path, raw, set_here


def validate_config(raw: dict, source: str, overrides: dict[str, Any] | None = None) -> SceneConfig:
    return validate_document(SceneConfig, raw, source, overrides)


def load_config(name_or_path: str | Path, overrides: dict[str, Any] | None = None) -> SceneConfig:
    """Load and validate a scene config (a path, or the name of a shipped config)."""
    path, raw, origins = load_config_raw(name_or_path, overrides)
    config = validate_config(raw, str(path), overrides)
    config._path_origins.update(origins)
    library = load_library(config_file_path(config, "materials_dir") or MATERIALS_DIR)
    check_config_materials(config, library, str(path), overrides)
    return config


def config_file_path(config: SceneConfig, key: str) -> Path | None:
    """The absolute path a path key of ``config`` names (None when unset): a relative value is
    taken from the folder of the config file that set it, or from the current directory."""
    value = _lookup(config.model_dump(include={key.split(".")[0]}), key)
    if value is None:
        return None
    path = Path(value).expanduser()
    if not path.is_absolute():
        origin = config._path_origins.get(key)
        path = (origin.parent if origin is not None else Path.cwd()) / path
    return path.resolve()


def where_set(config: SceneConfig, key: str) -> dict[str, str | None]:
    """Where a path key got its value, as a UserError's ``path`` and ``field``: the config file
    that set it and the key, or the ``--set`` override."""
    if key not in config._path_origins:  # a config made in code
        return {"field": key}
    origin = config._path_origins[key]
    return {"path": str(origin), "field": key} if origin is not None else {"path": f"--set {key}"}


STATIC_KEYS = ("static_fraction", "asset_manifest", "static_size", "static_materials", "static_require_kept")


def config_digest(config: SceneConfig) -> str:
    """A short stable hash of a validated config (what a run directory records). The static-asset
    keys count only when static assets are used (``objects.static_fraction`` > 0),
    ``environment.textures`` only with a texture folder, ``sensor`` only when it is on and
    ``output.channels`` only when it names any, so
    configs without them keep the digest they had before those keys existed."""
    dumped = config.model_dump(mode="json", by_alias=True)
    if config.objects.static_fraction == 0:
        for key in STATIC_KEYS:
            dumped["objects"].pop(key, None)
    if config.environment.textures.directory is None:
        dumped["environment"].pop("textures", None)
    if not config.sensor.enabled:
        dumped.pop("sensor", None)
    if not config.output.channels:
        dumped["output"].pop("channels", None)
    data = json.dumps(dumped, sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()[:16]
