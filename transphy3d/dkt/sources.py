"""Which data a training run reads: source specs (``--data [KIND:]PATH[@WEIGHT]`` and mixture
files), their kind (``transphy3d.datasets.KINDS``) detected from what the path holds. Light: no
torch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from transphy3d.datasets import KINDS, DatasetKind, detect_kind
from transphy3d.datasets.images import IMAGE_OPTIONS
from transphy3d.documents import FrozenModel
from transphy3d.errors import UserError

SOURCE_OPTIONS = (*IMAGE_OPTIONS, "subset")  # adapter options a mixture entry may set


class SourceSpec(FrozenModel):
    """One data source of the mixture: kind, path, weight and (image folders) reader options."""

    kind: DatasetKind
    path: str
    weight: float = 1.0
    options: dict[str, Any] = Field(default_factory=dict)


def parse_data_arg(text: str) -> SourceSpec:
    """``[KIND:]PATH[@WEIGHT]`` (KIND one of ``KINDS``; detected from the layout when left out)."""
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


def load_mixture_file(path: str | Path, data_root: str | Path | None = None) -> list[SourceSpec]:
    """Sources from a YAML file: ``sources: [{kind, path, weight, <adapter options>}]`` (options:
    ``rgb_dir``, ``depth_dir``, ``normal_dir``, ``depth_scale`` for images, ``subset`` for ClearPose)
    and optionally ``data_root``. Relative source paths are taken under ``data_root`` (the
    argument, else the file's key), else under the file's folder."""
    from transphy3d.reading import read_yaml

    path = Path(path)
    data = read_yaml(path)
    entries = data.get("sources") if isinstance(data, dict) else None
    if data_root is None and isinstance(data, dict) and data.get("data_root") is not None:
        data_root = str(data["data_root"])
    unknown_top = set(data) - {"sources", "data_root"} if isinstance(data, dict) else set()
    if unknown_top:
        raise UserError(f"unknown keys {sorted(unknown_top)}; allowed: sources, data_root", path=str(path))
    if not isinstance(entries, list) or not entries:
        raise UserError("expected a non-empty list under 'sources'", path=str(path), field="sources")
    specs = []
    for i, entry in enumerate(entries):
        where = f"sources[{i}]"
        if not isinstance(entry, dict) or "path" not in entry:
            raise UserError("each source needs a 'path'", path=str(path), field=where)
        unknown = set(entry) - {"kind", "path", "weight", *SOURCE_OPTIONS}
        if unknown:
            raise UserError(
                f"unknown keys {sorted(unknown)}; allowed: kind, path, weight, {', '.join(SOURCE_OPTIONS)}",
                path=str(path),
                field=where,
            )
        source_path = Path(entry["path"])
        if not source_path.is_absolute():
            source_path = (Path(data_root) if data_root is not None else path.parent) / source_path
        kind = entry.get("kind") or detect_kind(source_path)
        if kind not in KINDS:
            raise UserError(f"kind {kind!r}; allowed: {', '.join(KINDS)}", path=str(path), field=f"{where}.kind")
        options = {k: entry[k] for k in SOURCE_OPTIONS if k in entry}
        specs.append(
            SourceSpec(kind=kind, path=str(source_path), weight=float(entry.get("weight", 1.0)), options=options)
        )
    return specs
