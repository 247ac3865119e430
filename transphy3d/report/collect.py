"""Reading what a report needs from a render run: each finished scene's ``meta.json`` (its
``quality`` figures; counted from the scene's files for scenes written before they existed) and
the run's failures. Only small files are read, so 11,000 scenes take seconds."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError
from tqdm import tqdm

from transphy3d.errors import UserError
from transphy3d.output import contract
from transphy3d.output.contract import FailureRecord, MetaFile, SceneQuality
from transphy3d.output.quality import measure_scene
from transphy3d.output.reader import scene_paths
from transphy3d.output.records import read_failures


@dataclass(frozen=True)
class SceneFigures:
    """One finished scene: its directory, render facts and quality figures."""

    path: Path
    meta: MetaFile
    quality: SceneQuality


@dataclass
class RunFigures:
    """What a report is made of."""

    root: Path
    scenes: list[SceneFigures] = field(default_factory=list)
    failures: list[FailureRecord] = field(default_factory=list)
    counted_from_files: int = 0  # scenes without quality in meta.json, counted from their masks
    unreadable: list[str] = field(default_factory=list)  # "scene: why", skipped


def _read_scene(path: Path) -> tuple[SceneFigures | None, bool, str | None]:
    try:
        meta = MetaFile.model_validate(json.loads((path / contract.META_FILE).read_text(encoding="utf-8")))
        counted = meta.quality is None
        quality = measure_scene(path) if counted else meta.quality
    except (OSError, ValueError, ValidationError, UserError) as error:
        return None, False, " ".join(str(error).split())[:300]
    return SceneFigures(path, meta, quality), counted, None


def collect(root: str | Path, progress: bool = True) -> RunFigures:
    """The figures of every finished scene under ``root`` (a run directory or one scene)."""
    root = Path(root)
    if not root.is_dir():
        raise UserError("not a directory", path=str(root))
    paths = scene_paths(root)
    if not paths:
        raise UserError("no finished scenes (scene_*/camera.json) to report on", path=str(root))
    run = RunFigures(root=root)
    show = progress and len(paths) > 1 and sys.stderr.isatty()
    for path in tqdm(paths, desc="reading scenes", unit="scene", disable=not show):
        scene, counted, error = _read_scene(path)
        if scene is None:
            run.unreadable.append(f"{path.name}: {error}")
            continue
        run.scenes.append(scene)
        run.counted_from_files += counted
    if not run.scenes:
        raise UserError(f"no scene could be read ({run.unreadable[0]})", path=str(root))
    failures = root / contract.FAILURES_FILE
    if failures.is_file():
        done = {s.path.name for s in run.scenes}
        latest = {r.scene: r for r in read_failures(failures)}
        run.failures = [r for name, r in latest.items() if name not in done]
    return run
