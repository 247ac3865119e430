"""``transphy3d assets filter``: ask the model about every asset that has no verdict yet, in
batches, writing the manifest after each batch (an interrupted run resumes where it stopped), then
keep the best-scored assets. With many assets the batches run on Ray actors, each holding a model."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transphy3d.assets.vlm.backends import FilterOptions, make_backend
from transphy3d.assets.vlm.parse import error_verdict, parse_answer
from transphy3d.assets.vlm.select import select
from transphy3d.errors import UserError
from transphy3d.scene.asset_bank import AssetRecord, Verdict, read_manifest, resolve, write_manifest


@dataclass
class FilterSummary:
    total: int
    asked: int
    kept: int
    seconds: float
    used_ray: bool
    counts: dict[str, int] = field(default_factory=dict)
    failed: int = 0  # requests of this run that failed (their assets keep any earlier verdict)
    first_error: str = ""

    @property
    def assets_per_second(self) -> float:
        return self.asked / self.seconds if self.seconds > 0 else 0.0


def verdicts(answers: list[Any], backend: str, model: str) -> list[Verdict]:
    return [
        error_verdict(str(a), backend, model) if isinstance(a, Exception) else parse_answer(a, backend, model)
        for a in answers
    ]


# A request that failed, or whose answer is not a verdict: counted as failed, never replacing an
# answer. Only the former is asked again by itself (a greedy model answers the same text again).
FAILED_STATUSES = ("error", "malformed")


def pending_records(records: list[AssetRecord], rescore: bool) -> list[int]:
    """Indices of records to ask about: no verdict yet, or a failed request (or all with rescore).
    Curated verdicts are kept unless ``rescore``."""
    return [i for i, r in enumerate(records) if rescore or r.verdict is None or r.verdict.status == "error"]


def failure_reason(verdict: Verdict) -> str:
    """Why a request counts as failed: the backend's error, or the answer that is not a verdict."""
    if verdict.status == "error":
        return verdict.error or ""
    return f"the answer is not a verdict: {' '.join((verdict.raw or '').split())[:120]!r}"


def _images(manifest: Path, record: AssetRecord) -> list[str]:
    paths = [str(resolve(manifest, p)) for p in record.thumbnails]
    if not paths or not all(Path(p).is_file() for p in paths):
        raise UserError(
            f"asset {record.asset_id} has no thumbnails; run `transphy3d assets thumbnails --manifest {manifest}` first",
            path=str(manifest),
        )
    return paths


def run_filter(manifest: str | Path, options: FilterOptions) -> FilterSummary:
    manifest = Path(manifest)
    records = read_manifest(manifest)
    todo = pending_records(records, options.rescore)
    images = {i: _images(manifest, records[i]) for i in todo}
    batches = [todo[k : k + options.batch] for k in range(0, len(todo), options.batch)]
    use_ray = bool(todo) and (
        options.ray == "always" or (options.ray == "auto" and len(todo) >= options.ray_min_assets)
    )
    start = time.perf_counter()
    if use_ray:
        from transphy3d.assets.vlm.on_ray import run_on_ray

        results = run_on_ray(options, [[images[i] for i in b] for b in batches])
    elif todo:
        backend = make_backend(options)
        results = ((k, backend.ask([images[i] for i in b])) for k, b in enumerate(batches))
    else:
        results = iter(())
    failed, first_error = 0, ""
    for batch_index, answers in results:
        for i, verdict in zip(
            batches[batch_index], verdicts(answers, _backend_name(options), options.model), strict=True
        ):
            if verdict.status in FAILED_STATUSES:
                failed += 1
                first_error = first_error or failure_reason(verdict)
                previous = records[i].verdict
                if previous is not None and previous.status not in FAILED_STATUSES:
                    continue  # a failed request never replaces an answer
            records[i] = records[i].model_copy(update={"verdict": verdict})
        write_manifest(manifest, records)  # checkpoint: a stopped run resumes after this batch
    seconds = time.perf_counter() - start
    keep = select(records, options.keep_top, options.threshold)
    records = [r.model_copy(update={"kept": r.asset_id in keep}) for r in records]
    write_manifest(manifest, records)
    counts = Counter(r.verdict.status for r in records if r.verdict is not None)
    return FilterSummary(len(records), len(todo), len(keep), seconds, use_ray, dict(counts), failed, first_error)


def _backend_name(options: FilterOptions) -> str:
    return "openai" if options.backend == "openai" else "transformers"
