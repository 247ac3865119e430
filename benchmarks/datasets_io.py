"""How fast the datasets layer starts and decodes, measured side by side in one run.

    python benchmarks/datasets_io.py                       # 100,000 frames scanned; decode at native sizes
    python benchmarks/datasets_io.py --scan-frames 2000 --decode-frames 4

1. Start-up: a DREDS-layout tree of ``--scan-frames`` frames (empty files: a scan lists names, it
   decodes nothing) in scenes of 100 frames; ``open_dataset`` + the training source's index
   (``DatasetSource``: sequences, items) cold (no cache), then warm (the cached scan: one ``stat``
   per folder), and the ratio.
2. Decode throughput per format (DREDS, HISS, ClearGrasp, ClearPose, our render output and the
   published tars), in one process (what one DataLoader worker does): frames per
   second reading what training reads (rgb + depth, checked against each other) at each format's
   published resolution, with noisy content that compresses like real images.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import machine
from PIL import Image

from transphy3d.datasets import cleargrasp, clearpose, dreds, hiss, open_dataset
from transphy3d.output.exr import write_exr

SCENE_FRAMES = 100


def noisy_rgb(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    rows, cols = np.mgrid[0:h, 0:w]
    base = np.stack([rows / h, cols / w, (rows + cols) / (h + w)], axis=-1) * 200
    return np.clip(base + rng.normal(0, 12, size=(h, w, 3)), 0, 255).astype(np.uint8)


def noisy_depth(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    rows = np.mgrid[0:h, 0:w][0]
    return (0.5 + rows / h + rng.normal(0, 0.002, size=(h, w))).astype(np.float32)


def write_scan_tree(root: Path, frames: int) -> None:
    for number in range(frames):
        scene = root / f"{number // SCENE_FRAMES:05d}"
        if number % SCENE_FRAMES == 0:
            scene.mkdir(parents=True)
        for suffix in (dreds.COLOR, dreds.DEPTHS[0]):
            (scene / f"{number % SCENE_FRAMES:04d}{suffix}").touch()


def startup(root: Path, cache: Path) -> float:
    from transphy3d.dkt.data import DatasetSource

    start = time.perf_counter()
    source = DatasetSource("dreds", root, cache_dir=cache)
    seconds = time.perf_counter() - start
    assert len(source.lengths) > 0
    return seconds


def write_formats(root: Path, count: int, rng: np.random.Generator) -> dict[str, str]:
    """One folder per format at its published resolution; returns name -> spec."""
    specs = {}
    scene = root / "dreds" / "00000"
    scene.mkdir(parents=True)
    for i in range(count):
        Image.fromarray(noisy_rgb(720, 1280, rng)).save(scene / f"{i:04d}{dreds.COLOR}")
        depth = noisy_depth(360, 640, rng)
        write_exr(scene / f"{i:04d}{dreds.DEPTHS[0]}", {c: depth for c in "RGB"})
    specs["dreds (1280x720 PNG + 640x360 float EXR)"] = f"dreds:{root / 'dreds'}"
    scene = root / "hiss" / "train" / "s0"
    scene.mkdir(parents=True)
    for i in range(count):
        Image.fromarray(noisy_rgb(360, 640, rng)).save(scene / f"{i:04d}{hiss.COLOR}")
        write_exr(scene / f"{i:04d}{hiss.DEPTH}", {"Y": noisy_depth(360, 640, rng).astype(np.float16)})
    specs["hiss (640x360 PNG + half EXR)"] = f"hiss:{root / 'hiss'}"
    obj = root / "cleargrasp" / "cup-train"
    for sub in (cleargrasp.SYN_RGB[0], cleargrasp.SYN_DEPTH[0]):
        (obj / sub).mkdir(parents=True)
    for i in range(count):
        Image.fromarray(noisy_rgb(1080, 1920, rng)).save(
            obj / cleargrasp.SYN_RGB[0] / f"{i:09d}{cleargrasp.SYN_RGB[1]}"
        )
        depth = noisy_depth(1080, 1920, rng).astype(np.float16)
        write_exr(obj / cleargrasp.SYN_DEPTH[0] / f"{i:09d}{cleargrasp.SYN_DEPTH[1]}", {c: depth for c in "RGB"})
    specs["cleargrasp (1920x1080 JPEG + half EXR)"] = f"cleargrasp:{root / 'cleargrasp'}"
    scene = root / "clearpose" / "set1" / "scene1"
    scene.mkdir(parents=True)
    from scipy.io import savemat

    meta = {}
    for i in range(count):
        frame = f"{i:06d}"
        Image.fromarray(noisy_rgb(480, 640, rng)).save(scene / f"{frame}{clearpose.COLOR}")
        Image.fromarray((noisy_depth(480, 640, rng) * 1000).astype(np.uint16)).save(
            scene / f"{frame}{clearpose.DEPTH_TRUE}"
        )
        meta[frame] = {"camera_intrinsics": np.eye(3) * 600, "factor_depth": np.array([[1000]])}
    savemat(scene / clearpose.METADATA, meta)
    specs["clearpose (640x480 PNG + 16-bit PNG)"] = f"clearpose:{root / 'clearpose'}"
    from dkt_data_loading import write_fixture

    from transphy3d.dkt.published import export_render_output

    write_fixture(root / "render", 1, count, 832, 480)
    specs["render (832x480 PNG + float EXR)"] = f"render:{root / 'render'}"
    export_render_output(root / "render", root / "published")
    specs["published (832x480 PNG + 16-bit PNG in a tar)"] = f"published:{root / 'published'}"
    return specs


def decode_rate(spec: str) -> float:
    dataset = open_dataset(spec)
    frames = [frame for seq in dataset.sequences() for frame in seq.frames()]
    start = time.perf_counter()
    for frame in frames:
        _ = frame.rgb, frame.depth
    return len(frames) / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scan-frames", type=int, default=100_000)
    parser.add_argument("--decode-frames", type=int, default=8, help="frames per format for the decode rate")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    rng = np.random.Generator(np.random.PCG64(0))
    with tempfile.TemporaryDirectory() as tmp:
        root, cache = Path(tmp) / "scan", Path(tmp) / "cache"
        write_scan_tree(root, args.scan_frames)
        cold = startup(root, None)
        startup(root, cache)  # builds the cache
        warm = startup(root, cache)
        print(f"start-up, {args.scan_frames} frames in {args.scan_frames // SCENE_FRAMES} folders: "
              f"cold {cold:.2f} s, warm {warm:.2f} s (cached scan), ratio cold/warm {cold / warm:.1f}")  # fmt: skip
        specs = write_formats(Path(tmp) / "formats", args.decode_frames, rng)
        for name, spec in specs.items():
            print(f"decode {name}: {decode_rate(spec):.1f} frames/s per worker (rgb + depth)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
