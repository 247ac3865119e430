"""The common part of the adapters for frame files in folders: a cached scan gives the sequences,
the adapter turns (sequence, frame id) into a ``Frame``."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from transphy3d.datasets.frames import Dataset, Frame, Sequence
from transphy3d.datasets.scan import Lister, Listing, cached_scan
from transphy3d.errors import UserError


class FolderDataset(Dataset):
    """Subclasses set ``kind``, ``is_video``, ``LAYOUT`` (the expected layout, for messages) and
    implement ``scan`` and ``frame``."""

    LAYOUT = ""

    def __init__(self, root: str | Path, cache_dir: str | Path | None = None):
        super().__init__(Path(root))
        if not self.root.is_dir():
            raise UserError("no such directory", path=str(self.root), field="data")
        listing = cached_scan(
            self.kind, self.root, self.scan, None if cache_dir is None else Path(cache_dir), self.options_key()
        )
        self.listing = [(name, ids) for name, ids in listing.sequences if ids]
        self.skipped = list(listing.skipped)
        self.skipped += [f"{self.folder(name)}: no frames; skipped" for name, ids in listing.sequences if not ids]
        if not self.listing:
            raise UserError(f"no {self.kind} frames found (expected {self.LAYOUT})", path=str(self.root), field="data")

    def options_key(self) -> str:
        """What, besides the root, the listing depends on (part of the cache key)."""
        return ""

    def scan(self, lister: Lister) -> Listing:
        raise NotImplementedError

    def frame(self, sequence: str, frame_id: str) -> Frame:
        raise NotImplementedError

    def folder(self, sequence: str) -> Path:
        return self.root if sequence == "." else self.root / sequence

    def sequences(self) -> list[Sequence]:
        return [Sequence(name, ids, partial(self.frame, name), self.is_video) for name, ids in self.listing]


def frame_ids(names: list[str], suffix: str) -> list[str]:
    """The ids of files named ``<id><suffix>``, in sorted order."""
    return sorted(name[: -len(suffix)] for name in names if name.endswith(suffix) and len(name) > len(suffix))
