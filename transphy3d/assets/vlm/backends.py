"""The filter's settings and its backends: Qwen2.5-VL through ``transformers`` on this machine, or
any OpenAI-compatible server (vLLM) over HTTP. Both answer ``ask(list of image lists)`` with a
list of answer texts (or errors)."""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import model_validator

from transphy3d.assets.vlm.select import DEFAULT_THRESHOLD
from transphy3d.documents import Settings, option
from transphy3d.errors import UserError


class FilterOptions(Settings):
    """How the filter asks and what it keeps; ``transphy3d assets filter`` is built from this."""

    backend: Literal["transformers", "openai"] = option("transformers", "where the model runs", "--backend")
    model: str = option("Qwen/Qwen2.5-VL-7B-Instruct", "model path or name", "--model")
    endpoint: str | None = option(None, "OpenAI-compatible server URL (openai backend), e.g. http://host:8000/v1",
                                  "--endpoint")  # fmt: skip
    api_key: str | None = option(None, "key for the openai backend (default: $OPENAI_API_KEY, may be empty)",
                                 "--api-key")  # fmt: skip
    batch: int = option(4, "assets per generate call / request wave", "--batch", ge=1)
    keep_top: int | None = option(None, "keep the K best-scored assets", "--keep-top", ge=0, metavar="K",
                                  exclusive="keep")  # fmt: skip
    threshold: float | None = option(None, "keep assets scored >= T", "--threshold", metavar="T", exclusive="keep",
                                     shown=str(DEFAULT_THRESHOLD))  # fmt: skip
    max_new_tokens: int = option(128, "tokens the model may answer with", "--max-new-tokens", ge=1)
    timeout: float = option(120.0, "seconds per HTTP request (openai backend)", "--timeout", gt=0)
    device: str = option("auto", "torch device for the transformers backend", "--device")
    threads: int | None = option(None, "torch CPU threads (transformers backend; default torch's)", "--threads", ge=1)
    rescore: bool = option(False, "ask again about assets that have a verdict", "--rescore")
    ray: Literal["auto", "always", "never"] = option("auto", "run the batches on Ray actors: auto (from "
                                                     "--ray-min-assets assets on), always or never")  # fmt: skip
    ray_min_assets: int = option(256, "use Ray from this many assets", "--ray-min-assets", ge=1)
    ray_workers: int = option(2, "Ray actors, each with its own model", "--ray-workers", ge=1)
    ray_cpus: int | None = option(None, "num_cpus for a local ray.init (default: workers)", "--ray-cpus", ge=1)

    @model_validator(mode="after")
    def _check(self) -> FilterOptions:
        if self.backend == "openai" and not self.endpoint:
            raise UserError(
                "the openai backend needs --endpoint URL (e.g. http://localhost:8000/v1)", field="--endpoint"
            )
        return self


def make_backend(options: FilterOptions) -> Any:
    """The backend object: ``ask(list of image lists) -> list of answer texts (or errors)``."""
    if options.backend == "openai":
        from transphy3d.assets.vlm.remote import RemoteBackend

        api_key = options.api_key if options.api_key is not None else os.environ.get("OPENAI_API_KEY", "")
        return RemoteBackend(
            options.endpoint,
            options.model,
            api_key,
            options.timeout,
            options.max_new_tokens,
            parallel=options.batch,
        )
    from transphy3d.assets.vlm.local import LocalBackend

    try:
        return LocalBackend(options.model, options.device, options.max_new_tokens, threads=options.threads)
    except OSError as error:
        raise UserError(f"cannot load the model: {' '.join(str(error).split())[:300]}", field="--model") from None
