"""What a farm run is asked to do (``transphy3d render``): every option defined once, with its
default, range, help text and flag; the command line is built from this model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from transphy3d.documents import Settings, option
from transphy3d.farm.plan import parse_resources

GIB = 1 << 30
MAX_SCENES = 1_000_000


class FarmOptions(Settings):
    """A render run: which scenes, where, on which cluster, with how many retries."""

    scenes: int = option(..., "number of scenes (indices 0..N-1)", "--scenes", ge=0)
    out: Path = option(..., "output directory (shared storage on a cluster)", "--out")
    config: str = option("default", "scene config: a shipped one by name (see `transphy3d configs`) or a path",
                         "--config")  # fmt: skip
    seed: int = option(0, "run seed; scene i's seed derives from it", "--seed", ge=0)
    address: str | None = option(None, "join this Ray cluster (HOST:PORT, ray://HOST:PORT or auto; default: "
                                 "$RAY_ADDRESS, else a local cluster started for the run)", "--address")  # fmt: skip
    workers: int | None = option(None, "scenes rendered at once (default or 0: one per GPU, else one per node)",
                                 "--workers", ge=0)  # fmt: skip
    gpus_per_worker: float | None = option(None, "GPUs per worker (default 1 on GPU clusters, else 0)",
                                           "--gpus-per-worker", ge=0)  # fmt: skip
    threads_per_worker: int | None = option(None, "CPU threads per worker (default or 0: CPUs / workers)",
                                            "--threads-per-worker", ge=0)  # fmt: skip
    worker_resources: dict[str, float] = option({}, "Ray custom resources each worker needs, NAME=AMOUNT[,...]: "
                                                "only nodes that offer them render (e.g. render=1 for nodes started "
                                                "with --resources '{\"render\": 1}')", "--worker-resources",
                                                metavar="NAME=AMOUNT[,...]", shown="")  # fmt: skip
    warm_workers: bool = option(False, "keep one render process per worker between scenes (no per-scene Python "
                                "start-up, imports, device probe or GPU kernel load); a crash still costs only the "
                                "scene in flight", "--warm-workers")  # fmt: skip
    warm_recycle_scenes: int = option(50, "with --warm-workers: a new render process after this many scenes",
                                      "--warm-recycle-scenes", ge=1)  # fmt: skip
    warm_recycle_gb: float = option(8.0, "with --warm-workers: a new render process once one's resident memory "
                                    "passes this many GiB", "--warm-recycle-gb", gt=0)  # fmt: skip
    retries: int = option(2, "retries of a crashed/killed/timed-out scene", "--retries", ge=0)
    timeout: float = option(3600.0, "seconds before a scene's worker is killed", "--timeout", gt=0)
    backoff: float = option(2.0, "first retry delay in seconds, doubled each retry", "--backoff", ge=0)
    allow_changed_config: bool = option(False, "add scenes of a different config or seed to an existing output "
                                        "directory", "--allow-changed-config")  # fmt: skip
    worker_prefix: str = option("", "command prefix for each worker process, e.g. 'nice -n 10'", "--worker-prefix")
    overrides: list[str] = Field(default_factory=list, description="--set KEY=VALUE overrides of the config")
    progress: bool = option(True, "one line per scene instead of a progress bar", "--no-progress")
    verify: bool = option(False, "validate the finished scenes first (first and last frame) and render the "
                          "invalid ones again", "--verify")  # fmt: skip

    @field_validator("scenes")
    @classmethod
    def _scene_names_fit(cls, value: int) -> int:
        if value > MAX_SCENES:
            raise ValueError(f"at most {MAX_SCENES} (scene_NNNNNN names have six digits)")
        return value

    @field_validator("worker_resources", mode="before")
    @classmethod
    def _parse_resources(cls, value: Any) -> Any:
        return parse_resources(value) if isinstance(value, str) else value

    @property
    def warm_recycle_bytes(self) -> int:
        return int(self.warm_recycle_gb * GIB)
