"""The filter's settings and its backends: Qwen2.5-VL through ``transformers`` on this machine, or
any OpenAI-compatible server (vLLM) over HTTP. Both answer ``ask(list of image lists)`` with a
list of answer texts (or errors)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from transphy3d.errors import UserError


@dataclass
class FilterOptions:
    backend: str = "transformers"
    model: str = "Qwen/Qwen2.5-VL-7B-Instruct"
    endpoint: str | None = None
    api_key: str = ""
    batch: int = 4
    keep_top: int | None = None
    threshold: float | None = 0.5
    max_new_tokens: int = 128
    timeout: float = 120.0
    device: str = "auto"
    threads: int | None = None
    rescore: bool = False
    ray: str = "auto"  # auto, always, never
    ray_min_assets: int = 256
    ray_workers: int = 2
    ray_cpus: int | None = None


def make_backend(options: FilterOptions) -> Any:
    """The backend object: ``ask(list of image lists) -> list of answer texts (or errors)``."""
    if options.backend == "openai":
        from transphy3d.assets.vlm.remote import RemoteBackend

        if not options.endpoint:
            raise UserError("the openai backend needs an endpoint URL", field="--endpoint")
        return RemoteBackend(
            options.endpoint,
            options.model,
            options.api_key,
            options.timeout,
            options.max_new_tokens,
            parallel=options.batch,
        )
    from transphy3d.assets.vlm.local import LocalBackend

    try:
        return LocalBackend(options.model, options.device, options.max_new_tokens, threads=options.threads)
    except OSError as error:
        raise UserError(f"cannot load the model: {' '.join(str(error).split())[:300]}", field="--model") from None
