"""Filter throughput (assets per second) of each backend on a tiny random Qwen2.5-VL built here:
the local transformers backend (batch 1 and 4), the same on Ray (2 actors), and the
OpenAI-compatible backend against a loopback server that answers with the same tiny model.
``--full-size`` uses the real Qwen2.5-VL-7B architecture with random weights (needs a GPU).

    python benchmarks/assets_filter.py [--assets 16] [--views 3] [--size 160] [--full-size]
"""

from __future__ import annotations

import argparse
import base64
import json
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from _common import REPO, machine
from PIL import Image

from transphy3d.assets.vlm.backends import FilterOptions
from transphy3d.assets.vlm.local import LocalBackend
from transphy3d.assets.vlm.run import run_filter
from transphy3d.assets.vlm.tiny import build_tiny_qwen
from transphy3d.scene.asset_bank import read_manifest, write_manifest


def make_bank(folder: Path, assets: int, views: int, size: int) -> Path:
    """``assets`` records (starter records reused under new ids) with synthetic thumbnails."""
    folder.mkdir(parents=True)
    template = read_manifest(REPO / "assets_manifest" / "starter.jsonl")
    records = []
    for index in range(assets):
        thumbs = []
        for view in range(views):
            pixels = (np.random.default_rng(index * 100 + view).random((size, size, 3)) * 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"a{index:04d}_{view}.png")
            thumbs.append(f"a{index:04d}_{view}.png")
        base = template[index % len(template)]
        records.append(base.model_copy(update={"asset_id": f"a{index:04d}", "thumbnails": thumbs, "verdict": None}))
    write_manifest(folder / "bank.jsonl", records)
    return folder / "bank.jsonl"


def serve_model(model: str, max_new_tokens: int, threads: int) -> tuple[ThreadingHTTPServer, str]:
    """A minimal OpenAI-compatible chat-completions server answering with ``model``."""
    backend = LocalBackend(model, max_new_tokens=max_new_tokens, threads=threads)
    lock = threading.Lock()
    scratch = Path(tempfile.mkdtemp())

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            paths = []
            for k, part in enumerate(body["messages"][0]["content"]):
                if part["type"] == "image_url":
                    path = scratch / f"{threading.get_ident()}_{k}.png"
                    path.write_bytes(base64.b64decode(part["image_url"]["url"].split(",", 1)[1]))
                    paths.append(str(path))
            with lock:
                answer = backend.ask([paths])[0]
            data = json.dumps({"choices": [{"message": {"content": answer}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=16)
    parser.add_argument("--views", type=int, default=3)
    parser.add_argument("--size", type=int, default=160)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--full-size", action="store_true", help="Qwen2.5-VL-7B architecture, random weights")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads per model (default 1)")
    args = parser.parse_args()
    import torch

    print(f"machine: {machine()}; torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}; "
          f"torch threads per model: {args.threads}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        model = str(build_tiny_qwen(tmp / "model", full_size=args.full_size))
        print(f"model {'7B-size' if args.full_size else 'tiny'} random, built and saved in "
              f"{time.perf_counter() - start:.1f} s; {args.assets} assets x {args.views} views of {args.size} px, "
              f"max_new_tokens {args.max_new_tokens}")  # fmt: skip
        common = {"model": model, "max_new_tokens": args.max_new_tokens, "threshold": 0.5, "threads": args.threads}
        runs = [
            ("transformers, batch 1", FilterOptions(**common, batch=1, ray="never")),
            ("transformers, batch 4", FilterOptions(**common, batch=4, ray="never")),
            ("transformers on Ray, 2 actors, batch 4",
             FilterOptions(**common, batch=4, ray="always", ray_workers=2, ray_cpus=2)),
        ]  # fmt: skip
        for index, (label, options) in enumerate(runs):
            manifest = make_bank(tmp / f"bank{index}", args.assets, args.views, args.size)
            wall = time.perf_counter()
            summary = run_filter(manifest, options)
            wall = time.perf_counter() - wall
            print(f"{label}: {summary.assets_per_second:.2f} assets/s (generate loop {summary.seconds:.1f} s; "
                  f"wall incl. model load{' and Ray start' if summary.used_ray else ''} {wall:.1f} s)")  # fmt: skip
        server, endpoint = serve_model(model, args.max_new_tokens, args.threads)
        manifest = make_bank(tmp / "bank_http", args.assets, args.views, args.size)
        options = FilterOptions(backend="openai", model="tiny", endpoint=endpoint, batch=4, **{
            k: v for k, v in common.items() if k not in ("model", "threads")})  # fmt: skip
        summary = run_filter(manifest, options)
        server.shutdown()
        print(f"openai backend -> loopback server with the same model, 4 parallel requests: "
              f"{summary.assets_per_second:.2f} assets/s ({summary.counts})")  # fmt: skip


if __name__ == "__main__":
    main()
