"""Running an export over a render run: the scenes in index order, those already exported
skipped, each bad scene reported on one line and counted, a progress bar and a summary.

An exporter writes each scene as one unit that appears whole or not at all (a directory
published by rename, or files written atomically), so a killed export leaves nothing half
written and running it again finishes it.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from transphy3d.errors import OutputError, UserError
from transphy3d.files import out_of_space
from transphy3d.output import contract
from transphy3d.output.reader import Scene, open_scene, scene_paths


@dataclass(frozen=True)
class SceneJob:
    """One scene of the run: its index (from its directory name) and its directory."""

    index: int
    path: Path

    @property
    def name(self) -> str:
        return contract.scene_name(self.index)

    def open(self) -> Scene:
        """The scene, its camera.json and objects.json read and checked: a bad one raises a
        UserError naming the file."""
        scene = open_scene(self.path)
        for name, read in (
            (contract.CAMERA_FILE, lambda: scene.camera),
            (contract.OBJECTS_FILE, lambda: scene.objects),
        ):
            try:
                read()
            except (ValueError, OSError) as error:
                raise UserError(" ".join(str(error).split()), path=str(self.path / name)) from error
        return scene


class Exporter(Protocol):
    """One export format."""

    name: str

    def start(self, jobs: list[SceneJob]) -> dict[int, str]:
        """Run-level files that the scenes need (written only when they change); returns the
        problems of scenes that cannot be exported (scene index -> one line)."""
        ...

    def is_done(self, job: SceneJob) -> bool:
        """True when the scene's export is complete on disk."""
        ...

    def export(self, job: SceneJob) -> int:
        """Export one scene as a whole; returns its frames."""
        ...

    def finish(self, jobs: list[SceneJob]) -> bool:
        """Run-level files made from the exported scenes (``jobs``); True when any changed."""
        ...


@dataclass
class Summary:
    """What an export did."""

    scenes: int = 0  # scenes of the run
    exported: int = 0  # exported by this run
    already: int = 0  # found exported
    frames: int = 0  # frames exported by this run
    skipped: list[str] = field(default_factory=list)  # one line per bad scene
    run_files_changed: bool = False
    seconds: float = 0.0

    def line(self, fmt: str, out: Path) -> str:
        if not self.exported and not self.skipped and not self.run_files_changed:
            return f"nothing to do: all {self.already} scene(s) are already exported to {out} ({fmt})"
        rate = f", {self.frames / self.seconds:.1f} frames/s" if self.frames and self.seconds > 0 else ""
        return (
            f"exported {self.exported} scene(s), {self.frames} frames to {out} ({fmt}) in {self.seconds:.2f} s{rate}; "
            f"{self.already} already there, {len(self.skipped)} skipped"
        )


BAD_SCENE = (UserError, ValueError, KeyError, IndexError, OSError)  # a scene's own files are wrong or unreadable


def jobs_of(run_dir: Path) -> tuple[list[SceneJob], list[str]]:
    """The scenes of ``run_dir`` (a render output or one scene directory) and one line per scene
    that cannot be used (a missing directory that index.jsonl lists, a name that is no scene's)."""
    if not run_dir.is_dir():
        raise UserError("not a directory", path=str(run_dir), field="RUN_DIR")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths = scene_paths(run_dir)
    problems = [str(w.message) for w in caught]
    jobs = []
    for path in paths:
        index = contract.scene_index(path.name)
        if index is None:
            problems.append(f"{path}: not a scene_NNNNNN directory name; skipped")
        else:
            jobs.append(SceneJob(index, path))
    if not jobs and not problems:
        raise UserError(
            "no finished scenes (scene_NNNNNN with a camera.json) found", path=str(run_dir), field="RUN_DIR"
        )
    return jobs, problems


def _one_line(job: SceneJob, error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return f"{job.name}: {text}; skipped"


def export_run(
    run_dir: Path, out: Path, exporter: Exporter, progress: bool = True, say: Callable[[str], None] = print
) -> Summary:
    """Export every scene of ``run_dir`` that is not exported yet, then the run-level files."""
    started = time.perf_counter()
    jobs, problems = jobs_of(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = Summary(scenes=len(jobs) + len(problems), skipped=list(problems))
    bad = exporter.start(jobs)
    summary.skipped += [f"{contract.scene_name(i)}: {line}; skipped" for i, line in sorted(bad.items())]
    good, todo = [], []
    for job in (job for job in jobs if job.index not in bad):
        try:
            done = exporter.is_done(job)
        except BAD_SCENE as error:
            summary.skipped.append(_one_line(job, error))
            continue
        good.append(job)
        summary.already += done
        if not done:
            todo.append(job)
    from tqdm import tqdm

    failed: set[int] = set()
    with tqdm(
        total=len(todo), unit="scene", desc=f"export {exporter.name}", disable=not (progress and sys.stderr.isatty())
    ) as bar:
        for job in todo:
            try:
                summary.frames += exporter.export(job)
                summary.exported += 1
            except OutputError:
                raise
            except BAD_SCENE as error:
                if isinstance(error, OSError) and out_of_space(out):
                    raise OutputError("the disk is full", path=str(out), field="--out") from error
                failed.add(job.index)
                summary.skipped.append(_one_line(job, error))
            bar.update()
    summary.run_files_changed = exporter.finish([job for job in good if job.index not in failed])
    for line in summary.skipped:
        say(line)
    summary.seconds = time.perf_counter() - started
    return summary
