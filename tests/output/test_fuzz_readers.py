"""Byte-level fuzzing of every reader of the tool's input files: for each, a valid file is damaged
by random truncations, bit flips, random bytes, other text encodings, an empty file and an
oversized one (sparse). Each case must end normally or in one UserError line, within a time bound,
without changing any file, and the whole run within a memory bound. Seeded: the same cases on
every run, a bounded number per reader."""

from __future__ import annotations

import hashlib
import resource
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml
from helpers import CONFIGS, REPO, sampled_spec, save
from test_contract import write_fixture_scene

from transphy3d.errors import UserError
from transphy3d.files import write_json
from transphy3d.output import channels, contract
from transphy3d.output.reader import open_scene
from transphy3d.output.validate import validate_scene
from transphy3d.reading import MAX_TEXT_BYTES

SEED = 20240624
RANDOM_CASES = 16  # per reader, besides the fixed ones (empty, oversized, other encodings)
SECONDS_PER_CASE = 5.0
MEMORY_GROWTH_BYTES = 768 << 20


def mutations(data: bytes, text: bool, rng: np.random.Generator) -> list[tuple[str, bytes | int]]:
    """(name, damaged bytes or, for an oversized file, its size) cases of ``data``."""
    cases: list[tuple[str, bytes | int]] = [("empty", b""), ("oversized", MAX_TEXT_BYTES + 1)]
    if text:
        cases.append(("utf-16", data.decode("utf-8").encode("utf-16")))
        cases.append(("latin-1 inside", data[: len(data) // 2] + "é ü".encode("latin-1") + data[len(data) // 2 :]))
    for k in range(RANDOM_CASES):
        kind = ("truncated", "bit flips", "random bytes", "random splice")[k % 4]
        if kind == "truncated":
            damaged = data[: int(rng.integers(1, max(2, len(data))))]
        elif kind == "bit flips":
            array = bytearray(data)
            for _ in range(int(rng.integers(1, 9))):
                array[int(rng.integers(len(array)))] ^= 1 << int(rng.integers(8))
            damaged = bytes(array)
        elif kind == "random bytes":
            damaged = rng.integers(0, 256, len(data), dtype=np.uint8).tobytes()
        else:
            start = int(rng.integers(len(data)))
            damaged = data[:start] + rng.integers(0, 256, 64, dtype=np.uint8).tobytes() + data[start + 64 :]
        cases.append((f"{kind} {k}", damaged))
    return cases


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() and p.stat().st_size < 1 << 24 else str(p.stat().st_size)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }  # fmt: skip


# --------------------------------------------------------------------------------- the readers
def _scene_dir(tmp: Path) -> Path:
    write_fixture_scene(tmp / "scene_000000", frames=2)
    return tmp / "scene_000000"


def _frame_reader(name: str) -> Callable[[Path], object]:
    def read(path: Path) -> object:
        scene = path.parents[1] if name in channels.BY_NAME else path.parent
        assert validate_scene(scene) is not None  # the validator reports, never raises
        return open_scene(scene).frame(0)

    return read


def _folder(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def _text_file(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def reader_cases(tmp: Path) -> dict[str, tuple[Path, bool, Callable[[Path], object]]]:
    """name -> (a valid file to damage, whether it is text, the reader called on it)."""
    from transphy3d.farm.status import describe
    from transphy3d.output.records import read_index
    from transphy3d.pipeline import resolve_scene
    from transphy3d.scene.asset_bank import read_manifest
    from transphy3d.scene.config_loader import load_config
    from transphy3d.scene.meshes import load_static_mesh
    from transphy3d.scene.spec import StaticSource

    scene = _scene_dir(tmp)
    run = tmp / "run"
    run.mkdir()
    (run / contract.RUN_FILE).write_text(yaml.safe_dump({"run_seed": 0, "config_name": "tiny", "config_path": "x"}))
    (run / contract.INDEX_FILE).write_text('{"index": 0, "scene": "scene_000000", "seed": 5}\n' * 3)
    mesh = tmp / "mesh.ply"
    import trimesh

    trimesh.creation.icosphere(subdivisions=1).export(mesh)
    cases = {
        "scene config": (
            _text_file(tmp, "config.yaml", "base: tiny\ncamera:\n  frames: 2\n# a comment\n"),
            True,
            lambda p: load_config(p),
        ),
        "recorded scene.yaml": (
            save(sampled_spec(1), _folder(tmp / "recorded") / "scene.yaml"),
            True,
            lambda p: resolve_scene(p, None),
        ),
        "asset manifest": (
            _text_file(
                tmp,
                "bank.jsonl",
                "".join((REPO / "assets_manifest" / "starter.jsonl").read_text().splitlines(True)[:2]),
            ),
            True,
            read_manifest,
        ),
        "index.jsonl": (run / contract.INDEX_FILE, True, lambda p: (list(read_index(p)), describe(p.parent))),
        "run.yaml": (run / contract.RUN_FILE, True, lambda p: describe(p.parent)),
        "camera.json": (scene / contract.CAMERA_FILE, True, _frame_reader(contract.CAMERA_FILE)),
        "objects.json": (scene / contract.OBJECTS_FILE, True, _frame_reader(contract.OBJECTS_FILE)),
        "meta.json": (scene / contract.META_FILE, True, lambda p: validate_scene(p.parent)),
        "rgb png": (channels.frame_path(scene, channels.RGB, 0), False, _frame_reader(channels.RGB)),
        "mask png": (channels.frame_path(scene, channels.MASK, 0), False, _frame_reader(channels.MASK)),
        "depth exr": (channels.frame_path(scene, channels.DEPTH, 0), False, _frame_reader(channels.DEPTH)),
        "normal exr": (channels.frame_path(scene, channels.NORMAL, 0), False, _frame_reader(channels.NORMAL)),
        "mesh": (mesh, False, lambda p: load_static_mesh(StaticSource(asset_id="a", file=str(p), size=0.1))),
    }
    assert CONFIGS.is_dir()
    return cases


def weight_cases(tmp: Path) -> dict[str, tuple[Path, bool, Callable[[Path], object]]]:
    """The trainer's and inference's inputs: safetensors, a trainer state, JSON configs, a video."""
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    from transphy3d.dkt.model import DKTConfig
    from transphy3d.dkt.videoio import read_frames, write_mp4
    from transphy3d.dkt.weights_files import load_safetensors, load_torch_state
    from transphy3d.reading import read_json_object

    save_file({"weight": torch.ones(4, 8), "bias": torch.zeros(4)}, str(tmp / "lora.safetensors"))
    torch.save({"step": 3, "optimizer": {"state": {}, "param_groups": []}, "rng": (1, 2)}, tmp / "state.pt")
    write_json(tmp / "config.json", {"_class_name": "WanTransformer3DModel", "num_layers": 2, "in_channels": 16})
    DKTConfig().save(tmp)
    write_mp4(tmp / "clip.mp4", np.full((3, 16, 16, 3), 100, np.uint8), 8.0)
    return {
        "safetensors": (tmp / "lora.safetensors", False, load_safetensors),
        "trainer state": (tmp / "state.pt", False, load_torch_state),
        "base config.json": (tmp / "config.json", True, read_json_object),
        "dkt.json": (tmp / "dkt.json", True, lambda p: DKTConfig.load(p.parent)),
        "video": (tmp / "clip.mp4", False, read_frames),
    }


def _check(name: str, case: str, read: Callable[[Path], object], path: Path, folder: Path) -> None:
    before = _snapshot(folder)
    start = time.perf_counter()
    try:
        read(path)
    except UserError as error:
        message = str(error)
        assert message.strip() and "\n" not in message, (name, case, message)
    seconds = time.perf_counter() - start
    assert seconds < SECONDS_PER_CASE, (name, case, seconds)
    assert _snapshot(folder) == before, (name, case)


def _fuzz(cases: dict[str, tuple[Path, bool, Callable[[Path], object]]], folder: Path) -> int:
    rng = np.random.default_rng(SEED)
    count = 0
    for name, (path, text, read) in cases.items():
        original = path.read_bytes()
        read(path)  # the valid file reads: the damaged ones below test the reader, not the fixture
        for case, damaged in mutations(original, text, rng):
            if isinstance(damaged, int):
                path.write_bytes(b"")
                with open(path, "r+b") as handle:
                    handle.truncate(damaged)  # sparse: no disk used
            else:
                path.write_bytes(damaged)
            _check(name, case, read, path, folder)
            count += 1
        path.write_bytes(original)
    return count


def test_every_input_reader_survives_damaged_bytes(tmp_path: Path) -> None:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    count = _fuzz(reader_cases(tmp_path), tmp_path)
    assert count == 13 * (RANDOM_CASES + 2) + 8 * 2
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - peak < MEMORY_GROWTH_BYTES


def test_every_weight_and_video_reader_survives_damaged_bytes(tmp_path: Path) -> None:
    cases = weight_cases(tmp_path)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    count = _fuzz(cases, tmp_path)
    assert count == 5 * (RANDOM_CASES + 2) + 2 * 2
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - peak < MEMORY_GROWTH_BYTES


def test_a_damaged_exr_leaves_only_the_one_line(tmp_path: Path) -> None:
    """OpenEXR's C core prints its own complaints to stdout and stderr; only ours remains."""
    import subprocess
    import sys

    scene = _scene_dir(tmp_path)
    path = channels.frame_path(scene, channels.DEPTH, 0)
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF  # inside the compressed pixels: the header still reads
    path.write_bytes(bytes(data))
    code = (
        "import sys\nfrom transphy3d.output.reader import open_scene\nprint('before')\n"
        "try:\n    open_scene(sys.argv[1]).frame(0)\nexcept ValueError as error:\n    print(error, file=sys.stderr)\n"
        "print('after')\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(scene)], capture_output=True, text=True, timeout=60)
    assert result.stdout == "before\nafter\n", result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{path}: not a readable OpenEXR file"), result.stderr


def test_validate_names_a_torn_scene_json(tmp_path: Path) -> None:
    from helpers import run_cli

    scene = _scene_dir(tmp_path)
    camera = scene / contract.CAMERA_FILE
    data = camera.read_bytes()
    camera.write_bytes(data[: len(data) // 2])  # a copy killed mid-file
    result = run_cli("validate", str(tmp_path))
    assert result.returncode == 1, result.stderr
    assert f"scene_000000: cannot read the scene's JSON files: {camera}: not JSON" in result.stdout, result.stdout
    assert camera.read_bytes() == data[: len(data) // 2]
