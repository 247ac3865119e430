"""DKT data loading against the training step it must feed, measured side by side in one run.

    python benchmarks/dkt_data_loading.py                     # 832x480, F = 21, workers 0, 1, 2
    python benchmarks/dkt_data_loading.py --gpu-step-seconds 2.5

1. Writes a fixture render output (data contract: 8-bit RGB PNG, float32 depth EXR, half normal
   EXR, 16-bit mask PNG) of ``--scenes`` scenes x ``--scene-frames`` frames at the training
   resolution, with image statistics that do not compress unrealistically well (smooth shading
   plus noise).
2. Clips per second of the training DataLoader (``ClipDataset`` + ``MixtureSampler``, F fixed, one
   clip per micro-batch) with 0, 1 and 2 worker processes.
3. Seconds per clip of one training micro-step of ``train-dkt``'s code (``Trainer.train_step``:
   two VAE encodes, forward, backward, AdamW) on this machine with the tiny random Wan model
   (``--step-preset tiny``, the only size a 2-core CPU can run at 832x480, F = 21), or with a real
   base directory on a GPU (``--base PATH``).
4. Ratios: loader clips/s x step seconds/clip; >= 1 means the loader keeps up. ``--gpu-step-seconds``
   adds the ratio against a GPU step time measured elsewhere (``dkt_gpu_step.py``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def write_fixture(root: Path, scenes: int, frames: int, width: int, height: int, seed: int = 0) -> Path:
    from transphy3d.files import write_json
    from transphy3d.output import channels, contract, frame_files
    from transphy3d.output.png import write_rgb_png

    rng = np.random.Generator(np.random.PCG64(seed))
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    K = np.array([[width, 0, width / 2 - 0.5], [0, width, height / 2 - 0.5], [0, 0, 1.0]])
    for s in range(scenes):
        path = root / f"scene_{s:06d}"
        for kind in ("rgb", "depth", "normal", "mask"):
            (path / kind).mkdir(parents=True, exist_ok=True)
        write_json(
            path / contract.CAMERA_FILE,
            contract.CameraFile.from_arrays(width, height, 24.0, K, [np.eye(4)] * frames, 0.01, 100.0).to_json(),
        )
        write_json(path / contract.OBJECTS_FILE, {"format_version": 1, "objects": [], "environment": []})
        write_json(path / contract.META_FILE, {})
        (path / contract.SCENE_SPEC_FILE).write_text("seed: 0\n", encoding="utf-8")
        for t in range(frames):
            cx, cy = (0.3 + 0.01 * t) * width, (0.4 + 0.1 * s) * height
            disc = (cols - cx) ** 2 + (rows - cy) ** 2 < (0.2 * height) ** 2
            depth = np.where(disc, 0.7, 1.2 + rows / height).astype(np.float32)
            shade = np.clip((2.5 - depth) / 2.0, 0, 1)[..., None]
            noise = rng.normal(0.0, 0.03, size=(height, width, 3))
            rgb = np.clip(shade * np.array([0.9, 0.7, 0.5]) + noise, 0, 1)
            normal = np.zeros((height, width, 3), np.float32)
            normal[..., 2] = -1.0
            write_rgb_png(channels.frame_path(path, "rgb", t), np.round(rgb * 255).astype(np.uint8))
            frame_files.write_depth(channels.frame_path(path, "depth", t), depth)
            frame_files.write_normal(channels.frame_path(path, "normal", t), normal)
            frame_files.write_mask(channels.frame_path(path, "mask", t), disc.astype(np.uint16))
    return root


def loader_rate(root: Path, width: int, height: int, frames: int, workers: int, clips: int) -> float:
    """Clips per second of the training DataLoader after its first batch."""
    from transphy3d.dkt.mixture import MixtureSampler, build_mixture, make_loader
    from transphy3d.dkt.settings import ClipSettings, FrameSettings
    from transphy3d.dkt.sources import SourceSpec

    dataset, weights, _ = build_mixture(
        [SourceSpec(kind="render", path=str(root))], ClipSettings(resolution=(width, height))
    )
    sampler = MixtureSampler(dataset.sources, weights, FrameSettings.fixed(frames), micro_batch=1, seed=0)
    loader = iter(make_loader(dataset, sampler, start=0, count=clips + 1, num_workers=workers))
    next(loader)  # worker start-up and the first clip
    start = time.perf_counter()
    count = sum(1 for _ in loader)
    return count / (time.perf_counter() - start)


def step_seconds(root: Path, base: Path, width: int, height: int, frames: int, repeats: int) -> float:
    """Median seconds of ``Trainer.train_step`` with one clip per step (loading not included)."""
    from transphy3d.dkt.mixture import make_loader
    from transphy3d.dkt.settings import ClipSettings, FrameSettings, LoraSettings, TrainSettings
    from transphy3d.dkt.sources import SourceSpec
    from transphy3d.dkt.train import Trainer

    settings = TrainSettings(
        base=str(base),
        out=str(root.parent / "run"),
        data=[SourceSpec(kind="render", path=str(root))],
        clip=ClipSettings(resolution=(width, height)),
        frames=FrameSettings.fixed(frames),
        lora=LoraSettings(rank=32, alpha=32.0),
        batch_size=1,
        micro_batch_size=1,
        max_steps=repeats + 1,
        num_workers=0,
        gradient_checkpointing=torch.cuda.is_available(),
    )
    trainer = Trainer(settings, log=lambda _m: None)
    trainer.setup()
    batches = list(make_loader(trainer.dataset, trainer.sampler, 0, repeats + 1))
    times = []
    for i, batch in enumerate(batches):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        trainer.train_step(iter([batch]))
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        if i:
            times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--width", type=int, default=832)
    p.add_argument("--height", type=int, default=480)
    p.add_argument("--frames", type=int, default=21, help="clip length F (4N+1)")
    p.add_argument("--scenes", type=int, default=2)
    p.add_argument("--scene-frames", type=int, default=30)
    p.add_argument("--clips", type=int, default=12, help="clips timed per loader setting")
    p.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--base", default=None, help="a Wan 2.1 base directory; default: a tiny random one")
    p.add_argument("--step-repeats", type=int, default=3)
    p.add_argument(
        "--gpu-step-seconds",
        type=float,
        default=None,
        help="a GPU training step time (s per clip) to compare the loader with",
    )
    p.add_argument("--keep", default=None, help="write the fixture here and keep it")
    args = p.parse_args(argv)

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="dkt-bench-"))
    try:
        start = time.perf_counter()
        root = write_fixture(work / "render", args.scenes, args.scene_frames, args.width, args.height)
        size = sum(f.stat().st_size for f in root.rglob("*") if f.is_file()) / 1e6
        print(
            f"fixture: {args.scenes} scenes x {args.scene_frames} frames at {args.width}x{args.height}, "
            f"{size:.0f} MB, written in {time.perf_counter() - start:.1f} s; torch threads "
            f"{torch.get_num_threads()}, CPUs {len(__import__('os').sched_getaffinity(0))}"
        )
        rates = {}
        for workers in args.workers:
            rates[workers] = loader_rate(root, args.width, args.height, args.frames, workers, args.clips)
            print(
                f"loader  F = {args.frames}, {workers} workers: {rates[workers]:.2f} clips/s "
                f"({1 / rates[workers]:.2f} s/clip)"
            )
        base = Path(args.base) if args.base else None
        if base is None:
            from transphy3d.dkt.random_wan import build_random_wan

            base = build_random_wan(work / "tiny-wan")
        step = step_seconds(root, base, args.width, args.height, args.frames, args.step_repeats)
        where = "GPU" if torch.cuda.is_available() else "this CPU"
        print(
            f"train step on {where} ({'tiny random Wan' if args.base is None else base}), F = {args.frames}, "
            f"1 clip: {step:.2f} s/clip"
        )
        best = max(rates, key=rates.get)
        for workers, rate in rates.items():
            note = f"; no overlap: loading adds {1 / rate:.2f} s to every {step:.2f} s step" if workers == 0 else ""
            print(f"ratio loader/step, {workers} workers: {rate * step:.2f} (>= 1: the loader keeps up{note})")
        print(f"the best loader ({best} workers) feeds any step of {1 / rates[best]:.2f} s/clip or more")
        if args.gpu_step_seconds:
            ratio = rates[best] * args.gpu_step_seconds
            print(
                f"ratio against a {args.gpu_step_seconds:.2f} s/clip GPU step, {best} workers: {ratio:.2f}; "
                f"clips/s needed per GPU: {1 / args.gpu_step_seconds:.2f}"
            )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
