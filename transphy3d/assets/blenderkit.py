"""A BlenderKit (Blendkit since 2026) search-and-download client for users with an API key.

- search: ``GET {server}/api/v1/search/?query=<words>+asset_type:model+license:<licence>`` with
  ``Authorization: Bearer <key>``; pages follow the response's ``next`` link.
- download: each result lists ``files`` (``fileType``, ``downloadUrl``); ``GET downloadUrl`` with
  ``scene_uuid`` answers ``{"filePath": <signed URL>}``, and that URL serves the file. Partial
  downloads (``<file>.part``) resume with an HTTP Range request.
- licence filter: ``royalty_free`` and/or ``cc_zero``, checked again on every result.

Every asset lands in ``<out>/<assetBaseId>/`` with a sidecar ``<file>.json`` (assetBaseId, name,
category, licence) that ``transphy3d assets import`` reads. The server URL is configurable; the
public API has no published schema, so the fields used are the ones above.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from transphy3d.errors import UserError

DEFAULT_SERVER = "https://www.blenderkit.com"
LICENCES = ("royalty_free", "cc_zero")
CHUNK = 1 << 13  # small: an interrupted download keeps what arrived


class FetchError(Exception):
    """One asset could not be fetched (the others go on)."""


@dataclass
class FetchResult:
    downloaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")[:80] or "asset"


class BlenderKitClient:
    def __init__(self, server: str, api_key: str, timeout: float = 60.0, session: requests.Session | None = None):
        if not server.startswith(("http://", "https://")):
            raise UserError(f"server URL must start with http:// or https://, got {server!r}", field="--server")
        self.server = server.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers["Authorization"] = f"Bearer {api_key}"
        self.scene_uuid = str(uuid.uuid4())

    def _get(self, url: str, **kwargs: Any) -> requests.Response:
        try:
            response = self.session.get(url, timeout=self.timeout, **kwargs)
        except requests.Timeout:
            raise FetchError(f"{url}: no answer within {self.timeout:g} s") from None
        except requests.RequestException as error:
            raise FetchError(f"{url}: {type(error).__name__}: {' '.join(str(error).split())[:200]}") from None
        if response.status_code == 401 or response.status_code == 403:
            raise UserError(f"{url}: HTTP {response.status_code}: the API key was refused", field="--api-key")
        if response.status_code >= 400:
            raise FetchError(f"{url}: HTTP {response.status_code}: {' '.join(response.text.split())[:200]}")
        return response

    def search(self, query: str, licences: tuple[str, ...] = LICENCES, limit: int = 50) -> list[dict[str, Any]]:
        """Model results for ``query`` with one of ``licences``, at most ``limit``."""
        for licence in licences:
            if licence not in LICENCES:
                raise UserError(f"unknown licence {licence!r}; allowed: {', '.join(LICENCES)}", field="--licence")
        words = " ".join(query.split())
        filters = " asset_type:model" + (f" license:{licences[0]}" if len(licences) == 1 else "")
        url: str | None = f"{self.server}/api/v1/search/"
        params: dict[str, str] | None = {"query": words + filters}
        results: list[dict[str, Any]] = []
        while url and len(results) < limit:
            try:
                page = self._get(url, params=params).json()
            except ValueError:
                raise FetchError(f"{url}: search answer is not JSON") from None
            params = None  # the next link carries them
            for item in page.get("results", []):
                if item.get("license") in licences and item.get("assetBaseId"):
                    results.append(item)
            url = page.get("next")
        return results[:limit]

    def download(self, item: dict[str, Any], out: Path) -> tuple[Path, bool]:
        """Download one result's .blend into ``out/<assetBaseId>/``; returns (path, downloaded now)."""
        base_id = _safe(str(item["assetBaseId"]))
        files = [f for f in item.get("files", []) if f.get("fileType") == "blend" and f.get("downloadUrl")]
        if not files:
            raise FetchError("no .blend file in the search result")
        folder = out / base_id
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{_safe(str(item.get('name') or base_id))}.blend"
        sidecar = target.with_name(target.name + ".json")
        if target.is_file() and sidecar.is_file():
            return target, False
        try:
            signed = self._get(files[0]["downloadUrl"], params={"scene_uuid": self.scene_uuid}).json()["filePath"]
        except (ValueError, KeyError, TypeError):
            raise FetchError("download answer has no filePath") from None
        part = target.with_name(target.name + ".part")
        offset = part.stat().st_size if part.is_file() else 0
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        response = self._get(signed, headers=headers, stream=True)
        mode = "ab" if offset and response.status_code == 206 else "wb"  # 200: the server ignored Range
        try:
            with open(part, mode) as handle:
                for chunk in response.iter_content(CHUNK):
                    handle.write(chunk)
        except requests.RequestException as error:
            raise FetchError(f"download interrupted ({type(error).__name__}); run again to resume") from None
        expected = response.headers.get("Content-Range", "").rpartition("/")[2]
        if expected.isdigit() and part.stat().st_size != int(expected):
            raise FetchError(f"download incomplete ({part.stat().st_size} of {expected} bytes); run again to resume")
        part.replace(target)
        meta = {
            "assetBaseId": item["assetBaseId"],
            "name": item.get("name") or base_id,
            "category": (item.get("category") or None),
            "licence": item.get("license"),
            "origin": "blenderkit",
        }
        sidecar.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        return target, True

    def fetch(self, query: str, out: Path, licences: tuple[str, ...] = LICENCES, limit: int = 50) -> FetchResult:
        """Search and download; one failed asset does not stop the others."""
        result = FetchResult()
        try:
            items = self.search(query, licences, limit)
        except FetchError as error:
            raise UserError(f"search failed: {error}") from None
        for item in items:
            try:
                path, fresh = self.download(item, out)
            except FetchError as error:
                result.failed.append({"asset": str(item.get("assetBaseId")), "reason": str(error)})
                continue
            (result.downloaded if fresh else result.skipped).append(str(path))
        return result
