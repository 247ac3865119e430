"""The asset manifest: one JSON object per line (``assets_manifest/*.jsonl``), one line per asset.

Paths inside a manifest are relative to the manifest's directory (absolute when outside it), so a
manifest and its files move together. The schema is documented in ``assets_manifest/README.md``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError

from transphy3d.documents import StrictModel
from transphy3d.errors import UserError
from transphy3d.files import atomic_path
from transphy3d.reading import parse_json, read_text

MANIFEST_VERSION = 1
LICENCES = ("cc_zero", "royalty_free", "own", "unknown")
Vec3 = tuple[float, float, float]

MAX_MANIFEST_BYTES = 1 << 30  # 5,574 scored assets take about 8 MB


class SourceFile(StrictModel):
    """The file the asset was imported from."""

    file: str
    sha256: str
    bytes: int = Field(ge=0)
    format: Literal["blend", "glb", "gltf", "obj", "ply"]


class Canonical(StrictModel):
    """The normalised geometry made once at import: one triangulated mesh, z up, metres. ``blend``
    holds the same mesh (same vertex order) with the asset's own materials, when it has any."""

    mesh: str
    mesh_sha256: str
    blend: str | None = None


class Verdict(StrictModel):
    """A vision-language model's answer about an asset. ``status``: ok (every field), partial (some
    fields missing or invalid: they stay null), malformed (no verdict in the answer: ``raw`` keeps the
    text; counted as a failed request, it never replaces an earlier verdict),
    error (the request failed: retried on the next run)."""

    status: Literal["ok", "partial", "malformed", "error"]
    transparent: bool | None = None
    reflective: bool | None = None
    material_class: str | None = None
    category: str | None = None
    confidence: float | None = Field(None, ge=0.0, le=1.0)
    score: float | None = None
    missing: list[str] = Field(default_factory=list)
    raw: str | None = None
    error: str | None = None
    backend: str
    model: str


class AssetRecord(StrictModel):
    """One asset of the bank."""

    manifest_version: int = MANIFEST_VERSION
    asset_id: str = Field(min_length=1)
    name: str
    category: str | None = None
    licence: str = "unknown"
    origin: str = "local"
    source: SourceFile
    objects: int = Field(ge=1)
    triangles: int = Field(ge=1)
    bbox_min: Vec3
    bbox_max: Vec3
    materials: list[str] = Field(default_factory=list)
    canonical: Canonical
    thumbnails: list[str] = Field(default_factory=list)
    verdict: Verdict | None = None
    kept: bool | None = None

    @property
    def extent(self) -> float:
        """Largest bounding-box side, metres."""
        return max(hi - lo for lo, hi in zip(self.bbox_min, self.bbox_max, strict=True))


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def relative_to_manifest(manifest: Path, path: str | Path) -> str:
    """``path`` relative to the manifest's directory when inside it, else absolute."""
    path = Path(path).absolute()
    base = manifest.absolute().parent
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return str(path)


def resolve(manifest: Path, stored: str) -> Path:
    """A path stored in ``manifest`` as an absolute path."""
    path = Path(stored)
    return path if path.is_absolute() else (Path(manifest).absolute().parent / path)


def read_manifest(path: str | Path, missing_ok: bool = False) -> list[AssetRecord]:
    """All records of a manifest; errors name the file and line."""
    path = Path(path)
    if not path.is_file():
        if missing_ok:
            return []
        raise UserError("asset manifest not found", path=str(path))
    records = []
    for number, line in enumerate(read_text(path, "asset manifest", MAX_MANIFEST_BYTES).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            records.append(AssetRecord.model_validate(parse_json(line, f"{path}:{number}")))
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            key = ".".join(str(p) for p in first["loc"]) or "(record)"
            raise UserError(f"{first['msg']}", path=f"{path}:{number}", field=key) from None
    return records


def write_manifest(path: str | Path, records: Iterable[AssetRecord]) -> None:
    """Write all records atomically (temporary file, then rename), sorted by asset id."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        for record in sorted(records, key=lambda r: r.asset_id):
            handle.write(json.dumps(record.model_dump(mode="json"), separators=(",", ":"), allow_nan=False) + "\n")


def kept_assets(path: str | Path, require_kept: bool = True) -> list[AssetRecord]:
    """The records scene sampling may use, sorted by asset id: those the filter kept (or every
    record when ``require_kept`` is false)."""
    records = read_manifest(path)
    usable = [r for r in records if r.kept or not require_kept]
    return sorted(usable, key=lambda r: r.asset_id)
