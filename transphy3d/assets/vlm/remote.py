"""The OpenAI-compatible HTTP backend (e.g. vLLM serving Qwen2.5-VL): one chat-completions
request per asset, images as base64 data URLs, temperature 0, a JSON-schema response format.
A timeout, a refused connection, an error status or a body without an answer raises
``BackendError`` with one line saying which."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from transphy3d.assets.vlm.prompt import JSON_SCHEMA, PROMPT


class BackendError(Exception):
    """A request that produced no answer."""


def data_url(path: str | Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


@dataclass
class RemoteBackend:
    endpoint: str
    model_name: str
    api_key: str = ""
    timeout: float = 120.0
    max_tokens: int = 128
    parallel: int = 4

    name = "openai"

    def payload(self, images: list[str]) -> dict[str, Any]:
        content: list[dict[str, Any]] = [{"type": "image_url", "image_url": {"url": data_url(p)}} for p in images]
        content.append({"type": "text", "text": PROMPT})
        return {
            "model": self.model_name,
            "messages": [{"role": "user", "content": content}],
            "temperature": 0,
            "max_tokens": self.max_tokens,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "asset_verdict", "schema": JSON_SCHEMA, "strict": True},
            },
        }

    def ask_one(self, images: list[str]) -> str:
        url = self.endpoint.rstrip("/") + "/chat/completions"
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            response = requests.post(url, json=self.payload(images), headers=headers, timeout=self.timeout)
        except requests.Timeout:
            raise BackendError(f"{url}: no answer within {self.timeout:g} s") from None
        except requests.RequestException as error:
            raise BackendError(f"{url}: {type(error).__name__}: {' '.join(str(error).split())[:200]}") from None
        if response.status_code >= 400:
            raise BackendError(f"{url}: HTTP {response.status_code}: {' '.join(response.text.split())[:200]}")
        try:
            return str(response.json()["choices"][0]["message"]["content"])
        except (ValueError, KeyError, IndexError, TypeError):
            raise BackendError(f"{url}: response has no choices[0].message.content: {response.text[:200]}") from None

    def ask(self, batch: list[list[str]]) -> list[str | BackendError]:
        """Answers of a batch (requests in parallel); failed requests give their BackendError."""

        def one(images: list[str]) -> str | BackendError:
            try:
                return self.ask_one(images)
            except BackendError as error:
                return error

        with ThreadPoolExecutor(max_workers=max(1, min(self.parallel, len(batch)))) as pool:
            return list(pool.map(one, batch))
