"""``transphy3d assets thumbnails``: render each asset's views once, cached by the canonical
mesh's content hash and the render settings, and record the image paths in the manifest."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from transphy3d.scene.asset_bank import read_manifest, relative_to_manifest, resolve, write_manifest
from transphy3d.scene.spec import StaticSource

THUMBNAIL_SIZE_M = 0.2  # the mesh is scaled to this largest extent (framing is relative anyway)


def cache_key(mesh_sha256: str, blend: bool, views: int, size: int, samples: int) -> str:
    settings = f"{mesh_sha256}:{int(blend)}:{views}:{size}:{samples}:v1"
    return hashlib.sha256(settings.encode()).hexdigest()[:20]


def make_thumbnails(
    manifest: str | Path, views: int = 3, size: int = 160, samples: int = 16, cache: str | Path | None = None
) -> dict[str, float]:
    """Render missing thumbnails; returns counts and seconds per rendered asset."""
    from transphy3d.blender.session import captured_output
    from transphy3d.blender.thumbnails import render_views  # bpy: only here
    from transphy3d.scene.meshes import load_static_mesh

    manifest = Path(manifest)
    cache_dir = Path(cache) if cache else manifest.absolute().parent / "cache" / "thumbs"
    records = read_manifest(manifest)
    rendered = cached = 0
    seconds = 0.0
    for index, record in enumerate(records):
        blend = resolve(manifest, record.canonical.blend) if record.canonical.blend else None
        folder = cache_dir / cache_key(record.canonical.mesh_sha256, blend is not None, views, size, samples)
        paths = [folder / f"view_{v}.png" for v in range(views)]
        if not all(p.is_file() for p in paths):
            source = StaticSource(
                asset_id=record.asset_id,
                file=str(resolve(manifest, record.canonical.mesh)),
                sha256=record.canonical.mesh_sha256,
                size=THUMBNAIL_SIZE_M,
            )
            start = time.perf_counter()
            with captured_output(os.devnull):
                render_views(load_static_mesh(source), str(blend) if blend else None, folder, views, size, samples)
            seconds += time.perf_counter() - start
            rendered += 1
        else:
            cached += 1
        records[index] = record.model_copy(update={"thumbnails": [relative_to_manifest(manifest, p) for p in paths]})
    write_manifest(manifest, records)
    return {"rendered": rendered, "cached": cached, "seconds_per_asset": seconds / rendered if rendered else 0.0}
