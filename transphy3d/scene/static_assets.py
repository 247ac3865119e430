"""Static assets in scene sampling: the bank of kept assets a config names, and one object's
draw from it. Draws come from their own named streams, so configs without static assets sample
exactly what they sampled before."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from transphy3d.errors import UserError
from transphy3d.scene.asset_bank import AssetRecord, kept_assets, resolve
from transphy3d.scene.config import ObjectsConfig, SceneConfig
from transphy3d.scene.config_loader import config_file_path, where_set
from transphy3d.scene.spec import AssetMaterialParams, MaterialSpec, StaticSource, TextureSpec


@lru_cache(maxsize=8)
def _bank(path: str, mtime_ns: int, require_kept: bool) -> tuple[AssetRecord, ...]:
    return tuple(kept_assets(path, require_kept))


def load_bank(config: SceneConfig) -> tuple[Path, tuple[AssetRecord, ...]]:
    """The manifest a config names (relative to the config file that names it) and its usable
    assets; errors name that config file and the resolved path."""
    oc, key = config.objects, "objects.asset_manifest"
    path = config_file_path(config, key)
    if path is None:
        raise UserError("static_fraction > 0 needs an asset manifest (.jsonl)", **where_set(config, key))
    if not path.is_file():
        raise UserError(f"asset manifest {path} not found", **where_set(config, key))
    bank = _bank(str(path), path.stat().st_mtime_ns, oc.static_require_kept)
    if not bank:
        which = "kept " if oc.static_require_kept else ""
        raise UserError(
            f"asset manifest {path} has no {which}assets (run `transphy3d assets filter`, or set "
            "objects.static_require_kept: false)",
            **where_set(config, key),
        )
    return path, bank


def own_material(record: AssetRecord) -> MaterialSpec:
    """The material record of an asset rendered with its own materials: class ``asset``; the
    transparent/reflective flags are the filter's verdict (false when unknown)."""
    verdict = record.verdict
    return MaterialSpec(
        class_name="asset",
        preset=record.asset_id,
        transparent=bool(verdict and verdict.transparent),
        reflective=bool(verdict and verdict.reflective),
        params=AssetMaterialParams(materials=list(record.materials)),
        texture=TextureSpec(type="none"),
    )


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:40] or "asset"


def draw_static(
    oc: ObjectsConfig, manifest: Path, bank: tuple[AssetRecord, ...], rng: np.random.Generator
) -> tuple[AssetRecord, StaticSource]:
    """One asset (uniform over the bank), its size and whether it keeps its own materials."""
    record = bank[int(rng.integers(len(bank)))]
    size = float(oc.static_size.sample(rng))
    keep = oc.static_materials.sample(rng) == "own" and record.canonical.blend is not None
    source = StaticSource(
        asset_id=record.asset_id,
        file=str(resolve(manifest, record.canonical.mesh)),
        sha256=record.canonical.mesh_sha256,
        size=size,
        keep_materials=keep,
        blend=str(resolve(manifest, record.canonical.blend)) if keep and record.canonical.blend else None,
    )
    return record, source
