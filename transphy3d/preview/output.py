"""Where a preview goes: never into a production render output, by default ``previews/<name>``
under the current directory, written under a temporary name and swapped in when complete."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from transphy3d.errors import OutputError
from transphy3d.files import partial_path, remove_stale_partials
from transphy3d.output import contract

PREVIEW_FILE = "preview.json"  # marks a directory as a preview (safe to replace)


def is_render_output(directory: Path) -> bool:
    """True if ``directory`` is a render run (index.jsonl, run.yaml, failures.jsonl or finished
    ``scene_*`` directories) or a scene directory itself (camera.json)."""
    try:
        if not directory.is_dir():
            return False
        return contract.is_run_dir(directory) or contract.is_scene_dir(directory)
    except OSError:
        return False


def production_root(path: str | Path) -> Path | None:
    """The render output that ``path`` is or lies inside, or None."""
    path = Path(path).absolute()
    for candidate in (path, *path.parents):
        if is_render_output(candidate):
            return candidate
    return None


def preview_name(input_path: str | Path, seeds: list[int], recorded: bool) -> str:
    """``default_seed0``, ``default_seeds0-3``; a recorded ``scene_000042/scene.yaml`` gives
    ``scene_000042`` (its seed is part of the scene)."""
    path = Path(input_path).absolute()
    if recorded:
        return path.parent.name if path.stem == "scene" and path.parent.name else path.stem
    if len(seeds) == 1:
        return f"{path.stem}_seed{seeds[0]}"
    return f"{path.stem}_seeds{seeds[0]}-{seeds[-1]}"


def default_out_dir(name: str, cwd: str | Path | None = None) -> Path:
    """``<cwd>/previews/<name>``, or ``<tmp>/transphy3d-previews/<name>`` when the current
    directory lies inside a render output."""
    base = Path(cwd or Path.cwd()) / "previews"
    if production_root(base) is not None:
        base = Path(tempfile.gettempdir()) / "transphy3d-previews"
    return base / name


def check_out_dir(out: Path) -> None:
    """Refuse an output inside a render output, a file, or a non-empty directory that is not a
    preview (a preview directory is replaced)."""
    root = production_root(out)
    if root is not None:
        raise OutputError(
            f"lies inside the render output {root}; a preview never writes into production data, choose another --out",
            path=str(out),
        )
    if out.exists() and not out.is_dir():
        raise OutputError("exists and is not a directory", path=str(out))
    if out.is_dir() and any(out.iterdir()) and not (out / PREVIEW_FILE).is_file():
        raise OutputError(
            f"is not empty and not a preview directory (no {PREVIEW_FILE}); choose another --out", path=str(out)
        )


def make_partial(out: Path) -> Path:
    """A fresh sibling ``<out>.partial-<pid>`` to write the preview into."""
    partial = partial_path(out)
    remove_stale_partials(out)
    shutil.rmtree(partial, ignore_errors=True)  # this process's own leftover (a reused pid)
    try:
        partial.mkdir(parents=True)
    except (FileExistsError, NotADirectoryError):
        raise OutputError("cannot create the output directory: a file is in the way", path=str(out.parent)) from None
    except OSError as error:
        raise OutputError(f"cannot create the output directory: {error.strerror}", path=str(out.parent)) from None
    return partial
