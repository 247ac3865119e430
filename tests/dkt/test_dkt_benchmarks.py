"""The DKT benchmark scripts run (small sizes here) and the GPU one refuses without CUDA."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str):
    if str(BENCHMARKS) not in sys.path:  # the scripts import their shared helpers (_common) as run from there
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without CUDA")
def test_gpu_benchmark_refuses_without_cuda_and_smoke_runs(capsys: pytest.CaptureFixture[str]) -> None:
    bench = _load("dkt_gpu_step")
    assert bench.main([]) == 2
    assert "needs a CUDA GPU" in capsys.readouterr().err
    assert bench.main(["--smoke-cpu"]) == 0
    out = capsys.readouterr().out
    assert "s/step" in out and "ms/frame" in out


def test_data_loading_benchmark_small(capsys: pytest.CaptureFixture[str]) -> None:
    bench = _load("dkt_data_loading")
    assert (
        bench.main(
            [
                "--width",
                "32",
                "--height",
                "32",
                "--frames",
                "5",
                "--scenes",
                "1",
                "--scene-frames",
                "6",
                "--clips",
                "2",
                "--workers",
                "0",
                "--step-repeats",
                "1",
                "--gpu-step-seconds",
                "1.5",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "clips/s" in out and "ratio loader/step, 0 workers" in out and "1.50 s/clip GPU step" in out


def test_published_index_benchmark_small(capsys: pytest.CaptureFixture[str]) -> None:
    bench = _load("dkt_published_index")
    assert bench.main(["--sequences", "20", "--frames", "12", "--sample-sequences", "4"]) == 0
    out = capsys.readouterr().out
    assert "before:" in out and "B/frame of arrays" in out and "spawned worker receives" in out


def test_datasets_io_benchmark_small(capsys: pytest.CaptureFixture[str]) -> None:
    bench = _load("datasets_io")
    assert bench.main(["--scan-frames", "300", "--decode-frames", "1"]) == 0
    out = capsys.readouterr().out
    assert "start-up, 300 frames in 3 folders: cold" in out and "ratio cold/warm" in out
    assert out.count("frames/s per worker") == 6


def test_numerics_benchmark_small(capsys: pytest.CaptureFixture[str]) -> None:
    bench = _load("dkt_numerics")
    assert bench.main(["--frames", "1", "--size", "16"]) == 0
    out = capsys.readouterr().out
    assert "official vs exact fp32: latents max" in out and "exact, model in bf16 vs exact fp32" in out
