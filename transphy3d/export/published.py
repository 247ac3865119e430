"""The published TransPhy3D WebDataset shards, written by the trainer's published-tar writer
(``transphy3d.dkt.published.export_scene``): ``<out>/<scene index:06d>_<scene type>.<shard:06d>.tar``,
``shard_frames`` frames per tar (all of a scene's frames in one tar by default, as the release)."""

from __future__ import annotations

from pathlib import Path

from transphy3d.errors import UserError
from transphy3d.export.options import DEFAULT_SCENE_TYPE
from transphy3d.export.run import SceneJob
from transphy3d.files import remove_stale_temporaries


def shards(num_frames: int, shard_frames: int | None) -> list[range]:
    """The frames of each shard of a scene."""
    size = shard_frames or num_frames
    return [range(start, min(start + size, num_frames)) for start in range(0, num_frames, max(size, 1))]


class PublishedExporter:
    """``transphy3d export --format transphy3d``."""

    name = "transphy3d"

    def __init__(self, out: Path, shard_frames: int | None = None, scene_type: str = DEFAULT_SCENE_TYPE):
        if shard_frames is not None and shard_frames < 1:
            raise UserError(f"must be at least 1, got {shard_frames}", field="--shard-frames")
        if not scene_type.replace("_", "").isalnum():
            raise UserError(f"letters, digits and _ only, got {scene_type!r}", field="--scene-type")
        try:
            from transphy3d.dkt import published
        except ModuleNotFoundError as error:
            raise UserError(
                f"the published-tar writer needs {error.name}: pip install 'transphy3d[export]'", field="--format"
            ) from error
        self.writer = published.export_scene
        self.out, self.shard_frames, self.scene_type = out, shard_frames, scene_type

    def tar(self, job: SceneJob, shard: int) -> Path:
        return self.out / f"{job.index:06d}_{self.scene_type}.{shard:06d}.tar"

    def _shards(self, job: SceneJob) -> list[range]:
        return shards(job.open().num_frames, self.shard_frames)

    def start(self, jobs: list[SceneJob]) -> dict[int, str]:
        self.out.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(self.out)
        return {}

    def is_done(self, job: SceneJob) -> bool:
        return all(self.tar(job, k).is_file() for k in range(len(self._shards(job))))

    def export(self, job: SceneJob) -> int:
        scene = job.open()
        frames = 0
        for k, shard in enumerate(shards(scene.num_frames, self.shard_frames)):
            if not self.tar(job, k).is_file():  # each tar is written whole (atomic rename)
                self.writer(scene, self.tar(job, k), f"{job.index:06d}", frames=shard)
                frames += len(shard)
        return frames

    def finish(self, jobs: list[SceneJob]) -> bool:
        return False
