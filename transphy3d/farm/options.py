"""What a farm run is asked to do (``transphy3d render``): every option defined once, with its
default, range, help text and flag; the command line is built from this model."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from transphy3d.documents import Settings, option


class FarmOptions(Settings):
    """A render run: which scenes, where, on which cluster, with how many retries."""

    scenes: int = option(..., "number of scenes (indices 0..N-1)", "--scenes", ge=0)
    out: Path = option(..., "output directory (shared storage on a cluster)", "--out")
    config: str = option("default", "scene config: a shipped one by name (see `transphy3d configs`) or a path",
                         "--config")  # fmt: skip
    seed: int = option(0, "run seed; scene i's seed derives from it", "--seed")
    address: str | None = option(None, "join this Ray cluster (HOST:PORT, ray://HOST:PORT or auto; default: "
                                 "$RAY_ADDRESS, else a local cluster started for the run)", "--address")  # fmt: skip
    workers: int | None = option(None, "scenes rendered at once (default or 0: one per GPU, else one per node)",
                                 "--workers", ge=0)  # fmt: skip
    gpus_per_worker: float | None = option(None, "GPUs per worker (default 1 on GPU clusters, else 0)",
                                           "--gpus-per-worker", ge=0)  # fmt: skip
    threads_per_worker: int | None = option(None, "CPU threads per worker (default or 0: CPUs / workers)",
                                            "--threads-per-worker", ge=0)  # fmt: skip
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
