"""A recorded ``scene.yaml`` read back: parsed into a SceneSpec and checked as strictly as a
config, every number included (render and physics settings and the camera against the ranges a
config allows, procedural families and their parameters, material inputs), so that a hand-edited
or damaged file is a one-line error before anything renders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from transphy3d.documents import load_yaml_file, validate_document
from transphy3d.errors import UserError
from transphy3d.scene.asset_paths import anchor_static_paths
from transphy3d.scene.config import CameraConfig, PhysicsConfig, RenderConfig
from transphy3d.scene.spec import SPEC_VERSION, SceneSpec, is_spec_document


def _check_section(values: dict[str, Any], model: type[BaseModel], section: str, source: str) -> None:
    """``values`` (a spec section) against the ranges of the config section ``model``."""
    # None: a key the spec leaves unset (render.quality of a scene recorded before presets).
    shared = {k: v for k, v in values.items() if k in model.model_fields and v is not None}
    try:
        model.model_validate(shared)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        key = ".".join([section, *(str(p) for p in first["loc"])])
        raise UserError(f"{first['msg'].removeprefix('Value error, ')} (got {first.get('input')!r})", path=source,
                        field=key) from None  # fmt: skip


def parse_spec(raw: Any, source: str) -> SceneSpec:
    """A SceneSpec from parsed YAML; one-line UserErrors naming ``source`` and the key."""
    if not is_spec_document(raw):
        raise UserError("not a scene spec (no spec_version key)", path=source)
    if raw["spec_version"] != SPEC_VERSION:
        raise UserError(
            f"unsupported spec_version {raw['spec_version']!r}; allowed: {SPEC_VERSION}",
            path=source,
            field="spec_version",
        )
    spec = validate_document(SceneSpec, raw, source)
    dumped = spec.model_dump(mode="json")
    _check_section(dumped["render"], RenderConfig, "render", source)
    _check_section({**dumped["camera"], "frames": spec.render.frames, "fps": spec.render.fps}, CameraConfig,
                   "camera", source)  # fmt: skip
    for index, alternative in enumerate(dumped["camera"]["alternatives"]):
        _check_section(alternative, CameraConfig, f"camera.alternatives.{index}", source)
    _check_section(dumped["physics"], PhysicsConfig, "physics", source)
    return spec


def load_spec(path: str | Path) -> SceneSpec:
    """Read a recorded ``scene.yaml`` (relative asset paths taken from its folder)."""
    return anchor_static_paths(parse_spec(load_yaml_file(path), str(path)), Path(path).parent)
