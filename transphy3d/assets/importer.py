"""``transphy3d assets import``: scan files, canonicalise each once in a Blender worker process,
and record them in a manifest. Broken or empty files are reported with a reason and skipped;
a file that crashes or hangs Blender costs only itself (the worker restarts after it)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transphy3d.errors import UserError
from transphy3d.scene.asset_bank import (
    AssetRecord,
    Canonical,
    SourceFile,
    read_manifest,
    relative_to_manifest,
    sha256_file,
    write_manifest,
)

SUFFIXES = {".blend": "blend", ".glb": "glb", ".gltf": "gltf", ".obj": "obj", ".ply": "ply"}
SIDECAR_KEYS = {"asset_id", "assetBaseId", "name", "category", "licence", "license", "origin"}


@dataclass
class ImportReport:
    """What an import did: records added, files skipped (already imported or duplicates) and
    broken files with the reason."""

    added: list[AssetRecord] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    broken: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": [r.asset_id for r in self.added],
            "skipped": self.skipped,
            "broken": self.broken,
        }


def scan(inputs: Iterable[str | Path]) -> list[Path]:
    """Asset files among ``inputs`` (files, or folders searched recursively), sorted, unique.
    glTF buffers and textures next to a model are not assets themselves."""
    found: set[Path] = set()
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found.update(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        elif path.is_file():
            if path.suffix.lower() not in SUFFIXES:
                raise UserError(f"not an asset file; allowed: {', '.join(sorted(SUFFIXES))}", path=str(path))
            found.add(path)
        else:
            raise UserError("no such file or folder", path=str(path))
    return sorted(p.absolute() for p in found if not p.name.endswith(".blend1"))


def read_sidecar(path: Path) -> dict[str, Any]:
    """Metadata written next to an asset (``NAME.EXT.json`` or ``NAME.json``), e.g. by
    ``transphy3d assets fetch``: asset_id/assetBaseId, name, category, licence."""
    for candidate in (path.with_name(path.name + ".json"), path.with_suffix(".json")):
        if candidate.is_file():
            try:
                data = json.loads(candidate.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise UserError("sidecar metadata is not JSON", path=str(candidate)) from None
            if not isinstance(data, dict):
                raise UserError("sidecar metadata must be a JSON object", path=str(candidate))
            return {k: v for k, v in data.items() if k in SIDECAR_KEYS}
    return {}


def _asset_id(meta: dict[str, Any], sha: str) -> str:
    if meta.get("asset_id"):
        return str(meta["asset_id"])
    if meta.get("assetBaseId"):
        return f"bk-{meta['assetBaseId']}"
    return f"sha-{sha[:16]}"


def run_worker(requests: list[dict[str, str]], timeout: float) -> dict[str, dict[str, Any]]:
    """Run the Blender import worker over ``requests``; returns results by path. A file whose
    worker crashes or runs longer than ``timeout`` seconds gets a failure; the rest go on."""
    results: dict[str, dict[str, Any]] = {}
    pending = list(requests)
    with tempfile.TemporaryDirectory(prefix="tp3d-import-") as tmp:
        round_ = 0
        while pending:
            round_ += 1
            request_file = Path(tmp) / f"requests_{round_}.json"
            result_file = Path(tmp) / f"results_{round_}.jsonl"
            request_file.write_text(json.dumps(pending), encoding="utf-8")
            result_file.touch()
            log = open(Path(tmp) / f"worker_{round_}.log", "wb")  # noqa: SIM115  (closed below)
            process = subprocess.Popen(
                [sys.executable, "-m", "transphy3d.blender.asset_import", str(request_file), str(result_file)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            done, last_progress, reason = 0, time.monotonic(), None
            while True:
                lines = result_file.read_text(encoding="utf-8").splitlines()
                complete = [json.loads(line) for line in lines if line.endswith("}")]
                if len(complete) > done:
                    done, last_progress = len(complete), time.monotonic()
                code = process.poll()
                if code is not None:
                    if code != 0 and done < len(pending):
                        reason = f"Blender worker died (exit code {code}) while importing this file"
                    break
                if time.monotonic() - last_progress > timeout:
                    process.kill()
                    process.wait()
                    reason = f"import took longer than {timeout:g} s"
                    break
                time.sleep(0.05)
            log.close()
            for result in complete:
                results[result["path"]] = result
            if done >= len(pending):
                break
            culprit = pending[done]
            results[culprit["path"]] = {"path": culprit["path"], "ok": False, "reason": reason or "no result"}
            pending = pending[done + 1 :]
    return results


def import_assets(
    inputs: Iterable[str | Path],
    manifest: str | Path,
    cache: str | Path | None = None,
    licence: str | None = None,
    category: str | None = None,
    origin: str = "local",
    timeout: float = 300.0,
) -> ImportReport:
    """Import ``inputs`` into ``manifest`` (created if missing); canonical files go to ``cache``
    (default: ``cache/`` next to the manifest), one folder per source content hash."""
    manifest = Path(manifest)
    cache = Path(cache) if cache else manifest.absolute().parent / "cache"
    records = {r.asset_id: r for r in read_manifest(manifest, missing_ok=True)}
    known_hashes = {r.source.sha256: r.asset_id for r in records.values()}
    report = ImportReport()
    todo: list[tuple[Path, str, dict[str, Any]]] = []
    files = scan(inputs)
    if not files:
        shown = ", ".join(str(p) for p in inputs)
        raise UserError(f"no asset files ({', '.join(sorted(SUFFIXES))}) in {shown}", field="inputs")
    for path in files:
        if path.stat().st_size == 0:
            report.broken.append({"path": str(path), "reason": "empty file (0 bytes)"})
            continue
        sha = sha256_file(path)
        try:
            meta = read_sidecar(path)
        except UserError as error:
            report.broken.append({"path": str(path), "reason": str(error)})
            continue
        if sha in known_hashes:
            report.skipped.append({"path": str(path), "reason": f"same content as asset {known_hashes[sha]}"})
            continue
        known_hashes[sha] = _asset_id(meta, sha)
        todo.append((path, sha, meta))
    requests = [
        {"path": str(p), "format": SUFFIXES[p.suffix.lower()], "out_dir": str(cache / sha[:16])} for p, sha, _ in todo
    ]
    results = run_worker(requests, timeout) if requests else {}
    for path, sha, meta in todo:
        result = results[str(path)]
        if not result["ok"]:
            report.broken.append({"path": str(path), "reason": result["reason"]})
            continue
        asset_id = _asset_id(meta, sha)
        if asset_id in records:
            report.skipped.append({"path": str(path), "reason": f"asset id {asset_id} already in the manifest"})
            continue
        record = AssetRecord(
            asset_id=asset_id,
            name=str(meta.get("name") or path.stem),
            category=meta.get("category") or category,
            licence=str(meta.get("licence") or meta.get("license") or licence or "unknown"),
            origin=str(meta.get("origin") or ("blenderkit" if meta.get("assetBaseId") else origin)),
            source=SourceFile(
                file=relative_to_manifest(manifest, path),
                sha256=sha,
                bytes=path.stat().st_size,
                format=SUFFIXES[path.suffix.lower()],
            ),
            objects=result["objects"],
            triangles=result["triangles"],
            bbox_min=tuple(result["bbox_min"]),
            bbox_max=tuple(result["bbox_max"]),
            materials=result["materials"],
            canonical=Canonical(
                mesh=relative_to_manifest(manifest, result["mesh"]),
                mesh_sha256=sha256_file(result["mesh"]),
                blend=relative_to_manifest(manifest, result["blend"]) if result["blend"] else None,
            ),
        )
        records[asset_id] = record
        report.added.append(record)
    write_manifest(manifest, records.values())
    return report
