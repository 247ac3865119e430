"""Directory scans of folder datasets, cached: a listing of (sequence, frame ids) is kept as JSON
under a cache directory with the modification time of every directory the scan read, and reused
while none of them changed (adding or removing a file changes its directory's time). A warm start
then costs one ``stat`` per directory instead of listing every file."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from transphy3d.errors import UserError
from transphy3d.files import write_text_atomic

CACHE_VERSION = 1
MAX_DEPTH = 8  # how deep a scan walks below the dataset root


@dataclass
class Listing:
    """What a scan found: sequences (name relative to the root, frame ids in order) and skips."""

    sequences: list[tuple[str, list[str]]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class Lister:
    """Lists directories under one root, confined to it, and records each one's modification time."""

    def __init__(self, root: Path):
        self.root = root
        self.real_root = root.resolve()
        self.seen: dict[str, int] = {}  # folders listed and files read: path relative to the root -> mtime
        self._listed: dict[Path, list[os.DirEntry]] = {}

    def watch(self, path: Path) -> Path:
        """Record a file the scan reads (a skip list): editing it invalidates the cached scan."""
        self.seen[self.relative(path)] = path.stat().st_mtime_ns
        return path

    def entries(self, folder: Path) -> list[os.DirEntry]:
        """The entries of ``folder`` (under the root), sorted by name; each folder is listed once."""
        if folder in self._listed:
            return self._listed[folder]
        real = folder.resolve()
        if real != self.real_root and self.real_root not in real.parents:
            raise UserError("leads outside the dataset root (a link?)", path=str(folder), field="data")
        try:
            with os.scandir(folder) as it:
                found = sorted(it, key=lambda e: e.name)
            self.seen[self.relative(folder)] = folder.stat().st_mtime_ns
        except OSError as error:
            raise UserError(f"cannot list ({error.strerror})", path=str(folder), field="data") from error
        self._listed[folder] = found
        return found

    def files(self, folder: Path) -> list[str]:
        return [e.name for e in self.entries(folder) if e.is_file()]

    def folders(self, folder: Path) -> list[str]:
        return [e.name for e in self.entries(folder) if e.is_dir()]

    def relative(self, folder: Path) -> str:
        rel = folder.relative_to(self.root).as_posix()
        return rel if rel != "" else "."

    def walk(self, accept: Callable[[Path, list[str], list[str]], bool], depth: int = MAX_DEPTH) -> list[Path]:
        """Folders (breadth first, returned sorted) that ``accept(folder, file names, folder names)``
        takes; a scan does not descend below an accepted folder."""
        found, level = [], [self.root]
        for _ in range(depth + 1):
            below = []
            for folder in level:
                entries = self.entries(folder)
                files = [e.name for e in entries if e.is_file()]
                folders = [e.name for e in entries if e.is_dir() and not e.name.startswith(".")]
                if accept(folder, files, folders):
                    found.append(folder)
                    continue
                below += [folder / name for name in folders]
            level = below
            if not level:
                break
        return sorted(found)


def cache_file(cache_dir: Path, kind: str, root: Path, options: str) -> Path:
    key = hashlib.sha256(f"{CACHE_VERSION}\0{kind}\0{root.resolve()}\0{options}".encode()).hexdigest()[:24]
    return cache_dir / f"scan-{kind}-{key}.json"


def _fresh(root: Path, dirs: dict[str, int]) -> bool:
    for rel, mtime in dirs.items():
        try:
            if (root / rel).stat().st_mtime_ns != mtime:
                return False
        except OSError:
            return False
    return True


def cached_scan(
    kind: str, root: Path, scan: Callable[[Lister], Listing], cache_dir: Path | None, options: str = ""
) -> Listing:
    """``scan(Lister(root))``, reused from ``cache_dir`` while no directory it listed changed."""
    path = cache_file(cache_dir, kind, root, options) if cache_dir is not None else None
    if path is not None and path.is_file():
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            if record.get("version") == CACHE_VERSION and _fresh(root, record["dirs"]):
                return Listing([(name, list(ids)) for name, ids in record["sequences"]], list(record["skipped"]))
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a damaged cache is rebuilt
    lister = Lister(root)
    listing = scan(lister)
    if path is not None:
        record = {
            "version": CACHE_VERSION,
            "kind": kind,
            "root": str(root.resolve()),
            "dirs": lister.seen,
            "sequences": listing.sequences,
            "skipped": listing.skipped,
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(path, json.dumps(record, separators=(",", ":")))
        except OSError:
            pass  # a read-only cache location costs speed, not correctness
    return listing
