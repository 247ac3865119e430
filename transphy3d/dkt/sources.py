"""Which data a training run reads: source specs (``--data [KIND:]PATH[@WEIGHT]`` and mixture
files), their kind detected from what the path holds. Light: no torch."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import Field

from transphy3d.documents import FrozenModel
from transphy3d.errors import UserError
from transphy3d.output import contract

SourceKind = Literal["render", "published", "images"]
KINDS: tuple[str, ...] = get_args(SourceKind)
IMAGE_OPTIONS = ("rgb_dir", "depth_dir", "normal_dir", "depth_scale")
# The folders of an image dataset unless a mixture file names others.
IMAGE_FOLDERS = {"rgb_dir": "rgb", "depth_dir": "depth", "normal_dir": "normal"}


class SourceSpec(FrozenModel):
    """One data source of the mixture: kind, path, weight and (image folders) reader options."""

    kind: SourceKind
    path: str
    weight: float = 1.0
    options: dict[str, Any] = Field(default_factory=dict)


def detect_kind(path: Path) -> str:
    """render (scene dirs), published (tars) or images (rgb/ + depth/ folders) for ``path``."""
    if path.is_file() and path.suffix == ".tar":
        return "published"
    if not path.is_dir():
        raise UserError("no such file or directory", path=str(path), field="--data")
    if contract.is_scene_dir(path) or contract.is_run_dir(path):
        return "render"
    folders = {key: (path / name).is_dir() for key, name in IMAGE_FOLDERS.items()}
    if folders["rgb_dir"] and (folders["depth_dir"] or folders["normal_dir"]):
        return "images"
    if next(path.rglob("*.tar"), None) is not None:
        return "published"
    raise UserError(
        "cannot tell the dataset kind: expected scene_*/camera.json (render output), *.tar "
        "(published TransPhy3D) or rgb/ + depth/ folders (images)",
        path=str(path),
        field="--data",
    )


def parse_data_arg(text: str) -> SourceSpec:
    """``[KIND:]PATH[@WEIGHT]`` (KIND render, published or images; detected when left out)."""
    kind = None
    head, _, tail = text.partition(":")
    if tail and head in KINDS:
        kind, text = head, tail
    weight = 1.0
    if "@" in text:
        text, _, weight_text = text.rpartition("@")
        try:
            weight = float(weight_text)
        except ValueError:
            raise UserError(f"weight {weight_text!r} is not a number (use PATH@0.5)", field="--data") from None
    path = Path(text)
    return SourceSpec(kind=kind or detect_kind(path), path=str(path), weight=weight)


def load_mixture_file(path: str | Path) -> list[SourceSpec]:
    """Sources from a YAML file: ``sources: [{kind, path, weight, rgb_dir, depth_dir, depth_scale}]``."""
    from transphy3d.reading import read_yaml

    path = Path(path)
    data = read_yaml(path)
    entries = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise UserError("expected a non-empty list under 'sources'", path=str(path), field="sources")
    specs = []
    for i, entry in enumerate(entries):
        where = f"sources[{i}]"
        if not isinstance(entry, dict) or "path" not in entry:
            raise UserError("each source needs a 'path'", path=str(path), field=where)
        unknown = set(entry) - {"kind", "path", "weight", *IMAGE_OPTIONS}
        if unknown:
            raise UserError(
                f"unknown keys {sorted(unknown)}; allowed: kind, path, weight, {', '.join(IMAGE_OPTIONS)}",
                path=str(path),
                field=where,
            )
        source_path = Path(entry["path"])
        if not source_path.is_absolute():
            source_path = path.parent / source_path
        kind = entry.get("kind") or detect_kind(source_path)
        if kind not in KINDS:
            raise UserError(f"kind {kind!r}; allowed: {', '.join(KINDS)}", path=str(path), field=f"{where}.kind")
        options = {k: entry[k] for k in IMAGE_OPTIONS if k in entry}
        specs.append(
            SourceSpec(kind=kind, path=str(source_path), weight=float(entry.get("weight", 1.0)), options=options)
        )
    return specs
