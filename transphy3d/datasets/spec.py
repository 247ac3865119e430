"""Dataset specs: ``[KIND:]PATH``, the kind detected from what the path holds when not given."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from transphy3d.errors import UserError
from transphy3d.output import contract

if TYPE_CHECKING:
    from transphy3d.datasets.frames import Dataset

DatasetKind = Literal["render", "published", "images", "dreds", "hiss", "cleargrasp", "clearpose"]
KINDS: tuple[str, ...] = get_args(DatasetKind)
DETECT_DEPTH = 4  # how deep detection looks below the path
DETECT_FOLDERS = 200  # how many folders detection looks at, at most


def split_spec(text: str) -> tuple[str | None, Path]:
    """(kind or None, path) of ``[KIND:]PATH``."""
    head, sep, tail = str(text).partition(":")
    if sep and head in KINDS:
        return head, Path(tail)
    return None, Path(text)


# Formats recognised below the given path, most specific first (DREDS and HISS frames share
# ``_simDepthImage.exr``; DREDS's ground truth names it apart).
NESTED_KINDS = ("clearpose", "cleargrasp", "dreds", "hiss")


def _kind_of_folder(files: set[str], folders: set[str]) -> str | None:
    """The published format a folder below the given path belongs to."""
    for kind in NESTED_KINDS:
        if adapter(kind).recognises(files, folders):
            return kind
    if any(n.endswith(".tar") for n in files):
        return "published"
    return None


def detect_kind(path: str | Path) -> str:
    """The format of the dataset at ``path``, from its layout (breadth first, a few levels deep)."""
    path = Path(path)
    if path.is_file() and path.suffix == ".tar":
        return "published"
    if not path.is_dir():
        raise UserError("no such file or directory", path=str(path), field="--data")
    if contract.is_scene_dir(path) or contract.is_run_dir(path):
        return "render"
    from transphy3d.datasets.images import IMAGE_FOLDERS

    if (path / IMAGE_FOLDERS["rgb_dir"]).is_dir() and any(
        (path / IMAGE_FOLDERS[key]).is_dir() for key in ("depth_dir", "normal_dir")
    ):
        return "images"
    level, looked = [path], 0
    for _ in range(DETECT_DEPTH + 1):
        below = []
        for folder in level:
            looked += 1
            try:
                entries = list(folder.iterdir())
            except OSError:
                continue
            files = {e.name for e in entries if e.is_file()}
            folders = {e.name for e in entries if e.is_dir()}
            kind = _kind_of_folder(files, folders)
            if kind is not None:
                return kind
            below += sorted(folder / name for name in folders if not name.startswith("."))
            if looked >= DETECT_FOLDERS:
                below = []
                break
        level = below
    raise UserError(
        "cannot tell the dataset kind from its layout; name it with a prefix, KIND:PATH, KIND one of "
        + ", ".join(KINDS),
        path=str(path),
        field="--data",
    )


def adapter(kind: str) -> type[Dataset]:
    """The dataset class of ``kind``."""
    if kind == "render":
        from transphy3d.datasets.render import RenderDataset as cls
    elif kind == "published":
        from transphy3d.datasets.published import PublishedDataset as cls
    elif kind == "images":
        from transphy3d.datasets.images import ImageFolderDataset as cls
    elif kind == "dreds":
        from transphy3d.datasets.dreds import DredsDataset as cls
    elif kind == "hiss":
        from transphy3d.datasets.hiss import HissDataset as cls
    elif kind == "cleargrasp":
        from transphy3d.datasets.cleargrasp import ClearGraspDataset as cls
    elif kind == "clearpose":
        from transphy3d.datasets.clearpose import ClearPoseDataset as cls
    else:
        raise UserError(f"kind {kind!r}; allowed: {', '.join(KINDS)}", field="data")
    return cls
