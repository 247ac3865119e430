"""HTTP clients against stand-in servers on loopback: the OpenAI-compatible filter backend
(answers, malformed text, error statuses, timeouts, refused connections) and the BlenderKit
fetch client (Bearer auth, paging, licence filter, resumable downloads, then import)."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from helpers import REPO, run_cli
from test_assets_vlm import make_bank

from transphy3d.assets.vlm.backends import FilterOptions
from transphy3d.assets.vlm.prompt import JSON_SCHEMA
from transphy3d.assets.vlm.run import run_filter
from transphy3d.scene.asset_bank import Verdict, read_manifest, write_manifest

GOOD = {"transparent": True, "reflective": True, "material_class": "glass", "category": "jar", "confidence": 0.9}


class Server:
    """A ThreadingHTTPServer on 127.0.0.1 with a handler function; records requests."""

    def __init__(self, handle):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                handle(self, server)

            do_POST = do_GET

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def reply(handler, status: int, body: bytes | str | dict, headers: dict | None = None) -> None:
    data = json.dumps(body).encode() if isinstance(body, dict) else body.encode() if isinstance(body, str) else body
    handler.send_response(status)
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


@pytest.fixture()
def bank(tmp_path):
    manifest = make_bank(tmp_path, count=5, views=2)
    records = read_manifest(manifest)
    first_image = {r.asset_id: hashlib.sha256((tmp_path / r.thumbnails[0]).read_bytes()).hexdigest() for r in records}
    return manifest, records, first_image


def test_openai_backend_against_a_stand_in_server(bank) -> None:
    manifest, records, first_image = bank
    ids = [r.asset_id for r in records]
    behaviour = dict(
        zip([first_image[i] for i in ids], ["good", "chatter", "http500", "slow", "nochoices"], strict=True)
    )
    healed = set()

    def handle(h, server):
        body = json.loads(h.rfile.read(int(h.headers["Content-Length"])))
        assert urlparse(h.path).path == "/v1/chat/completions"
        assert h.headers["Authorization"] == "Bearer sk-test"
        assert body["temperature"] == 0 and body["model"] == "qwen-vl"
        assert body["response_format"]["json_schema"]["schema"] == JSON_SCHEMA
        urls = [c["image_url"]["url"] for c in body["messages"][0]["content"] if c["type"] == "image_url"]
        assert len(urls) == 2 and all(u.startswith("data:image/png;base64,") for u in urls)
        key = hashlib.sha256(base64.b64decode(urls[0].split(",", 1)[1])).hexdigest()
        kind = "good" if key in healed else behaviour[key]
        with server.lock:
            server.requests.append({"kind": kind})
        if kind == "good":
            reply(h, 200, {"choices": [{"message": {"content": json.dumps(GOOD)}}]})
        elif kind == "chatter":
            reply(h, 200, {"choices": [{"message": {"content": "It looks like glass to me."}}]})
        elif kind == "http500":
            reply(h, 500, "model overloaded")
        elif kind == "slow":
            time.sleep(2.0)
            reply(h, 200, {"choices": [{"message": {"content": json.dumps(GOOD)}}]})
        else:
            reply(h, 200, {"error": "no choices here"})

    server = Server(handle)
    try:
        options = FilterOptions(
            backend="openai",
            model="qwen-vl",
            endpoint=server.url + "/v1",
            api_key="sk-test",
            batch=5,
            timeout=0.5,
            threshold=0.5,
        )
        summary = run_filter(manifest, options)
        verdicts = {r.asset_id: r.verdict for r in read_manifest(manifest)}
        good, chatter, failed, slow, nochoices = (verdicts[i] for i in ids)
        assert good.status == "ok" and good.score == 0.9 and good.backend == "openai"
        assert chatter.status == "malformed" and chatter.raw == "It looks like glass to me."
        assert failed.status == "error" and "HTTP 500" in failed.error and "model overloaded" in failed.error
        assert slow.status == "error" and "no answer within 0.5 s" in slow.error
        assert nochoices.status == "error" and "choices" in nochoices.error
        assert summary.counts == {"ok": 1, "malformed": 1, "error": 3} and summary.kept == 1
        # A second run asks again only about the failed requests; now they succeed.
        healed.update(first_image[i] for i in ids[2:])
        time.sleep(2.0)  # let the slow request finish before counting
        before = len(server.requests)
        again = run_filter(manifest, options)
        assert again.asked == 3 and len(server.requests) - before == 3
        kept = {r.asset_id for r in read_manifest(manifest) if r.kept}
        assert kept == {ids[0], *ids[2:]}
    finally:
        server.close()


def test_openai_backend_with_no_server(bank) -> None:
    manifest, _, _ = bank
    server = Server(lambda h, s: None)
    url = server.url
    server.close()  # nothing listens there any more
    summary = run_filter(manifest, FilterOptions(backend="openai", model="m", endpoint=url, batch=2, timeout=2.0))
    assert summary.counts == {"error": 5} and summary.kept == 0
    assert all("ConnectionError" in r.verdict.error for r in read_manifest(manifest))
    assert summary.failed == 5 and "ConnectionError" in summary.first_error


def test_a_failed_backend_never_overwrites_a_verdict(bank) -> None:
    """Scored assets asked again (--rescore) of a server that is gone keep their verdicts and
    their kept flags; the command exits 1 and says how many requests failed."""
    manifest, records, _ = bank
    good = Verdict(status="ok", transparent=True, reflective=False, material_class="glass", category="cup",
                   confidence=0.9, score=0.9, backend="openai", model="m")  # fmt: skip
    write_manifest(manifest, [r.model_copy(update={"verdict": good, "kept": True}) for r in records])
    before = manifest.read_text()
    server = Server(lambda h, s: None)
    url = server.url
    server.close()
    result = run_cli("assets", "filter", "--manifest", str(manifest), "--backend", "openai", "--endpoint", url,
                     "--model", "m", "--rescore", "--timeout", "2", "--no-ray")  # fmt: skip
    assert result.returncode == 1, result.stderr
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1 and "5 of 5 requests failed" in errors[0] and "ConnectionError" in errors[0]
    assert manifest.read_text() == before


# ------------------------------------------------------------------------------------------ BlenderKit
BLEND = (REPO / "assets_manifest" / "starter" / "goblet.blend").read_bytes()
ITEMS = [
    {
        "assetBaseId": "6f1c3a52-0000-4000-8000-000000000001",
        "name": "Glass Goblet",
        "license": "royalty_free",
        "category": "glassware",
    },
    {"assetBaseId": "6f1c3a52-0000-4000-8000-000000000002", "name": "News Photo Vase", "license": "editorial"},
    {"assetBaseId": "6f1c3a52-0000-4000-8000-000000000003", "name": "Crystal Cup", "license": "cc_zero"},
]


def blenderkit_handler(state: dict):
    def handle(h, server):
        parsed = urlparse(h.path)
        with server.lock:
            server.requests.append({"path": parsed.path, "range": h.headers.get("Range")})
        if h.headers.get("Authorization") != "Bearer key-123" and not parsed.path.startswith("/files/"):
            return reply(h, 401, {"detail": "Invalid token."})
        if parsed.path == "/api/v1/search/":
            query = parse_qs(parsed.query)
            page = int(query.get("page", ["1"])[0])
            if page == 1:
                assert "asset_type:model" in query["query"][0] and query["query"][0].startswith("glass")
            items = ITEMS[:2] if page == 1 else ITEMS[2:]
            results = [
                {
                    **i,
                    "files": [
                        {"fileType": "thumbnail", "downloadUrl": "x"},
                        {"fileType": "blend", "downloadUrl": f"{server.url}/dl/{i['assetBaseId']}"},
                    ],
                }
                for i in items
            ]
            nxt = f"{server.url}/api/v1/search/?page=2" if page == 1 else None
            return reply(h, 200, {"count": 3, "next": nxt, "results": results})
        if parsed.path.startswith("/dl/"):
            assert parse_qs(parsed.query)["scene_uuid"]
            return reply(h, 200, {"filePath": f"{server.url}/files/{parsed.path[4:]}.blend"})
        if parsed.path.startswith("/files/"):
            start = 0
            if h.headers.get("Range"):
                start = int(h.headers["Range"].split("=")[1].rstrip("-"))
            if state.get("cut") and start == 0:  # the first attempt breaks off half-way
                state["cut"] -= 1
                h.send_response(200)
                h.send_header("Content-Length", str(len(BLEND)))
                h.end_headers()
                h.wfile.write(BLEND[: len(BLEND) // 2])
                h.wfile.flush()
                h.close_connection = True
                return None
            status = 206 if start else 200
            headers = {"Content-Range": f"bytes {start}-{len(BLEND) - 1}/{len(BLEND)}"} if start else {}
            return reply(h, status, BLEND[start:], headers)
        return reply(h, 404, "not found")

    return handle


def test_fetch_resumes_downloads_and_imports(tmp_path) -> None:
    state = {"cut": 1}
    server = Server(blenderkit_handler(state))
    out = tmp_path / "downloads"
    env = {"BLENDERKIT_API_KEY": "key-123"}
    try:
        first = run_cli(
            "assets",
            "fetch",
            "--server",
            server.url,
            "--query",
            "glass  cup",
            "--out",
            str(out),
            "--timeout",
            "5",
            env=env,
        )
        assert first.returncode == 1  # one download broke off
        assert "1 downloaded" in first.stdout and "1 failed" in first.stdout and "run again to resume" in first.stderr
        parts = list(out.rglob("*.part"))
        kept = parts[0].stat().st_size
        assert len(parts) == 1 and 0 < kept < len(BLEND)
        second = run_cli("assets", "fetch", "--server", server.url, "--query", "glass cup", "--out", str(out), env=env)
        assert second.returncode == 0, second.stderr
        assert "1 downloaded, 1 already there, 0 failed" in second.stdout
        ranges = [r["range"] for r in server.requests if r["path"].startswith("/files/") and r["range"]]
        assert ranges == [f"bytes={kept}-"]  # resumed where it broke off
        files = sorted(out.rglob("*.blend"))
        assert len(files) == 2 and all(f.read_bytes() == BLEND for f in files)
        assert not list(out.rglob("*.part"))
        assert not any("000000000002" in str(f) for f in files)  # editorial licence filtered out
        cc0 = run_cli(
            "assets",
            "fetch",
            "--server",
            server.url,
            "--query",
            "glass",
            "--out",
            str(tmp_path / "cc0"),
            "--licence",
            "cc_zero",
            env=env,
        )
        assert cc0.returncode == 0 and "1 downloaded" in cc0.stdout
        assert [p.parent.name for p in (tmp_path / "cc0").rglob("*.blend")] == [ITEMS[2]["assetBaseId"]]
    finally:
        server.close()
    manifest = tmp_path / "bank.jsonl"
    result = run_cli("assets", "import", str(out), "--manifest", str(manifest))
    assert result.returncode == 0, result.stderr
    records = {r.asset_id: r for r in read_manifest(manifest)}
    # Both files have the same content, so the second is skipped as a duplicate.
    assert set(records) <= {f"bk-{ITEMS[0]['assetBaseId']}", f"bk-{ITEMS[2]['assetBaseId']}"} and len(records) == 1
    record = next(iter(records.values()))
    assert record.origin == "blenderkit" and record.licence in ("royalty_free", "cc_zero")


def test_fetch_errors_are_one_line(tmp_path) -> None:
    server = Server(blenderkit_handler({}))
    try:
        bad_key = run_cli(
            "assets",
            "fetch",
            "--server",
            server.url,
            "--query",
            "glass",
            "--out",
            str(tmp_path),
            env={"BLENDERKIT_API_KEY": "wrong"},
        )
        assert bad_key.returncode == 2 and "API key was refused" in bad_key.stderr
        assert len(bad_key.stderr.strip().splitlines()) == 1
    finally:
        server.close()
    no_key = run_cli("assets", "fetch", "--query", "glass", "--out", str(tmp_path), env={"BLENDERKIT_API_KEY": ""})
    assert no_key.returncode == 2 and "BLENDERKIT_API_KEY" in no_key.stderr
    bad_url = run_cli(
        "assets", "fetch", "--server", "ftp://x", "--query", "g", "--out", str(tmp_path), "--api-key", "k"
    )
    assert bad_url.returncode == 2 and "http://" in bad_url.stderr
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_every_assets_command_has_help() -> None:
    for command in ("import", "fetch", "thumbnails", "filter", "starter"):
        result = run_cli("assets", command, "--help")
        assert result.returncode == 0 and "usage: transphy3d assets " + command in result.stdout
    assert Counter(run_cli("assets", "--help").stdout.split()).get("filter", 0) >= 1
