"""Datasets as published, read through one interface.

>>> from transphy3d.datasets import open_dataset
>>> ds = open_dataset("dreds:/data/DREDS/DREDS-CatKnown/test")   # or a bare path: kind detected
>>> for seq in ds.sequences():          # a video, or a group of independent frames
...     for fr in seq.frames():         # fr.id, fr.rgb, fr.depth, fr.raw_depth, fr.normal, fr.transparent, fr.K
...         pass

One adapter module per format (``KINDS``): ``render`` (our render output), ``published`` (the
TransPhy3D tars), ``images`` (rgb/ + depth/ folders), ``dreds``, ``hiss``, ``cleargrasp``,
``clearpose``. Bad data is a ``CorruptData`` error naming the file.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from transphy3d.datasets.frames import CorruptData, Dataset, Frame, Sequence
from transphy3d.datasets.spec import KINDS, DatasetKind, adapter, detect_kind, split_spec
from transphy3d.errors import UserError

__all__ = ["KINDS", "CorruptData", "Dataset", "DatasetKind", "Frame", "Sequence", "detect_kind", "open_dataset"]


def open_dataset(
    spec: str | Path, kind: str | None = None, cache_dir: str | Path | None = None, **options: Any
) -> Dataset:
    """The dataset at ``[KIND:]PATH`` (kind detected from the layout when not given). ``cache_dir``:
    where directory scans (and the published tars' index) are cached. ``options``: the adapter's
    own (images: rgb_dir, depth_dir, normal_dir, depth_scale; clearpose: subset)."""
    prefix, path = split_spec(str(spec))
    kind = kind or prefix or detect_kind(path)
    cls = adapter(kind)
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "root", "cache_dir"}
    unknown = set(options) - accepted
    if unknown:
        raise UserError(
            f"options {sorted(unknown)} do not apply to {kind}; allowed: {sorted(accepted) or 'none'}",
            path=str(path),
            field="data",
        )
    return cls(path, cache_dir=cache_dir, **options)
