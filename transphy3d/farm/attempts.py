"""The attempts in flight, seen from the driver: a lease per attempt (``.attempts/``), given up
when its worker is lost (node died, worker killed, task cancelled), and the leftovers of given-up
attempts removed once their render processes cannot write any more (``fence.GRACE_SECONDS``
after the lease went, or at once where the process is known dead). Before a run ends every
leftover partial directory of the run's scenes is gone."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from transphy3d.farm.records import ATTEMPT_DIR, LOG_DIR, AttemptPlace, attempt_log, lease_attempt
from transphy3d.farm.worker import SceneJob, lease_path, place_path
from transphy3d.fence import GRACE_SECONDS
from transphy3d.files import PARTIAL_MARK, is_partial, partial_name, read_json
from transphy3d.output.contract import scene_index, scene_name


@dataclass
class GivenUp:
    job: SceneJob
    place: AttemptPlace | None
    deadline: float  # time.monotonic() after which its render process cannot write


def _alive_here(place: AttemptPlace | None) -> bool:
    """Whether the attempt's render process may still run: unknown (another host, or where it
    ran is unknown) counts as alive until the grace has passed."""
    if place is None or place.node != socket.gethostname():
        return True
    try:
        os.kill(place.render_pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _move_log(out: Path, scratch: Path, job: SceneJob | None) -> None:
    """Keep a dead render's Blender log with the attempt's logs (or drop it if one is there)."""
    target = out / LOG_DIR / attempt_log(job.index, job.attempt, blender=True) if job else None
    with contextlib.suppress(OSError):
        if target is not None and not target.exists():
            os.replace(scratch, target)
        else:
            scratch.unlink(missing_ok=True)


def remove_partial(out: Path, name: str, job: SceneJob | None = None) -> None:
    """Remove a partial scene directory or move its scratch log to ``logs/``."""
    path = out / name
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif name.endswith(".log"):
        _move_log(out, path, job)
    else:
        path.unlink(missing_ok=True)


class Attempts:
    """Leases of the attempts in flight and leftovers of the given-up ones."""

    def __init__(self, out: Path):
        self.out = out
        (out / ATTEMPT_DIR).mkdir(exist_ok=True)
        self.given_up: list[GivenUp] = []
        self._revoke_stale()

    def _revoke_stale(self) -> None:
        """Leases left by a driver that was killed: their attempts are given up (a render process
        of theirs still running somewhere stops)."""
        folder = self.out / ATTEMPT_DIR
        for path in sorted(folder.iterdir()):
            if (found := lease_attempt(path.name)) is not None:
                self.give_up(SceneJob(found[0], 0, found[1], str(self.out), "", [], 0.0, 0))
        for path in folder.iterdir():
            path.unlink(missing_ok=True)

    def grant(self, job: SceneJob) -> None:
        """Create the attempt's lease (before the attempt starts)."""
        lease_path(self.out, job.index, job.attempt).touch()

    def place(self, job: SceneJob) -> AttemptPlace | None:
        """Where the attempt ran, if its worker said so."""
        try:
            return AttemptPlace.model_validate(read_json(place_path(self.out, job.index, job.attempt)))
        except (OSError, ValueError):
            return None

    def end(self, job: SceneJob) -> None:
        """The attempt's worker reported: its render process is over and cleaned up after."""
        lease_path(self.out, job.index, job.attempt).unlink(missing_ok=True)
        place_path(self.out, job.index, job.attempt).unlink(missing_ok=True)

    def give_up(self, job: SceneJob) -> AttemptPlace | None:
        """The attempt's worker is gone (or taken down): revoke the lease, so a render process still
        running stops; its files are removed by ``sweep`` after the grace. Returns where it ran."""
        place = self.place(job)
        self.end(job)
        self.given_up.append(GivenUp(job, place, time.monotonic() + GRACE_SECONDS))
        return place

    def sweep(self, wait: bool = False) -> None:
        """Remove the files of given-up attempts whose render processes cannot write any more;
        with ``wait``, wait for every one of them."""
        while self.given_up:
            now = time.monotonic()
            done = [g for g in self.given_up if now >= g.deadline or not _alive_here(g.place)]
            for entry in done:
                self.given_up.remove(entry)
                if entry.place is not None:
                    name = partial_name(scene_name(entry.job.index), entry.place.render_pid, entry.place.node)
                    remove_partial(self.out, name, entry.job)
                    remove_partial(self.out, f"{name}.log", entry.job)
            if not wait or not self.given_up:
                return
            time.sleep(min(0.2, max(0.0, min(g.deadline for g in self.given_up) - time.monotonic())))

    def finish(self) -> None:
        """Nothing runs any more: wait out the given-up attempts, then remove every leftover
        partial directory of a scene (and the empty lease folder)."""
        self.sweep(wait=True)
        for name in sorted(os.listdir(self.out)):
            index = scene_index(name.split(PARTIAL_MARK, 1)[0])
            if is_partial(name) and index is not None and not _owned_by_live_process_here(name):
                remove_partial(self.out, name)
        with contextlib.suppress(OSError):
            (self.out / ATTEMPT_DIR).rmdir()


def _owned_by_live_process_here(name: str) -> bool:
    """A partial directory of a live process on this host (a render-scene run by hand)."""
    owner = name.split(PARTIAL_MARK, 1)[1].removesuffix(".log")
    pid, _, host = owner.partition("@")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return _alive_here(AttemptPlace(node=host, worker_pid=0, render_pid=int(pid)))
